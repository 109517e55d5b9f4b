"""The organisation's team map, decisions and action plan as spreadsheet sheets.

Only what the team map already shows is exported: names only for members who
shared with their name, anonymous positionings only inside the aggregates, through
the team's anonymous pool (shown from ANONYMOUS_MIN shares on, changing by batches of at least
ANONYMOUS_BATCH new shares, withheld after a departure until the next batch, perturbed: the
TeamMap enforces it). Figures that count the pool are flagged as approximate.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from django.db.models import TextChoices
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from grille.core.people import person_label
from grille.core.tabular.writing import Exporter, Sheet

from .enums import ActionStatus, DecisionMode, PartnerType
from .models import ActionItem, Decision, Organisation
from .team import ANONYMOUS_BATCH, ANONYMOUS_MIN, TeamMap


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def choice_label(choices: type[TextChoices], value: str) -> str:
    """The label of a stored choice; a value no longer in the enum is shown as is."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _yes_no(value: bool) -> str:
    return _("oui") if value else _("non")


def confidentiality_note() -> str:
    return _(
        "Les contributions anonymes n'apparaissent que dans les totaux, et seulement à partir de "
        "%(min)d. Elles y entrent par lots d'au moins %(batch)d nouveaux partages ; après un retrait "
        "ou un départ, elles n'y sont plus montrées jusqu'au lot suivant. Les chiffres qui les "
        "comptent sont approchés : arrondis par une légère perturbation aléatoire pour protéger "
        "les personnes, sans les effectifs anonymes de moins de %(min)d."
    ) % {"min": ANONYMOUS_MIN, "batch": ANONYMOUS_BATCH}


def ordered_decisions(team_map: TeamMap, decisions: Mapping[int, Decision] | Iterable[Decision]) -> list[Decision]:
    """Decisions in the grid's order, whether given as selectors.decisions_of's dict or as a list."""
    items = decisions.values() if isinstance(decisions, Mapping) else decisions
    position = {p.id: i for i, p in enumerate(team_map.grid.practices)}
    return sorted(items, key=lambda d: position.get(d.practice_id, len(position)))


def partner_type_labels(decision: Decision) -> list[str]:
    return [choice_label(PartnerType, t) for t in decision.partner_types]


class TeamExporter(Exporter):
    """« À propos », « Équipe », « Pratiques », « Arbitrages » and « Plan d'action »."""

    csv_sheet = "pratiques"

    def __init__(
        self,
        organisation: Organisation,
        team_map: TeamMap,
        decisions: Mapping[int, Decision] | Iterable[Decision],
        actions: Iterable[ActionItem],
        *,
        now: datetime | None = None,
    ):
        self.organisation = organisation
        self.team_map = team_map
        self.decisions = ordered_decisions(team_map, decisions)
        self.actions = list(actions)
        self.now = now or timezone.now()
        stem = slugify(organisation.name)[:60].strip("-") or "structure"
        self.filename = f"equipe-{stem}-{timezone.localdate(self.now).isoformat()}"

    def sheets(self) -> Iterator[Sheet]:
        yield self.about_sheet()
        yield self.team_sheet()
        yield self.practices_sheet()
        yield self.decisions_sheet()
        yield self.actions_sheet()

    def about_sheet(self) -> Sheet:
        team_map, grid = self.team_map, self.team_map.grid
        rows: list[list[object]] = [
            [_("Structure"), self.organisation.name],
            [_("Grille"), f"{grid.title} ({_('version')} {grid.version_code})"],
            [_("Date de l'export"), self.now],
            [_("Contributions"), team_map.contribution_count],
            [_("Contributions nominatives"), team_map.named_count],
            [_("Contributions anonymes comptées"), team_map.anonymous_count],
            [_("Partages anonymes en attente"), team_map.anonymous_pending],
            [_("Chiffres approchés"), _yes_no(team_map.approximate)],
            [_("Confidentialité"), confidentiality_note()],
        ]
        return Sheet(_("À propos"), [_("Rubrique"), _("Valeur")], rows, name="a-propos", widths=[32, 80])

    def team_sheet(self) -> Sheet:
        team_map, grid = self.team_map, self.team_map.grid
        header = [_("Membre"), _("Code"), _("Pratique"), grid.level.label, grid.wish.label, grid.carrying.label]

        def rows() -> Iterator[list]:
            # Named contributors only: anonymous positionings never get a row of their own.
            for contributor in team_map.contributors:
                for practice in grid.practices:
                    cell = team_map.matrix.get((contributor.assessment_id, practice.id), {})
                    yield [
                        contributor.name,
                        practice.code,
                        practice.label,
                        *(option.label if (option := cell.get(role)) else "" for role in ("level", "wish", "carrying")),
                    ]

        return Sheet(_("Équipe"), header, rows(), name="equipe", widths=[28, 8, 60, 28, 22, 30])

    def practices_sheet(self) -> Sheet:
        team_map, grid = self.team_map, self.team_map.grid
        levels = grid.level.options
        header = [
            _("Code"), _("Pratique"), _("Situation"), _("Contributions"), _("Moyenne"), _("Écart-type"),
            _("Réguliers"), _("Souhait de développement"), _("Partenariat"),
            *(f"{grid.level.label} : {option.label}" for option in levels), _("Chiffres approchés"),
        ]
        situations = {s.code: s.label for s in grid.situations}

        def rows() -> Iterator[list]:
            for stats in team_map.practices:
                practice = stats.practice
                yield [
                    practice.code, practice.label, f"{practice.situation_code}. {situations.get(practice.situation_code, '')}",
                    stats.answered, _round(stats.mean), _round(stats.spread), stats.regular, stats.wish,
                    stats.partnership, *(stats.levels.get(option.id, 0) for option in levels),
                    _yes_no(stats.approximate),
                ]

        return Sheet(_("Pratiques"), header, rows(), name="pratiques", widths=[8, 60, 36])

    def decisions_sheet(self) -> Sheet:
        grid = self.team_map.grid
        practices = {p.id: p for p in grid.practices}
        header = [
            _("Code"), _("Pratique"), _("Arbitrage"), _("Types de partenaires"), _("Partenaires locaux"), _("Note"),
            _("Modifié par"), _("Le"),
        ]

        def rows() -> Iterator[list]:
            for decision in self.decisions:
                practice = practices.get(decision.practice_id)
                yield [
                    practice.code if practice else "",
                    practice.label if practice else "",
                    choice_label(DecisionMode, decision.mode),
                    ", ".join(partner_type_labels(decision)),
                    decision.partners,
                    decision.note,
                    person_label(decision.updated_by) if decision.updated_by else "",
                    decision.updated_at,
                ]

        return Sheet(_("Arbitrages"), header, rows(), name="arbitrages", widths=[8, 50, 24, 36, 36, 60, 24, 20])

    def actions_sheet(self) -> Sheet:
        position = {p.id: i for i, p in enumerate(self.team_map.grid.practices)}
        header = [_("Action"), _("Pratiques"), _("Responsable"), _("Échéance"), _("Statut"), _("En retard")]

        def rows() -> Iterator[list]:
            for action in self.actions:
                practices = sorted(action.practices.all(), key=lambda p: position.get(p.id, len(position)))
                yield [
                    action.title,
                    ", ".join(p.code for p in practices),
                    person_label(action.owner.user) if action.owner else "",
                    action.due_date,
                    choice_label(ActionStatus, action.status),
                    _yes_no(action.is_overdue),
                ]

        return Sheet(_("Plan d'action"), header, rows(), name="plan-action", widths=[50, 18, 28, 12, 12, 10])
