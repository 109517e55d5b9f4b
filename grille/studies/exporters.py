"""Study exports for statisticians: the microdata with its codebook, and the aggregated tables.

Microdata: one row per completed respondent, identified by their pseudonym only (never an
e-mail: invitees are another table, and the exporter never reads it). Rows stream out in
chunks of respondents, with one query per chunk for the answers and one for the profile, so
a wave of thousands of respondents neither loads into memory nor costs a query per person.

Aggregates: exactly the figures the dashboard shows, suppressed cells written « s ».
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from typing import IO, Any

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from grille.assessments.models import Answer
from grille.core.tabular.writing import Exporter, Sheet, write_csv, write_xlsx_to
from grille.disclosure.cells import SUPPRESSED_MARK, Cell
from grille.disclosure.labels import protection_note
from grille.frameworks import grid as g
from grille.frameworks.selectors import get_grid

from .dashboard import Dashboard, MeanCell, completed_respondents, hidden_reason, pending_note
from .enums import QuestionKind
from .models import Campaign, ProfileAnswer, ProfileQuestion

DEFAULT_CHUNK_SIZE = 2000
MEAN_DIGITS = 3
SHARE_DIGITS = 1


def synthetic_notice() -> str:
    return _("DONNÉES FICTIVES — générées pour essayer Grille")


def secrecy_note(k: int) -> str:
    return protection_note(k)


def _stem(campaign: Campaign) -> str:
    stem = slugify(campaign.name)[:60].strip("-") or "etude"
    return f"{stem}-{campaign.wave_year}" + ("-donnees-fictives" if campaign.synthetic else "")


def microdata_filename(campaign: Campaign) -> str:
    return f"microdonnees-{_stem(campaign)}"


def aggregates_filename(campaign: Campaign) -> str:
    return f"agregats-{_stem(campaign)}"


def _values_text(pairs: Iterable[tuple[object, object]]) -> str:
    return " ; ".join(f"{code} = {label}" for code, label in pairs)


@dataclass(frozen=True)
class Variable:
    """One column of the microdata and its codebook entry."""

    name: str
    label: str
    kind: str
    values: str = ""


class MicrodataExporter(Exporter):
    """« Microdonnées » (one row per completed respondent) and « Dictionnaire » (the codebook).

    Columns: ``id`` (pseudonym), ``synthetique``, ``soumis_le``, one column per single-choice
    profile question (option code) and one 0/1 column per option of a multiple-choice one
    (``<question>__<option>``), then per practice ``p<code>_niveau`` (level value, empty for
    « Non concerné·e » or no answer), ``p<code>_nc``, ``p<code>_souhait`` (wish value) and
    ``p<code>_portage`` (carrying option code).
    """

    csv_sheet = "microdonnees"

    def __init__(self, campaign: Campaign, *, chunk_size: int = DEFAULT_CHUNK_SIZE):
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.campaign = campaign
        self.chunk_size = chunk_size
        self.grid: g.Grid = get_grid(campaign.version_id)
        self.questions = list(ProfileQuestion.objects.filter(campaign=campaign).order_by("position", "id"))
        self.filename = microdata_filename(campaign)
        self.variables = self._variables()
        self._options = {
            role: {o.id: o for o in self.grid.dimensions[role].options} for role in ("level", "wish", "carrying")
        }

    # -- columns ----------------------------------------------------------------------------

    def _variables(self) -> list[Variable]:
        grid = self.grid
        missing = _("vide = sans réponse")
        variables = [
            Variable("id", _("Identifiant pseudonyme du répondant (propre à la campagne)"), _("texte")),
            Variable(
                "synthetique", _("Données fictives générées par Grille"), _("binaire (0/1)"),
                _("0 = réponse réelle ; 1 = donnée fictive"),
            ),
            Variable("soumis_le", _("Date d'envoi du positionnement (heure de Paris)"), _("date (AAAA-MM-JJ)")),
        ]
        for question in self.questions:
            if question.kind == QuestionKind.MULTIPLE:
                for code, label in question.options:
                    variables.append(Variable(
                        f"{question.code}__{code}", f"{question.label} : {label}", _("binaire (0/1)"),
                        _("0 = non choisi ; 1 = choisi ; vide = question sans réponse"),
                    ))
            else:
                variables.append(Variable(
                    question.code, question.label, _("catégorielle (code)"),
                    f"{_values_text(question.options)} ; {missing}",
                ))
        level, wish, carrying = grid.level, grid.wish, grid.carrying
        scored_levels = [(o.value, o.label) for o in level.options if o.value is not None]
        not_concerned = " / ".join(o.label for o in level.options if o.value is None)
        wish_values = [(o.value if o.value is not None else o.code, o.label) for o in wish.options]
        for practice in grid.practices:
            name = f"{practice.code} {practice.label}"
            prefix = f"p{practice.code}"
            variables += [
                Variable(
                    f"{prefix}_niveau", f"{name} — {level.label}", _("ordinale (entier)"),
                    f"{_values_text(scored_levels)} ; "
                    + _("vide = %(nc)s ou sans réponse") % {"nc": not_concerned},
                ),
                Variable(
                    f"{prefix}_nc", f"{name} — {not_concerned}", _("binaire (0/1)"),
                    _("1 = %(nc)s ; 0 = niveau renseigné ; vide = sans réponse") % {"nc": not_concerned},
                ),
                Variable(
                    f"{prefix}_souhait", f"{name} — {wish.label}", _("ordinale (entier)"),
                    f"{_values_text(wish_values)} ; {missing}",
                ),
                Variable(
                    f"{prefix}_portage", f"{name} — {carrying.label}", _("catégorielle (code)"),
                    f"{_values_text((o.code, o.label) for o in carrying.options)} ; {missing}",
                ),
            ]
        return variables

    @property
    def header(self) -> list[str]:
        return [v.name for v in self.variables]

    # -- sheets -----------------------------------------------------------------------------

    def sheets(self) -> Iterator[Sheet]:
        yield Sheet(_("Microdonnées"), self.header, self.rows(), name="microdonnees")
        yield self.codebook_sheet()

    def codebook_sheet(self) -> Sheet:
        rows: list[list[str]] = []
        if self.campaign.synthetic:
            rows.append([synthetic_notice(), "", "", ""])
        rows += [[v.name, v.label, v.kind, v.values] for v in self.variables]
        return Sheet(
            _("Dictionnaire"), [_("Variable"), _("Libellé"), _("Type"), _("Valeurs")], rows,
            name="dictionnaire", widths=[22, 60, 20, 80],
        )

    def rows(self) -> Iterator[list]:
        """The microdata rows, chunk by chunk: one query for the respondents (iterated), then
        one for the answers and one for the profile answers of each chunk."""
        respondents = (
            completed_respondents(self.campaign)
            .order_by("pk")
            .values_list("pk", "pseudonym", "synthetic", "assessment_id", "assessment__submitted_at")
            .iterator(chunk_size=self.chunk_size)
        )
        while chunk := list(islice(respondents, self.chunk_size)):
            yield from self._chunk_rows(chunk)

    def _chunk_rows(self, chunk: list[tuple]) -> Iterator[list]:
        practices, options = self.grid.practices, self._options
        answers: dict[int, dict[int, tuple]] = defaultdict(dict)
        for assessment_id, practice_id, level_id, wish_id, carrying_id in (
            Answer.objects.filter(assessment_id__in=[r[3] for r in chunk])
            .values_list("assessment_id", "practice_id", "level_id", "wish_id", "carrying_id")
            .order_by()
        ):
            answers[assessment_id][practice_id] = (level_id, wish_id, carrying_id)
        profile: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        for respondent_id, question_id, option in (
            ProfileAnswer.objects.filter(respondent_id__in=[r[0] for r in chunk])
            .values_list("respondent_id", "question_id", "option")
            .order_by()
        ):
            profile[respondent_id][question_id].add(option)

        synthetic = self.campaign.synthetic
        for pk, pseudonym, respondent_synthetic, assessment_id, submitted_at in chunk:
            row: list = [
                pseudonym,
                int(synthetic or respondent_synthetic),
                timezone.localdate(submitted_at) if submitted_at else None,
            ]
            chosen = profile.get(pk, {})
            for question in self.questions:
                picked = chosen.get(question.id)
                if question.kind == QuestionKind.MULTIPLE:
                    row += [None if picked is None else int(code in picked) for code, _label in question.options]
                else:
                    # A single-choice question holds one option; sorted keeps a corrupt row stable.
                    row.append(sorted(picked)[0] if picked else None)
            given = answers.get(assessment_id, {})
            for practice in practices:
                level_id, wish_id, carrying_id = given.get(practice.id, (None, None, None))
                level = options["level"].get(level_id)
                wish = options["wish"].get(wish_id)
                carrying = options["carrying"].get(carrying_id)
                row += [
                    level.value if level else None,
                    None if level is None else int(level.value is None),
                    (wish.value if wish.value is not None else wish.code) if wish else None,
                    carrying.code if carrying else None,
                ]
            yield row


class CountingExporter(Exporter):
    """The same sheets, with the rows of the main one counted as the engine writes them."""

    def __init__(
        self, inner: Exporter, on_row: Callable[[Iterable[Sequence[Any]]], Iterator[Sequence[Any]]]
    ) -> None:
        self.inner = inner
        self.on_row = on_row
        self.filename = inner.filename
        self.csv_sheet = inner.csv_sheet

    def sheets(self) -> Iterator[Sheet]:
        for sheet in self.inner.sheets():
            yield replace(sheet, rows=self.on_row(sheet.rows)) if sheet.name == self.csv_sheet else sheet


def write_export(exporter: Exporter, fmt: str, out: IO[bytes]) -> None:
    """Write an export to a binary file: its CSV sheet as CSV, or every sheet as XLSX."""
    if fmt == "csv":
        for chunk in write_csv(exporter.sheet()):
            out.write(chunk.encode("utf-8"))
    else:
        write_xlsx_to(out, exporter)


# --- Aggregates ------------------------------------------------------------------------------

def _rounded(value: float | None, digits: int = MEAN_DIGITS) -> float | None:
    return None if value is None else round(value, digits)


def _mean_cells(mean: MeanCell) -> list:
    """Mean, CI low, CI high and n, or four « s »."""
    if mean.suppressed:
        return [SUPPRESSED_MARK] * 4
    return [_rounded(mean.mean), _rounded(mean.low), _rounded(mean.high), mean.n]


def _share(cell: Cell, total: Cell) -> float | str | None:
    if cell.suppressed or total.suppressed:
        return SUPPRESSED_MARK
    if not total.value:
        return None
    return round(100 * cell.number / total.value, SHARE_DIGITS)


def filter_labels(campaign: Campaign, filters: dict[str, str]) -> list[str]:
    """« Question : option » for each filter of a dashboard, in the questions' order."""
    if not filters:
        return []
    questions = {q.code: q for q in ProfileQuestion.objects.filter(campaign=campaign, code__in=list(filters))}
    labels = []
    for code, option in filters.items():
        question = questions.get(code)
        labels.append(f"{question.label} : {question.option_label(option)}" if question else f"{code} : {option}")
    return labels


class AggregatesExporter(Exporter):
    """The dashboard's tables as sheets: « À propos », « Situations », « Axes », « Pratiques »,
    and « Segments » when the dashboard compares segments. Suppressed figures are « s »."""

    csv_sheet = "pratiques"

    def __init__(self, campaign: Campaign, dashboard: Dashboard, *, now: datetime | None = None):
        self.campaign = campaign
        self.dashboard = dashboard
        self.now = now or timezone.now()
        self.filename = aggregates_filename(campaign)

    def sheets(self) -> Iterator[Sheet]:
        yield self.about_sheet()
        yield self.mean_sheet(_("Situations"), "situations", _("Situation"), self.dashboard.situations)
        yield self.mean_sheet(_("Axes"), "axes", _("Axe"), self.dashboard.axes)
        yield self.practices_sheet()
        if self.dashboard.compare is not None:
            yield self.segments_sheet(self.dashboard.compare)

    def _notes(self, width: int) -> list[list]:
        pad = [""] * (width - 1)
        notes = [[""] * width, [secrecy_note(self.dashboard.k), *pad]]
        if self.campaign.synthetic:
            notes.append([synthetic_notice(), *pad])
        return notes

    def about_sheet(self) -> Sheet:
        campaign, dashboard, grid = self.campaign, self.dashboard, self.dashboard.grid
        rows: list[list] = []
        if campaign.synthetic:
            rows.append([_("Données fictives"), synthetic_notice()])
        rows += [
            [_("Campagne"), campaign.name],
            [_("Vague"), campaign.wave_year],
            [_("Grille"), f"{grid.title} ({_('version')} {grid.version_code})"],
            [_("Ouverture"), campaign.opens_at],
            [_("Clôture"), campaign.closes_at],
            [_("Date de l'export"), self.now],
            [_("Répondants retenus"), SUPPRESSED_MARK if dashboard.population_suppressed else dashboard.respondents],
            [_("Seuil de diffusion (k)"), dashboard.k],
            [_("Filtres appliqués"), " ; ".join(filter_labels(campaign, dashboard.filters)) or _("aucun (tous les répondants)")],
        ]
        if dashboard.compare is not None:
            rows.append([_("Comparaison par"), dashboard.compare.label])
            if dashboard.comparison_reason:
                rows.append([_("Segments"), hidden_reason(dashboard, comparison=True)])
        if dashboard.population_suppressed:
            rows.append([_("Diffusion"), hidden_reason(dashboard)])
        if dashboard.pending:
            rows.append([_("En attente"), pending_note(dashboard)])
        rows += [
            [_("Secret statistique"), secrecy_note(dashboard.k)],
            [
                _("Moyennes"),
                _(
                    "Niveaux de pratique de 0 à %(max)d, « Non concerné·e » exclu ; par situation et par axe, "
                    "score de chaque répondant (moyenne de ses niveaux, arrondie au tiers) puis moyenne entre "
                    "répondants ; intervalle de confiance à 95 %% (loi de Student)."
                ) % {"max": grid.level.max_value},
            ],
        ]
        return Sheet(_("À propos"), [_("Rubrique"), _("Valeur")], rows, name="a-propos", widths=[28, 90])

    def mean_sheet(self, title: str, name: str, kind: str, items: list[tuple]) -> Sheet:
        header = [_("Code"), kind, _("Moyenne"), _("IC 95 % bas"), _("IC 95 % haut"), _("n")]

        def rows() -> Iterator[list]:
            for item, mean in items:
                yield [item.code, item.label, *_mean_cells(mean)]
            yield from self._notes(len(header))

        return Sheet(title, header, rows(), name=name, widths=[8, 50, 10, 12, 12, 8])

    def practices_sheet(self) -> Sheet:
        grid = self.dashboard.grid
        levels = grid.level.options
        header = [
            _("Code"), _("Pratique"), _("Situation"), _("Réponses"),
            *(f"n : {o.label}" for o in levels),
            *(f"% : {o.label}" for o in levels),
            _("Souhait de développement (n)"), _("Partenariat (n)"),
            _("Moyenne"), _("IC 95 % bas"), _("IC 95 % haut"), _("n (moyenne)"),
        ]

        def rows() -> Iterator[list]:
            for row in self.dashboard.practices:
                yield [
                    row.practice.code, row.practice.label, row.practice.situation_code, row.answered.display,
                    *(cell.display for _option, cell in row.levels),
                    *(_share(cell, row.answered) for _option, cell in row.levels),
                    row.wish.display, row.partnership.display, *_mean_cells(row.mean),
                ]
            yield from self._notes(len(header))

        return Sheet(_("Pratiques"), header, rows(), name="pratiques", widths=[8, 50, 9, 10])

    def segments_sheet(self, compare: ProfileQuestion) -> Sheet:
        dashboard = self.dashboard
        situations = dashboard.grid.situations
        header = [
            compare.label, _("Répondants"),
            *(_("Moyenne %(code)s. %(label)s") % {"code": s.code, "label": s.label} for s in situations),
        ]

        def rows() -> Iterator[list]:
            for segment in dashboard.segments:
                means = dashboard.segment_situations.get(segment.code, {})
                yield [
                    segment.label,
                    SUPPRESSED_MARK if segment.suppressed else segment.size,
                    *(
                        SUPPRESSED_MARK if segment.suppressed else _segment_mean(means.get(s.code))
                        for s in situations
                    ),
                ]
            yield from self._notes(len(header))

        return Sheet(_("Segments"), header, rows(), name="segments", widths=[40, 12])


def _segment_mean(mean: MeanCell | None) -> float | str | None:
    if mean is None:
        return None
    return SUPPRESSED_MARK if mean.suppressed else _rounded(mean.mean)
