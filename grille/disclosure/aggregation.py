"""The aggregation core: what a group of positionings says, counted by the database.

Every figure about a group (a campaign or one of its segments, a team's anonymous pool, the
peers) starts here, and nowhere else counts answers. The result is exact and carries, beside
each count, the sum of its contributors' record keys: it is raw material for `protect`, never
shown as it is.

Definitions, one each (docs/definitions-statistiques.md):
- a practice's distribution counts the answers at each option of the level scale;
  « Non concerné·e » (an option without value) is a cell of its own and never in a denominator;
- a person's score in a situation or an axis is the mean of their levels with a value in it;
- a group's score in a situation or an axis is the mean of its members' scores (each person
  counts once), with the sample variance (ddof = 1) and a Student t interval; the members'
  scores are counted in classes of a third of a level (`score_class`), so that the mean can be
  derived from protected counts;
- wish: an answer whose « souhait » has a value above 0; partnership: a carrying option marked
  as a partnership; strength: a level at or above `Dimension.strength_floor`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, Max, Q, QuerySet, Sum

from grille.frameworks import grid as g
from grille.frameworks.models import Situation

from .cells import EMPTY, Tally

RECORD_KEY = "assessment__record_key"

# Scores are counted in classes of a third of a level: the exact scores of a situation of three
# practices, and few enough classes for each to hold several people.
SCORE_CLASSES_PER_LEVEL = 3


def score_class(total: int, scored: int) -> Fraction:
    """The class of a person's score total / scored (nearest third, halves to even)."""
    return Fraction(round(Fraction(total * SCORE_CLASSES_PER_LEVEL, scored)), SCORE_CLASSES_PER_LEVEL)


@dataclass
class GroupTallies:
    """Exact counts about one group, each with the sum of its contributors' record keys."""

    population: Tally = EMPTY
    levels: dict[int, dict[int, Tally]] = field(default_factory=lambda: defaultdict(dict))
    wish: dict[int, Tally] = field(default_factory=dict)
    partnership: dict[int, Tally] = field(default_factory=dict)
    # situation or axis code -> score class -> tally of the people in it
    situations: dict[str, dict[Fraction, Tally]] = field(default_factory=lambda: defaultdict(dict))
    axes: dict[str, dict[Fraction, Tally]] = field(default_factory=lambda: defaultdict(dict))


def _tally(n: int | None, keys: int | None) -> Tally:
    return Tally(int(n or 0), int(keys or 0))


def tally_groups(
    answers: QuerySet[Any], grid: g.Grid, *, by: str | None = None
) -> dict[Hashable, GroupTallies]:
    """The tallies of each group of `answers` (a queryset of assessments.Answer, which this shared
    layer does not import), five queries whatever their number.

    `by` is a path from an answer to the value that splits it into groups (a segment); without
    it there is one group, under the key None. The caller chooses the positionings (released
    pool, filters): this function only counts.
    """
    seg = {"seg": F(by)} if by else {}
    groups: dict[Hashable, GroupTallies] = defaultdict(GroupTallies)

    def group(row: Mapping[str, Any]) -> GroupTallies:
        return groups[row.get("seg")]

    for row in (
        answers.filter(level__isnull=False)
        .values("practice_id", "level_id", **seg)
        .annotate(n=Count("id"), keys=Sum(RECORD_KEY))
        .order_by()
    ):
        group(row).levels[row["practice_id"]][row["level_id"]] = _tally(row["n"], row["keys"])

    partnership_ids = [o.id for o in grid.carrying.options if o.partnership]
    wished = Q(wish__value__gt=0)
    partner = Q(carrying__in=partnership_ids)
    for practice in (
        answers.values("practice_id", **seg)
        .annotate(
            wish_n=Count("id", filter=wished), wish_keys=Sum(RECORD_KEY, filter=wished),
            partner_n=Count("id", filter=partner), partner_keys=Sum(RECORD_KEY, filter=partner),
        )
        .order_by()
    ):
        tallies = group(practice)
        tallies.wish[practice["practice_id"]] = _tally(practice["wish_n"], practice["wish_keys"])
        tallies.partnership[practice["practice_id"]] = _tally(
            practice["partner_n"], practice["partner_keys"]
        )

    people = answers.values(aid=F("assessment_id"), **seg).annotate(rk=Max(RECORD_KEY)).order_by()
    for segment, n, keys in _outer(people, ["seg"] if by else [], "COUNT(*), SUM(rk)"):
        groups[segment].population = _tally(n, keys)

    # People's scores per situation, and per axis from the same rows: one pass over the answers.
    situation_code = dict(Situation.objects.filter(version=grid.version_id).values_list("pk", "code"))
    axis_codes = [a.code for a in grid.axes]
    axis_index = {s.code: axis_codes.index(s.axis_code) for s in grid.situations}
    scores = (
        answers.filter(level__value__isnull=False)
        .values(gid=F("practice__situation_id"), aid=F("assessment_id"), **seg)
        .annotate(t=Sum("level__value"), c=Count("id"), rk=Max(RECORD_KEY))
        .order_by()
    )
    by_axis = {pk: axis_index[code] for pk, code in situation_code.items() if code in axis_index}
    for kind, segment, gid, total, scored, n, keys in _scores(scores, by_axis, segmented=bool(by)):
        code = situation_code.get(gid) if kind == 0 else axis_codes[gid]
        if code is None:
            continue
        classes = (groups[segment].situations if kind == 0 else groups[segment].axes)[code]
        bucket = score_class(int(total), int(scored))
        classes[bucket] = classes.get(bucket, EMPTY) + _tally(n, keys)
    return dict(groups)


def _outer(inner: QuerySet[Any, Any], keys: list[str], aggregates: str) -> list[tuple[Any, ...]]:
    """Group the rows of `inner` (one per person) by `keys` in the database; the first column of
    each result is the segment (None without one)."""
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # an empty queryset (.none()): nobody to count
        return []
    group_by = ", ".join(keys)
    select = f"{group_by}, {aggregates}" if keys else aggregates
    suffix = f" GROUP BY {group_by}" if keys else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select} FROM ({sql}) AS per_person{suffix}", params)  # noqa: S608 - column names are ours
        rows = cursor.fetchall()
    if keys and keys[0] == "seg":
        return [tuple(row) for row in rows]
    return [(None, *row) for row in rows]


def _scores(
    per_person: QuerySet[Any, Any], axis_of: dict[int, int], *, segmented: bool
) -> list[tuple[Any, ...]]:
    """(0, segment, situation id, total, scored, people, keys) per situation score, then
    (1, segment, axis index, ...) per axis score, in one statement over the per-person rows."""
    try:
        sql, params = per_person.query.sql_with_params()
    except EmptyResultSet:
        return []
    seg = "seg, " if segmented else ""
    when = " ".join(f"WHEN {int(pk)} THEN {int(index)}" for pk, index in sorted(axis_of.items())) or "WHEN 0 THEN 0"
    statement = (
        f"WITH per AS ({sql}) "
        f"SELECT 0, {seg}gid, t, c, COUNT(*), SUM(rk) FROM per GROUP BY {seg}gid, t, c "
        f"UNION ALL SELECT 1, {seg}ax, tt, cc, COUNT(*), SUM(rk) FROM ("
        f"SELECT {seg}aid, CASE gid {when} END AS ax, SUM(t) AS tt, SUM(c) AS cc, MAX(rk) AS rk "
        f"FROM per GROUP BY {seg}aid, CASE gid {when} END) AS per_axis GROUP BY {seg}ax, tt, cc"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)  # noqa: S608 - ids and names are ours
        rows = cursor.fetchall()
    if segmented:
        return [tuple(row) for row in rows]
    return [(row[0], None, *row[1:]) for row in rows]


def person_score(levels: list[int]) -> Fraction | None:
    """A person's score in a situation or an axis: the mean of their levels with a value."""
    return Fraction(sum(levels), len(levels)) if levels else None
