"""The study dashboard and response tracking.

Every figure about respondents comes from the aggregation core and passes the disclosure layer
(grille/disclosure): counts perturbed by the cell key method, hidden below k, every other figure
derived from the published counts. Results are read from the campaign's released respondents
only, which change in batches of k (pools.py), and a view stays inside the bounded query space
(queries.py): at most two profile questions, and no group that differs by 1 to k − 1 people
from a group one condition wider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grille.assessments.enums import AssessmentStatus
from grille.assessments.models import Answer
from grille.disclosure.aggregation import GroupTallies, tally_groups
from grille.disclosure.cells import Cell, MeanCell, Tally
from grille.disclosure.labels import protection_note
from grille.disclosure.protect import GroupFigures, Protector, publish_group
from grille.frameworks import grid as g
from grille.frameworks.selectors import get_grid

from .models import Campaign, ProfileAnswer, ProfileQuestion, Respondent
from .pools import pending_results, results_withheld

SEGMENT_PATH = "assessment__study_respondent__profile_answers__option"

# Why a population or a segment is not shown.
TOO_FEW = "too-few"          # fewer than k people, or reads below k after noise
NEIGHBOUR = "neighbour"      # differs by 1 to k − 1 people from a group one condition wider
REMAINDER = "remainder"      # the people without an answer to the compared question are 1 to k − 1
WITHHELD = "withheld"        # a withdrawal is waiting for the next batch


@dataclass
class PracticeRow:
    practice: g.Practice
    levels: list[tuple[g.Option, Cell]]
    answered: Cell
    wish: Cell
    partnership: Cell
    mean: MeanCell


@dataclass
class Segment:
    code: str
    label: str
    size: int | None
    suppressed: bool
    reason: str = ""


@dataclass
class Dashboard:
    campaign: Campaign
    grid: g.Grid
    k: int
    filters: dict[str, str]
    respondents: int | None
    population_suppressed: bool
    situations: list[tuple[g.Situation, MeanCell]]
    axes: list[tuple[g.Axis, MeanCell]]
    practices: list[PracticeRow]
    compare: ProfileQuestion | None = None
    segments: list[Segment] = field(default_factory=list)
    # segment code -> situation code -> MeanCell ; segment code -> practice code -> MeanCell
    segment_situations: dict[str, dict[str, MeanCell]] = field(default_factory=dict)
    segment_practices: dict[str, dict[str, MeanCell]] = field(default_factory=dict)
    reason: str = ""             # why the population is hidden (TOO_FEW, NEIGHBOUR, WITHHELD)
    comparison_reason: str = ""  # why every segment is hidden (REMAINDER)
    pending: int = 0             # completed questionnaires waiting for the next batch

    @property
    def withheld(self) -> bool:
        return self.reason == WITHHELD

    @property
    def reason_text(self) -> str:
        return hidden_reason(self)

    @property
    def comparison_reason_text(self) -> str:
        return hidden_reason(self, comparison=True) if self.comparison_reason else ""

    @property
    def pending_text(self) -> str:
        return pending_note(self) if self.pending else ""

    @property
    def protection_note(self) -> str:
        return protection_note(self.k)


def hidden_reason(dashboard: Dashboard, *, comparison: bool = False) -> str:
    """Why the results (or every segment) are not shown, in plain French."""
    k = dashboard.k
    reason = dashboard.comparison_reason if comparison else dashboard.reason
    if reason == WITHHELD:
        return _(
            "Une personne a retiré sa participation : les résultats reviendront avec le prochain lot de "
            "%(k)d nouveaux questionnaires, pour que personne ne puisse être reconnu par différence."
        ) % {"k": k}
    if reason == NEIGHBOUR:
        return _(
            "Ces filtres écartent entre 1 et %(less)d personnes d'un groupe plus large déjà publié : la "
            "différence des deux ferait reconnaître ces personnes. Élargissez ou changez les filtres."
        ) % {"less": k - 1}
    if reason == REMAINDER:
        return _(
            "Entre 1 et %(less)d personnes de ce groupe n'ont pas répondu à cette question : les segments "
            "les feraient reconnaître par différence, ils ne sont pas affichés."
        ) % {"less": k - 1}
    return _("Moins de %(k)d répondants : aucun chiffre n'est diffusé.") % {"k": k}


def pending_note(dashboard: Dashboard) -> str:
    return ngettext(
        "%(n)d questionnaire complet attend le prochain lot : les résultats changent par lots de %(k)d, "
        "pour qu'on ne puisse pas lire les réponses d'une personne en comparant deux moments.",
        "%(n)d questionnaires complets attendent le prochain lot : les résultats changent par lots de %(k)d, "
        "pour qu'on ne puisse pas lire les réponses d'une personne en comparant deux moments.",
        dashboard.pending,
    ) % {"n": dashboard.pending, "k": dashboard.k}


def filter_question_ids(campaign: Campaign, filters: dict[str, str] | None) -> dict[str, int] | None:
    """The ids of this campaign's profile questions named by the filters' codes, looked up once;
    None when a code is not one of its questions (then nobody matches the filters)."""
    if not filters:
        return {}
    ids = dict(ProfileQuestion.objects.filter(campaign=campaign, code__in=list(filters)).values_list("code", "pk"))
    return ids if len(ids) == len(filters) else None


def _has(question_id: int, option: str, respondent: str) -> Exists:
    return Exists(ProfileAnswer.objects.filter(respondent_id=OuterRef(respondent), question_id=question_id, option=option))


def _profile_conditions(filters: dict[str, str] | None, question_ids: dict[str, int], respondent: str) -> list[Exists]:
    # By question id: matching the code would look through the questions of every campaign.
    return [_has(question_ids[code], option, respondent) for code, option in (filters or {}).items()]


def completed_respondents(
    campaign: Campaign, filters: dict[str, str] | None = None, *, question_ids: dict[str, int] | None = None,
    released: bool = False,
) -> QuerySet[Respondent]:
    """Respondents who submitted (the study lead's microdata), or with `released` only those in
    the published results, narrowed by profile answers (question code -> option code, all must
    hold)."""
    qs = Respondent.objects.filter(campaign=campaign, assessment__status=AssessmentStatus.SUBMITTED)
    if released:
        qs = qs.filter(released=True)
    if not filters:
        return qs
    ids = question_ids if question_ids is not None else filter_question_ids(campaign, filters)
    return qs.none() if ids is None else qs.filter(*_profile_conditions(filters, ids, "pk"))


def completed_answers(
    campaign: Campaign, filters: dict[str, str] | None = None, *, question_ids: dict[str, int] | None = None
) -> QuerySet[Answer]:
    """The answers of the respondents in the published results, narrowed like
    ``completed_respondents``.

    Joined straight from the answer to its respondent rather than through a subquery of
    respondents: with the joins each figure adds, the subquery took PostgreSQL past
    from_collapse_limit (8) and into poor plans."""
    qs = Answer.objects.filter(
        assessment__study_respondent__campaign=campaign,
        assessment__study_respondent__released=True,
        assessment__status=AssessmentStatus.SUBMITTED,
    )
    if not filters:
        return qs
    ids = question_ids if question_ids is not None else filter_question_ids(campaign, filters)
    return qs.none() if ids is None else qs.filter(*_profile_conditions(filters, ids, "assessment__study_respondent"))


def _apart(wider: int, narrower: int, k: int) -> bool:
    """Two published groups one inside the other may differ by nobody, or by at least k people."""
    return wider - narrower == 0 or wider - narrower >= k


def _subset_counts(base: QuerySet[Respondent], conditions: dict[str, Exists]) -> dict[frozenset, int]:
    """True sizes of the groups made by every subset of the conditions (one query)."""
    names = list(conditions)
    subsets = [frozenset(c) for r in range(len(names) + 1) for c in combinations(names, r)]
    aggregates = {
        f"s{i}": Count("pk", filter=Q(*(conditions[name] for name in subset)))
        for i, subset in enumerate(subsets)
    }
    row = base.aggregate(**aggregates)
    return {subset: row[f"s{i}"] or 0 for i, subset in enumerate(subsets)}


def _safe_group(sizes: dict[frozenset, int], k: int) -> bool:
    whole = frozenset().union(*sizes) if sizes else frozenset()
    n = sizes.get(whole, 0)
    return n >= k and all(_apart(size, n, k) for subset, size in sizes.items() if subset != whole)


def _practice_rows(figures: GroupFigures, grid: g.Grid) -> list[PracticeRow]:
    return [
        PracticeRow(
            practice=p,
            levels=list(figures.practices[p.id].levels.cells),
            answered=figures.practices[p.id].levels.total,
            wish=figures.practices[p.id].wish,
            partnership=figures.practices[p.id].partnership,
            mean=figures.practices[p.id].levels.mean,
        )
        for p in grid.practices
    ]


def build_dashboard(campaign: Campaign, *, filters: dict[str, str] | None = None, compare: str | None = None) -> Dashboard:
    """Everything on the results page, in a fixed number of queries whatever the campaign's size.

    `filters` and `compare` must already be inside the bounded query space
    (queries.parse_results_query)."""
    grid = get_grid(campaign.version_id)
    k = campaign.threshold
    filters = filters or {}
    dashboard = Dashboard(
        campaign=campaign, grid=grid, k=k, filters=filters, respondents=None, population_suppressed=True,
        situations=[], axes=[], practices=[], pending=pending_results(campaign),
    )
    if results_withheld(campaign):
        dashboard.reason = WITHHELD
        return dashboard
    question_ids = filter_question_ids(campaign, filters)
    if question_ids is None:
        dashboard.reason = TOO_FEW
        return dashboard
    released = completed_respondents(campaign, released=True)
    conditions = {code: _has(question_ids[code], option, "pk") for code, option in filters.items()}
    sizes = _subset_counts(released, conditions)
    if not _safe_group(sizes, k):
        dashboard.reason = TOO_FEW if sizes[frozenset(conditions)] < k else NEIGHBOUR
        return dashboard
    answers = completed_answers(campaign, filters, question_ids=question_ids)
    figures = publish_group(tally_groups(answers, grid).get(None) or GroupTallies(), grid, k)
    if not figures.shown:
        dashboard.reason = TOO_FEW
        return dashboard
    dashboard.population_suppressed = False
    dashboard.respondents = int(figures.size.value or 0)
    dashboard.situations = [(s, figures.situations[s.code]) for s in grid.situations]
    dashboard.axes = [(a, figures.axes[a.code]) for a in grid.axes]
    dashboard.practices = _practice_rows(figures, grid)
    if compare:
        _add_comparison(dashboard, campaign, released, answers, filters, question_ids, sizes[frozenset(conditions)], compare)
    return dashboard


def _add_comparison(
    dashboard: Dashboard, campaign: Campaign, released: QuerySet[Respondent], answers: QuerySet[Answer],
    filters: dict[str, str], question_ids: dict[str, int], n: int, code: str,
) -> None:
    question = ProfileQuestion.objects.filter(campaign=campaign, code=code).first()
    if question is None:
        return
    k, grid = dashboard.k, dashboard.grid
    dashboard.compare = question
    # True sizes of each segment and of every wider group, in one query.
    subsets = [frozenset(c) for r in range(len(filters) + 1) for c in combinations(filters, r)]
    on_answer = {code: _has(question_ids[code], option, "respondent_id") for code, option in filters.items()}
    # One column per subset, named at run time: rows read as plain mappings.
    rows: Iterable[Mapping[str, Any]] = (
        ProfileAnswer.objects.filter(question=question, respondent__in=released)
        .values("option")
        .annotate(**{
            f"s{i}": Count("respondent_id", distinct=True, filter=Q(*(on_answer[name] for name in subset)))
            for i, subset in enumerate(subsets)
        })
        .order_by()
    )
    segment_sizes = {row["option"]: {subset: row[f"s{i}"] for i, subset in enumerate(subsets)} for row in rows}
    whole = frozenset(filters)
    answered = released.filter(
        *_profile_conditions(filters, question_ids, "pk"),
        Exists(ProfileAnswer.objects.filter(respondent_id=OuterRef("pk"), question=question)),
    ).count()
    # People of the group with no answer to the question: the group minus its segments.
    if not _apart(n, answered, k):
        dashboard.comparison_reason = REMAINDER
        dashboard.segments = [Segment(o, label, None, True, REMAINDER) for o, label in question.options]
        return
    segmented = answers.filter(assessment__study_respondent__profile_answers__question=question)
    tallies = tally_groups(segmented, grid, by=SEGMENT_PATH)
    for option, label in question.options:
        own = segment_sizes.get(option, {whole: 0})
        size = own.get(whole, 0)
        if not (_safe_group(own, k) and _apart(n, size, k)):
            reason = TOO_FEW if size < k else NEIGHBOUR
            dashboard.segments.append(Segment(option, label, None, True, reason))
            continue
        figures = publish_group(tallies.get(option) or GroupTallies(), grid, k)
        if not figures.shown:
            dashboard.segments.append(Segment(option, label, None, True, TOO_FEW))
            continue
        dashboard.segments.append(Segment(option, label, int(figures.size.value or 0), False))
        dashboard.segment_situations[option] = {s.code: figures.situations[s.code] for s in grid.situations}
        dashboard.segment_practices[option] = {p.code: figures.practices[p.id].levels.mean for p in grid.practices}


@dataclass
class Tracking:
    campaign: Campaign
    invited: int
    started: int
    completed: int
    days: list[tuple[date, int, int]]  # day, cumulative started, cumulative completed
    segments: list[tuple[str, Cell, Cell]] = field(default_factory=list)  # label, started, completed
    question: ProfileQuestion | None = None

    @property
    def response_rate(self) -> float | None:
        return self.completed / self.invited if self.invited else None

    @property
    def protection_note(self) -> str:
        return protection_note(self.campaign.threshold)


def build_tracking(campaign: Campaign, *, by: str | None = None) -> Tracking:
    """Responses over time (per day, Paris time), completed against started, and by segment."""
    tz = timezone.get_default_timezone()
    respondents = Respondent.objects.filter(campaign=campaign)
    started_per_day = dict(
        respondents.annotate(day=TruncDate("assessment__created_at", tzinfo=tz)).values_list("day").annotate(n=Count("id")).order_by()
    )
    completed_per_day = dict(
        respondents.filter(assessment__status=AssessmentStatus.SUBMITTED)
        .annotate(day=TruncDate("assessment__submitted_at", tzinfo=tz)).values_list("day").annotate(n=Count("id")).order_by()
    )
    days, started_total, completed_total = [], 0, 0
    for day in sorted(set(started_per_day) | set(completed_per_day)):
        started_total += started_per_day.get(day, 0)
        completed_total += completed_per_day.get(day, 0)
        days.append((day, started_total, completed_total))
    tracking = Tracking(
        campaign=campaign, invited=campaign.invitees.count(), started=started_total, completed=completed_total, days=days,
    )
    question = ProfileQuestion.objects.filter(campaign=campaign, code=by).first() if by else None
    if question is not None:
        tracking.question = question
        record_key = "respondent__assessment__record_key"
        done = Q(respondent__assessment__status=AssessmentStatus.SUBMITTED)
        rows = (
            ProfileAnswer.objects.filter(question=question)
            .values("option")
            .annotate(
                started=Count("respondent_id"), started_keys=Sum(record_key),
                completed=Count("respondent_id", filter=done), completed_keys=Sum(record_key, filter=done),
            )
            .order_by()
        )
        counts = {r["option"]: r for r in rows}
        for option, label in question.options:
            row = counts.get(option)
            if row is None:
                tracking.segments.append((label, Cell.hidden(), Cell.hidden()))
                continue
            # Perturbed on the segment's starters, a population the results never use: tracking
            # minus results gives noise, not the people still answering.
            protector = Protector(Tally(row["started"], int(row["started_keys"] or 0)), campaign.threshold)
            started = protector.size()
            completed = protector.count("completed", Tally(row["completed"], int(row["completed_keys"] or 0)))
            if not (started.suppressed or completed.suppressed) and (completed.value or 0) > (started.value or 0):
                # Two noises can cross: no more completed than started is shown (a function of
                # the published figures only).
                completed = started
            tracking.segments.append((label, started, Cell.hidden() if started.suppressed else completed))
    return tracking
