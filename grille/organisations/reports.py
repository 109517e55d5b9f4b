"""What the organisation report (printed to PDF) shows, built from the team map."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from grille.core.people import person_label
from grille.frameworks import grid as g
from grille.frameworks.charts import situation_radar, situation_series

from .enums import ActionStatus, DecisionMode
from .exporters import choice_label, ordered_decisions, partner_type_labels
from .models import ActionItem, Decision, Organisation
from .team import ANONYMOUS_BATCH, ANONYMOUS_MIN, PracticeStats, TeamMap


@dataclass(frozen=True)
class SituationRow:
    code: str
    label: str
    mean: float | None
    rows: list[PracticeStats]


@dataclass(frozen=True)
class DecisionRow:
    practice: g.Practice | None
    mode: str
    mode_label: str
    partner_types: list[str]
    partners: str
    note: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class ActionRow:
    title: str
    practice_codes: list[str]
    owner: str
    due_date: date | None
    status: str
    status_label: str
    is_overdue: bool


def team_radar(team_map: TeamMap, *, chart_id: str) -> str:
    """The radar of the team page, the workshop and the team PDF: the team's mean level per
    situation; empty when there is nothing to draw."""
    if not team_map.contribution_count:
        return ""
    grid = team_map.grid
    series = [situation_series(grid, team_map.situation_means, label=_("Équipe"))]
    return situation_radar(grid, series, chart_id=chart_id, title=_("Profil de l'équipe par situation professionnelle"))


def report_context(
    organisation: Organisation,
    team_map: TeamMap,
    decisions: Mapping[int, Decision] | Iterable[Decision],
    actions: Iterable[ActionItem],
    *,
    now: datetime | None = None,
    chart_id: str = "team-radar-pdf",
) -> dict:
    """Everything organisations/report_pdf.html needs, radar SVG included. No query beyond the inputs'."""
    grid = team_map.grid
    by_situation: dict[str, list[PracticeStats]] = {s.code: [] for s in grid.situations}
    for stats in team_map.practices:
        by_situation.setdefault(stats.practice.situation_code, []).append(stats)
    practices = {p.id: p for p in grid.practices}
    position = {p.id: i for i, p in enumerate(grid.practices)}
    decision_rows = [
        DecisionRow(
            practice=practices.get(d.practice_id),
            mode=d.mode,
            mode_label=choice_label(DecisionMode, d.mode),
            partner_types=partner_type_labels(d),
            partners=d.partners,
            note=d.note,
            updated_by=person_label(d.updated_by) if d.updated_by else "",
            updated_at=d.updated_at,
        )
        for d in ordered_decisions(team_map, decisions)
    ]
    action_rows = [
        ActionRow(
            title=a.title,
            practice_codes=[p.code for p in sorted(a.practices.all(), key=lambda p: position.get(p.id, len(position)))],
            owner=person_label(a.owner.user) if a.owner else "",
            due_date=a.due_date,
            status=a.status,
            status_label=choice_label(ActionStatus, a.status),
            is_overdue=a.is_overdue,
        )
        for a in actions
    ]
    strength_floor = grid.level.strength_floor
    return {
        "organisation": organisation,
        "grid": grid,
        "team_map": team_map,
        "generated_at": now or timezone.now(),
        "anonymous_min": ANONYMOUS_MIN,
        "anonymous_batch": ANONYMOUS_BATCH,
        "anonymous_counted": team_map.anonymous_count,
        "radar": team_radar(team_map, chart_id=chart_id),
        "situations": [
            SituationRow(code=s.code, label=s.label, mean=team_map.situation_means.get(s.code), rows=by_situation[s.code])
            for s in grid.situations
        ],
        # The lowest level counted as « régulier » in the team map.
        "regular_from": next((o for o in grid.level.options if o.value == strength_floor), None),
        "decisions": decision_rows,
        "actions": action_rows,
        "overdue_count": sum(1 for a in action_rows if a.is_overdue),
    }
