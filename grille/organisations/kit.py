"""The printable workshop kit (organisations/kit_pdf.html), built from the same data as the
guided workshop's screens: the agenda, one card per practice (the team map's figures for it and
the comments shared on it), a decision template, the facilitator's guide and, once the session
has recorded something, its summary."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from grille.core.charts import distribution_bar
from grille.frameworks import grid as g

from .enums import DecisionMode, PartnerType
from .guided import ORDERINGS, agenda_items, session_summary
from .models import Decision, Membership, PracticeComment, WorkshopSession
from .team import ANONYMOUS_BATCH, ANONYMOUS_MIN, PracticeStats, TeamMap


@dataclass(frozen=True)
class KitCard:
    number: int
    practice: g.Practice
    situation: g.Situation | None
    stats: PracticeStats
    distribution: list[tuple[g.Option, int]]
    bar: str
    named: list[tuple[str, dict]]
    is_gap: bool
    spread: float | None
    comments: list[PracticeComment]
    decision: Decision | None


def kit_context(membership: Membership, session: WorkshopSession, team: TeamMap) -> dict[str, Any]:
    """Everything kit_pdf.html needs, in a fixed number of queries whatever the agenda's length."""
    grid = team.grid
    items = agenda_items(session, team)
    ids = [item.practice.id for item in items]
    comments: dict[int, list[PracticeComment]] = defaultdict(list)
    for c in PracticeComment.objects.filter(organisation=session.organisation_id, practice_id__in=ids).select_related("author"):
        comments[c.practice_id].append(c)
    decisions = {d.practice_id: d for d in Decision.objects.filter(organisation=session.organisation_id, practice_id__in=ids)}
    gaps = {p.practice.code for p in team.gaps}
    debates = {p.practice.code: p.spread for p in team.disagreements}
    cards = []
    for item in items:
        distribution = team.distribution(item.stats)
        cards.append(KitCard(
            number=item.position + 1,
            practice=item.practice,
            situation=grid.situation(item.practice.situation_code),
            stats=item.stats,
            distribution=distribution,
            bar=distribution_bar(segments=[(o.label, n, o.value is not None) for o, n in distribution], width=300, height=18),
            named=[
                (c.name, cell) for c in team.contributors
                if (cell := team.matrix.get((c.assessment_id, item.practice.id))) is not None
            ],
            is_gap=item.practice.code in gaps,
            spread=debates.get(item.practice.code),
            comments=comments.get(item.practice.id, []),
            decision=decisions.get(item.practice.id),
        ))
    summary = session_summary(session, team)
    return {
        "organisation": session.organisation,
        "grid": grid,
        "team": team,
        "session": session,
        "ordering_label": ORDERINGS.get(session.ordering, ""),
        "cards": cards,
        "planned_minutes": session.minutes_per_item * len(cards),
        "summary": summary,
        "mode_labels": dict(DecisionMode.choices),
        "modes": DecisionMode.choices,
        "partner_types": PartnerType.choices,
        "partner_labels": dict(PartnerType.choices),
        "generated_at": timezone.now(),
        "anonymous_min": ANONYMOUS_MIN,
        "anonymous_batch": ANONYMOUS_BATCH,
    }
