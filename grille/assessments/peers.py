"""« Se comparer aux pairs »: the network's anonymous benchmark of submitted positionings.

Joining is a choice of its own (not a share with an organisation or a study), recorded with
the wording's version and revocable at any time. Only participants see the comparison, and
only against a group of at least k positionings that are not theirs (DESIGN.md, privacy).

One person counts once: only the most recent share of each owner is read, and joining with a
new positioning replaces the previous one. A positioning made without an account counts
on its own (nothing ties two of them to one person).

The percentile is the share of peers below the person plus half of those tied. It is a
statistic like the others: it is shown only when every count it rests on (peers below, tied,
or the level cells it adds up) is shown after small-cell suppression, so that it never says,
for instance, that exactly one peer has the person's level.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from grille.frameworks import grid as g
from grille.organisations.enums import StructureType
from grille.studies.suppression import (
    COMPLEMENTARY,
    DEFAULT_THRESHOLD,
    PRIMARY,
    Cell,
    suppress_row,
    suppress_row_against,
    validate_threshold,
)

from .enums import AssessmentStatus
from .models import Answer, Assessment, PeerShare
from .profile import PracticeScore, Profile
from .selectors import get_profile
from .services import AssessmentError

# The wording a person agrees to when joining; its version is recorded with each share.
PEER_CONSENT_VERSION = "2026-11"

# The explicit filter value for every peer, whatever their type of structure.
ALL_PEERS = "tous"

# Why a comparison is not shown.
NOT_JOINED = "not-joined"
TOO_FEW = "too-few"
# The group of the other types would be small: all peers minus this type would recompute it.
OTHERS_TOO_FEW = "others-too-few"


# -- services -------------------------------------------------------------------------------


@transaction.atomic
def join_benchmark(*, assessment: Assessment, structure_type: str) -> PeerShare:
    """Add a submitted positioning to the anonymous benchmark, with the person's type of structure.

    Joining again updates the type and records the consent anew; joining with another
    positioning of the same owner replaces the previous one (one person counts once).
    """
    if structure_type not in StructureType.values:
        raise AssessmentError(_("Choisissez votre type de structure dans la liste."))
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if not locked.is_submitted:
        raise AssessmentError(
            _("Envoyez d'abord ce positionnement : seul un positionnement envoyé peut être comparé à ceux des pairs.")
        )
    if locked.owner_id is not None:
        # Two tabs joining with two positionings queue here, so one share per person remains.
        list(get_user_model().objects.select_for_update().filter(pk=locked.owner_id).values_list("pk"))
        PeerShare.objects.filter(assessment__owner_id=locked.owner_id).exclude(assessment=locked).delete()
    share, created = PeerShare.objects.get_or_create(
        assessment=locked,
        defaults={"structure_type": structure_type, "consent_version": PEER_CONSENT_VERSION},
    )
    if not created:
        share.structure_type = structure_type
        share.consent_version = PEER_CONSENT_VERSION
        share.consented_at = timezone.now()
        share.save(update_fields=["structure_type", "consent_version", "consented_at"])
    return share


@transaction.atomic
def leave_benchmark(*, assessment: Assessment) -> bool:
    """Withdraw a positioning from the benchmark at once; False when it was not in it."""
    deleted, _by_model = PeerShare.objects.filter(assessment=assessment).delete()
    return deleted > 0


# -- selectors ------------------------------------------------------------------------------


def get_peer_share(assessment: Assessment) -> PeerShare | None:
    """The positioning's participation, if any; no query when it was loaded with the positioning."""
    if Assessment.peer_share.is_cached(assessment):
        try:
            return assessment.peer_share
        except PeerShare.DoesNotExist:
            return None
    return PeerShare.objects.filter(assessment=assessment).first()


@dataclass(frozen=True)
class LevelShare:
    option: g.Option
    share: Cell  # fraction of the peers who answered the practice (0–1), or suppressed


@dataclass(frozen=True)
class PracticeComparison:
    practice: g.Practice
    mine: g.Option | None
    peers: Cell  # peers who gave a level to this practice
    levels: tuple[LevelShare, ...]
    percentile: Cell  # 0–1; a shown None when the person's level has no value


@dataclass(frozen=True)
class SituationComparison:
    situation: g.Situation
    mine: float | None
    peers: Cell  # peers with a mean in this situation
    peers_mean: Cell
    percentile: Cell


@dataclass(frozen=True)
class PeerComparison:
    grid: g.Grid
    k: int
    structure_type: str | None
    share: PeerShare | None
    peers: int | None  # size of the comparison group, None when it is not shown
    hidden_reason: str
    situations: tuple[SituationComparison, ...] = ()
    practices: tuple[PracticeComparison, ...] = ()

    @property
    def shown(self) -> bool:
        return not self.hidden_reason

    @property
    def not_joined(self) -> bool:
        return self.hidden_reason == NOT_JOINED

    @property
    def too_few(self) -> bool:
        return self.hidden_reason == TOO_FEW

    @property
    def others_too_few(self) -> bool:
        return self.hidden_reason == OTHERS_TOO_FEW

    @property
    def structure_label(self) -> str:
        return StructureType(self.structure_type).label if self.structure_type else ""


def counted_shares(assessment: Assessment, *, own_uuids: Iterable[str] = ()) -> QuerySet[PeerShare]:
    """The shares that make up the person's comparison group: submitted positionings on the
    same version, the latest share of each owner, none of the person's own."""
    newer = PeerShare.objects.filter(assessment__owner_id=OuterRef("assessment__owner_id")).filter(
        Q(consented_at__gt=OuterRef("consented_at")) | Q(consented_at=OuterRef("consented_at"), pk__gt=OuterRef("pk"))
    )
    shares = PeerShare.objects.filter(
        assessment__version_id=assessment.version_id, assessment__status=AssessmentStatus.SUBMITTED
    ).filter(Q(assessment__owner__isnull=True) | ~Exists(newer))
    shares = shares.exclude(assessment_id=assessment.pk).exclude(assessment__uuid__in=list(own_uuids))
    if assessment.owner_id is not None:
        shares = shares.exclude(assessment__owner_id=assessment.owner_id)
    return shares


def peer_comparison(
    assessment: Assessment,
    *,
    structure_type: str | None = None,
    k: int = DEFAULT_THRESHOLD,
    own_uuids: Iterable[str] = (),
) -> PeerComparison:
    """Where a participant stands among their peers, per situation and per practice.

    `structure_type` narrows the peers to one type of structure (None: all peers);
    `own_uuids` are other positionings of the same person (opened in the same browser)
    that must not count either. A fixed number of queries whatever the number of peers.
    """
    k = validate_threshold(k)
    if structure_type is not None and structure_type not in StructureType.values:
        raise ValueError(f"unknown structure type {structure_type!r}")
    profile = get_profile(assessment)
    grid = profile.grid
    share = get_peer_share(assessment)

    def hidden(reason: str) -> PeerComparison:
        return PeerComparison(
            grid=grid, k=k, structure_type=structure_type, share=share, peers=None, hidden_reason=reason
        )

    if share is None:
        return hidden(NOT_JOINED)
    shares = counted_shares(assessment, own_uuids=own_uuids)
    sizes = dict(shares.values_list("structure_type").annotate(n=Count("id")).order_by())
    everyone = sum(sizes.values())
    n = sizes.get(structure_type, 0) if structure_type else everyone
    if n < k:
        return hidden(TOO_FEW)
    if structure_type and 0 < everyone - n < k:
        return hidden(OTHERS_TOO_FEW)

    answers = Answer.objects.filter(assessment__peer_share__in=shares)
    levels = _level_counts(answers)
    situations = _situation_histogram(answers)
    return PeerComparison(
        grid=grid,
        k=k,
        structure_type=structure_type,
        share=share,
        peers=n,
        hidden_reason="",
        situations=tuple(
            _situation_row(situation, profile, situations, structure_type, k) for situation in grid.situations
        ),
        practices=tuple(_practice_row(score, grid, levels, structure_type, k) for score in profile.practices),
    )


# Counts by structure type, so that one query serves every filter and its complement.
TypeCounts = dict[str, int]


def _level_counts(answers: QuerySet[Answer]) -> dict[tuple[int, int], TypeCounts]:
    """(practice id, level option id) -> structure type -> peers: one GROUP BY in the database."""
    counts: dict[tuple[int, int], TypeCounts] = defaultdict(dict)
    rows = (
        answers.filter(level__isnull=False)
        .values("practice_id", "level_id", kind=F("assessment__peer_share__structure_type"))
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[(row["practice_id"], row["level_id"])][row["kind"]] = row["n"]
    return counts


def _situation_histogram(answers: QuerySet[Answer]) -> dict[str, list[tuple[str, Fraction, int]]]:
    """situation code -> [(structure type, a peer's mean, how many peers have it)].

    Each peer's mean is kept as the exact fraction sum / count of their levels, so ties are
    exact; the rows are bounded by the possible means, not by the number of peers.
    """
    per_peer = (
        answers.filter(level__value__isnull=False)
        .values(gid=F("practice__situation__code"), rid=F("assessment_id"), kind=F("assessment__peer_share__structure_type"))
        .annotate(total=Sum("level__value"), scored=Count("id"))
        .order_by()
    )
    sql, params = per_peer.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT gid, kind, total, scored, COUNT(*) FROM (" + sql + ") AS per_peer GROUP BY gid, kind, total, scored",
            params,
        )
        rows = cursor.fetchall()
    histogram: dict[str, list[tuple[str, Fraction, int]]] = defaultdict(list)
    for code, kind, total, scored, n in rows:
        histogram[code].append((kind, Fraction(int(total), int(scored)), int(n)))
    return histogram


def _split(counts: TypeCounts, structure_type: str | None) -> tuple[int, int]:
    """(count in the comparison group, count among the peers it leaves out)."""
    everyone = sum(counts.values())
    selected = counts.get(structure_type, 0) if structure_type else everyone
    return selected, everyone - selected


def _suppress(selected: list[int], others: list[int], structure_type: str | None, k: int) -> tuple[list[Cell], Cell]:
    # A filtered group is published beside all the peers: its complement is protected too.
    if structure_type:
        return suppress_row_against(selected, others, k)
    return suppress_row(selected, k)


def _percentile(below: int, tied: int, n: int) -> float:
    return float(Fraction(2 * below + tied, 2 * n))


def _practice_row(
    score: PracticeScore, grid: g.Grid, levels: dict[tuple[int, int], TypeCounts], structure_type: str | None, k: int
) -> PracticeComparison:
    options = grid.level.options
    split = [_split(levels.get((score.practice.id, o.id), {}), structure_type) for o in options]
    selected, others = [s for s, _o in split], [o for _s, o in split]
    cells, total = _suppress(selected, others, structure_type, k)
    n = sum(selected)
    shares = tuple(
        LevelShare(option=o, share=c if c.suppressed else Cell.shown(c.value / n if n else None))
        for o, c in zip(options, cells, strict=True)
    )
    mine = score.level
    if total.suppressed:
        percentile = Cell.hidden(total.reason)
    elif mine is None or mine.value is None:
        percentile = Cell.shown(None)
    else:
        # The figures the percentile is made of: the levels at or below the person's, and
        # those left out of means (the total minus them gives the denominator).
        needed = [c for o, c in zip(options, cells, strict=True) if o.value is None or o.value <= mine.value]
        valued = sum(count for o, count in zip(options, selected, strict=True) if o.value is not None)
        if any(c.suppressed for c in needed):
            percentile = Cell.hidden(COMPLEMENTARY)
        elif valued == 0:
            percentile = Cell.shown(None)
        else:
            below = sum(c for o, c in zip(options, selected, strict=True) if o.value is not None and o.value < mine.value)
            tied = sum(c for o, c in zip(options, selected, strict=True) if o.value == mine.value)
            percentile = Cell.shown(_percentile(below, tied, valued))
    return PracticeComparison(practice=score.practice, mine=mine, peers=total, levels=shares, percentile=percentile)


def _situation_row(
    situation: g.Situation,
    profile: Profile,
    histogram: dict[str, list[tuple[str, Fraction, int]]],
    structure_type: str | None,
    k: int,
) -> SituationComparison:
    values = [s.value for s in profile.practices if s.practice.situation_code == situation.code and s.value is not None]
    mine = Fraction(sum(values), len(values)) if values else None
    selected: list[tuple[Fraction, int]] = []
    others: list[tuple[Fraction, int]] = []
    for kind, mean, n in histogram.get(situation.code, []):
        (selected if structure_type is None or kind == structure_type else others).append((mean, n))
    n = sum(count for _mean, count in selected)
    n_others = sum(count for _mean, count in others)
    if n < k or (structure_type and 0 < n_others < k):
        suppressed = Cell.hidden(PRIMARY)
        return SituationComparison(
            situation=situation, mine=_float(mine), peers=suppressed, peers_mean=suppressed, percentile=suppressed
        )
    peers_mean = sum((mean * count for mean, count in selected), Fraction(0)) / n
    if mine is None:
        percentile = Cell.shown(None)
    else:
        relative = _relative(selected, mine)
        cells, total = _suppress(relative, _relative(others, mine), structure_type, k)
        if total.suppressed or cells[0].suppressed or cells[1].suppressed:
            percentile = Cell.hidden(COMPLEMENTARY)
        else:
            percentile = Cell.shown(_percentile(relative[0], relative[1], n))
    return SituationComparison(
        situation=situation,
        mine=_float(mine),
        peers=Cell.shown(n),
        peers_mean=Cell.shown(float(peers_mean)),
        percentile=percentile,
    )


def _relative(group: list[tuple[Fraction, int]], mine: Fraction) -> list[int]:
    """[peers below, tied with, above] the person's mean."""
    below = sum(n for mean, n in group if mean < mine)
    tied = sum(n for mean, n in group if mean == mine)
    above = sum(n for mean, n in group if mean > mine)
    return [below, tied, above]


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)
