"""The guided workshop: an agenda of practices to debate, walked one practice per screen.

The agenda is built from the team map (team.py), so it orders practices by what the team map
shows and nothing else: gaps, debate points (spread of levels) or development wishes. The
session only remembers the walk (where the room is, how long each practice took); decisions,
comments and actions recorded during it are the organisation's own, through services.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grille.frameworks import grid as g

from .models import ActionItem, DecisionRevision, Membership, WorkshopSession
from .permissions import can_run_workshop
from .services import NotAllowed, OrganisationError
from .team import PracticeStats, TeamMap

AGENDA_MAX = 40
MINUTES_MAX = 60

ORDERINGS: dict[str, object] = {
    "gaps": gettext_lazy("Manques d'abord (pratiques que personne ne porte régulièrement)"),
    "debate": gettext_lazy("Points de débat d'abord (niveaux les plus différents)"),
    "wishes": gettext_lazy("Souhaits de développement d'abord"),
    "grid": gettext_lazy("Ordre de la grille"),
}
DEFAULT_ORDERING = "gaps"


def _gap_key(stats: PracticeStats, gaps: set[str]) -> tuple:
    return (stats.practice.code not in gaps, stats.regular, -stats.wish)


def order_practices(team: TeamMap, ordering: str) -> list[PracticeStats]:
    """The team's practices in the order a facilitator asked for; ties keep the grid's order.
    Only the team map's own figures are used: nothing it hides can move a practice."""
    practices = list(team.practices)
    if ordering == "gaps":
        gaps = {p.practice.code for p in team.gaps}
        return sorted(practices, key=lambda p: _gap_key(p, gaps))
    if ordering == "debate":
        return sorted(practices, key=lambda p: (-(p.spread or 0.0) if p.scored >= 2 else 0.0))
    if ordering == "wishes":
        return sorted(practices, key=lambda p: -p.wish)
    return practices


def suggested_codes(team: TeamMap, ordering: str, *, count: int = 6) -> list[str]:
    """The practices pre-selected on the agenda form: the first ones that matter for the
    ordering (gaps, practices with a spread, practices wished for), at most `count`."""
    ordered = order_practices(team, ordering)
    if ordering == "gaps":
        gaps = {p.practice.code for p in team.gaps}
        picked = [p for p in ordered if p.practice.code in gaps]
    elif ordering == "debate":
        picked = [p for p in ordered if p.scored >= 2 and (p.spread or 0) > 0]
    elif ordering == "wishes":
        picked = [p for p in ordered if p.wish > 0]
    else:
        picked = []
    return [p.practice.code for p in picked[:count]]


def build_agenda(team: TeamMap, *, ordering: str, practice_codes: Iterable[str], situation_codes: Iterable[str] = ()) -> list[str]:
    """The chosen practices, and every practice of the chosen situations, in the requested order."""
    if ordering not in ORDERINGS:
        raise OrganisationError(_("Choisissez un ordre dans la liste."))
    grid = team.grid
    chosen = set()
    for code in practice_codes:
        if grid.practice(code) is None:
            raise OrganisationError(_("La pratique « %(code)s » n'existe pas dans cette grille.") % {"code": code})
        chosen.add(code)
    for code in situation_codes:
        situation = grid.situation(code)
        if situation is None:
            raise OrganisationError(_("La situation « %(code)s » n'existe pas dans cette grille.") % {"code": code})
        chosen.update(p.code for p in grid.practices if p.situation_code == code)
    if not chosen:
        raise OrganisationError(_("Choisissez au moins une pratique ou une situation à mettre en débat."))
    if len(chosen) > AGENDA_MAX:
        raise OrganisationError(_("Un atelier compte au plus %(max)d pratiques.") % {"max": AGENDA_MAX})
    return [p.practice.code for p in order_practices(team, ordering) if p.practice.code in chosen]


def _require_runner(membership: Membership) -> None:
    if not can_run_workshop(membership):
        raise NotAllowed(_("Seul·e un·e animateur·rice de la structure peut mener l'atelier guidé."))


@transaction.atomic
def start_workshop_session(
    *, membership: Membership, team: TeamMap, ordering: str, practice_codes: Iterable[str],
    situation_codes: Iterable[str] = (), minutes_per_item: int = 5,
) -> WorkshopSession:
    """Open a guided workshop on an agenda (facilitators). An organisation has one open session
    at a time: the one still open is closed first, keeping what it recorded."""
    _require_runner(membership)
    if not 1 <= minutes_per_item <= MINUTES_MAX:
        raise OrganisationError(_("La durée par pratique doit être comprise entre 1 et %(max)d minutes.") % {"max": MINUTES_MAX})
    agenda = build_agenda(team, ordering=ordering, practice_codes=practice_codes, situation_codes=situation_codes)
    now = timezone.now()
    WorkshopSession.objects.filter(organisation=membership.organisation_id, ended_at__isnull=True).update(ended_at=now)
    try:
        with transaction.atomic():
            return WorkshopSession.objects.create(
                organisation=membership.organisation, created_by=membership.user, agenda=agenda, ordering=ordering,
                minutes_per_item=minutes_per_item, item_seconds={}, item_started_at={agenda[0]: now.isoformat()},
                current_since=now, started_at=now,
            )
    except IntegrityError:
        raise OrganisationError(_("Un autre atelier vient d'être ouvert : actualisez la page.")) from None


def _elapsed(session: WorkshopSession, now: datetime) -> int:
    return int((now - session.current_since).total_seconds()) if session.current_since else 0


@transaction.atomic
def move_workshop_session(*, membership: Membership, session: WorkshopSession, position: int) -> WorkshopSession:
    """Bring the room to the practice at `position` (0-based): the time spent on the one it
    leaves is added to that practice's timer."""
    _require_runner(membership)
    locked = WorkshopSession.objects.select_for_update().filter(pk=session.pk, organisation=membership.organisation_id).first()
    if locked is None:
        raise Http404
    if locked.ended_at is not None:
        raise OrganisationError(_("Cet atelier est terminé."))
    if not 0 <= position < len(locked.agenda):
        raise OrganisationError(_("Cette pratique n'est pas à l'ordre du jour."))
    if position != locked.current_index:
        now = timezone.now()
        leaving = locked.current_code
        if leaving is not None:
            locked.item_seconds[leaving] = int(locked.item_seconds.get(leaving, 0)) + _elapsed(locked, now)
        locked.current_index = position
        locked.item_started_at.setdefault(locked.agenda[position], now.isoformat())
        locked.current_since = now
        locked.save(update_fields=["current_index", "item_seconds", "item_started_at", "current_since", "updated_at"])
    return locked


@transaction.atomic
def end_workshop_session(*, membership: Membership, session: WorkshopSession) -> WorkshopSession:
    """Close the session; its last practice's time is counted."""
    _require_runner(membership)
    locked = WorkshopSession.objects.select_for_update().filter(pk=session.pk, organisation=membership.organisation_id).first()
    if locked is None:
        raise Http404
    if locked.ended_at is None:
        now = timezone.now()
        current = locked.current_code
        if current is not None:
            locked.item_seconds[current] = int(locked.item_seconds.get(current, 0)) + _elapsed(locked, now)
        locked.ended_at = now
        locked.save(update_fields=["item_seconds", "ended_at", "updated_at"])
    return locked


# Selectors: a session is reached only through the caller's membership.

def sessions_of(membership: Membership) -> QuerySet[WorkshopSession]:
    return WorkshopSession.objects.filter(organisation=membership.organisation_id).order_by("-created_at", "-id")


def open_session(membership: Membership) -> WorkshopSession | None:
    return sessions_of(membership).filter(ended_at__isnull=True).first()


def get_session(membership: Membership, session_id: int) -> WorkshopSession:
    try:
        return sessions_of(membership).get(pk=session_id)
    except WorkshopSession.DoesNotExist:
        raise Http404 from None


def item_seconds(session: WorkshopSession, code: str, *, now: datetime | None = None) -> int:
    """Seconds spent on one practice so far, the running one included."""
    spent = int(session.item_seconds.get(code, 0))
    if session.ended_at is None and session.current_code == code:
        spent += _elapsed(session, now or timezone.now())
    return spent


def clock(seconds: int) -> str:
    """« 4:05 »: minutes and seconds, as the timer shows them."""
    seconds = max(int(seconds), 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass(frozen=True)
class AgendaItem:
    position: int
    practice: g.Practice
    stats: PracticeStats
    seconds: int
    is_current: bool

    @property
    def clock(self) -> str:
        return clock(self.seconds)


def agenda_items(session: WorkshopSession, team: TeamMap) -> list[AgendaItem]:
    """The agenda's practices that the grid still has, with their figures and timers."""
    now = timezone.now()
    items = []
    for position, code in enumerate(session.agenda):
        practice = team.grid.practice(code)
        if practice is None:
            continue
        items.append(AgendaItem(
            position=position, practice=practice, stats=team.stats(code), seconds=item_seconds(session, code, now=now),
            is_current=position == session.current_index,
        ))
    return items


@dataclass(frozen=True)
class SummaryDecision:
    practice: g.Practice
    revision: DecisionRevision


@dataclass(frozen=True)
class SessionSummary:
    decisions: list[SummaryDecision]   # the last decision recorded on each practice during the session
    actions: list[ActionItem]          # the actions added during the session


def session_summary(session: WorkshopSession, team: TeamMap) -> SessionSummary:
    """What the session decided: the last decision recorded on each practice between its start
    and its end (or now), in agenda order, and the actions added meanwhile."""
    start = session.started_at or session.created_at
    revisions = DecisionRevision.objects.filter(decision__organisation=session.organisation_id, changed_at__gte=start)
    actions = ActionItem.objects.filter(organisation=session.organisation_id, created_at__gte=start)
    if session.ended_at is not None:
        revisions = revisions.filter(changed_at__lte=session.ended_at)
        actions = actions.filter(created_at__lte=session.ended_at)
    latest: dict[int, DecisionRevision] = {}
    for revision in revisions.select_related("decision", "changed_by").order_by("changed_at", "id"):
        latest[revision.decision.practice_id] = revision
    position = {code: i for i, code in enumerate(session.agenda)}
    grid_position = {p.id: i for i, p in enumerate(team.grid.practices)}
    practices = {p.id: p for p in team.grid.practices}

    def rank(practice_id: int) -> tuple[int, int]:
        return (position.get(practices[practice_id].code, len(position)), grid_position[practice_id])

    decided = sorted((pid for pid in latest if pid in practices), key=rank)
    plan = list(actions.select_related("owner__user").prefetch_related("practices").order_by("created_at", "id"))
    return SessionSummary(decisions=[SummaryDecision(practices[pid], latest[pid]) for pid in decided], actions=plan)
