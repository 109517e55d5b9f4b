"""« Se comparer aux pairs »: the network's anonymous benchmark of submitted positionings.

Joining is a choice of its own (not a share with an organisation or a study), recorded with
the wording's version and revocable at any time. Only participants see the comparison, and
only against a group of at least k positionings that are not theirs (DESIGN.md, privacy).

One person counts once: only the most recent share of each owner is read, and joining with a
new positioning replaces the previous one. A positioning made without an account counts
on its own (nothing ties two of them to one person).

The pool of each framework version changes in batches (grille/disclosure/release.py): a share
that joins waits until at least `POOL_BATCH` brand-new positionings wait with it; a published
share that leaves, is replaced or changes its type of structure withholds the comparison of
everyone (nothing shown) until that next release, where a positioning coming back rides along
without counting as new. So any two comparisons seen at different moments differ by no one or
by at least a batch of newcomers. The comparison group is the published pool (or its part of
one type of structure) minus the person's own positionings: its figures are counted by the
aggregation core and published by the disclosure layer only (cell key perturbation, nothing
below k, zeros included), perturbed as a whole so that every reader of the same group sees the
same noise, the reader's own positionings in it taken off exactly afterwards.

Every figure is derived from the published counts (docs/protection-des-donnees.md): a level's
share is its published count over the published counts of the practice (« pairs comptés »),
the peers' mean in a situation is the layer's mean of the perturbed score classes, and the
percentile is the share of the peers counted below the person plus half of those counted at
the same level (or in the same score class), cells that read below k (score classes included)
left out as they are from every total. A percentile is shown only when the cell it places the
person in reads k or more: it never says whether fewer than k peers, or none, share it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from grille.core.enums import StructureType
from grille.disclosure import release
from grille.disclosure.aggregation import GroupTallies, person_score, score_class, tally_groups
from grille.disclosure.cells import DEFAULT_THRESHOLD, Cell, MeanCell, validate_threshold
from grille.disclosure.policy import POOL_BATCH
from grille.disclosure.protect import GroupFigures, PracticeFigures, publish_group
from grille.disclosure.ptable import PerturbationTable
from grille.frameworks import grid as g

from .consents import record_consent, withdraw_consents
from .enums import AssessmentStatus, ConsentKind
from .errors import AssessmentError
from .models import Answer, Assessment, PeerShare
from .profile import PracticeScore, Profile
from .selectors import get_profile

# The wording a person agrees to when joining; its version is recorded with each share.
PEER_CONSENT_VERSION = "2026-11"

# The explicit filter value for every peer, whatever their type of structure.
ALL_PEERS = "tous"

# Why a comparison is not shown.
NOT_JOINED = "not-joined"
TOO_FEW = "too-few"
# The group of the other types would be small: all peers minus this type would recompute it.
OTHERS_TOO_FEW = "others-too-few"
# A published share left the pool: nothing is shown until the next release.
UPDATING = "updating"


# -- the pool -------------------------------------------------------------------------------


def pool_key(version_id: int) -> str:
    return f"peers:{version_id}"


def pool_shares(version_id: int) -> QuerySet[PeerShare]:
    """The shares eligible for the pool of a framework version: submitted positionings on that
    version, the latest share of each owner (released or waiting for the next batch)."""
    newer = PeerShare.objects.filter(assessment__owner_id=OuterRef("assessment__owner_id")).filter(
        Q(consented_at__gt=OuterRef("consented_at")) | Q(consented_at=OuterRef("consented_at"), pk__gt=OuterRef("pk"))
    )
    return PeerShare.objects.filter(
        assessment__version_id=version_id, assessment__status=AssessmentStatus.SUBMITTED
    ).filter(Q(assessment__owner__isnull=True) | ~Exists(newer))


def settle_pool(version_id: int) -> bool:
    """Withhold the pool when a published share left it, and release the waiting shares once
    `POOL_BATCH` of them are brand-new to it (called in the transaction of every change to the
    pool: joining, leaving, replacing, deleting, claiming)."""
    return release.settle(pool_key(version_id), pool_shares(version_id), batch=POOL_BATCH)


# -- services -------------------------------------------------------------------------------


@transaction.atomic
def join_benchmark(*, assessment: Assessment, structure_type: str) -> PeerShare:
    """Add a submitted positioning to the anonymous benchmark, with the person's type of structure.

    Joining again records the consent anew; with another type the published share leaves its
    type (the pool is withheld) and comes back in the other with the next batch, without counting
    as new. Joining with another positioning of the same owner replaces the previous one (one
    person counts once).
    """
    if structure_type not in StructureType.values:
        raise AssessmentError(_("Choisissez votre type de structure dans la liste."))
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if not locked.is_submitted:
        raise AssessmentError(
            _("Envoyez d'abord ce positionnement : seul un positionnement envoyé peut être comparé à ceux des pairs.")
        )
    touched = {locked.version_id}
    if locked.owner_id is not None:
        # Two tabs joining with two positionings queue here, so one share per person remains.
        list(get_user_model().objects.select_for_update().filter(pk=locked.owner_id).values_list("pk"))
        replaced = PeerShare.objects.filter(assessment__owner_id=locked.owner_id).exclude(assessment=locked)
        touched.update(replaced.values_list("assessment__version_id", flat=True))
        withdraw_consents(assessments=replaced.values_list("assessment_id", flat=True), kind=ConsentKind.PEERS)
        replaced.delete()
    share, created = PeerShare.objects.get_or_create(
        assessment=locked,
        defaults={"structure_type": structure_type, "consent_version": PEER_CONSENT_VERSION},
    )
    if not created:
        fields = ["structure_type", "consent_version", "consented_at"]
        if share.structure_type != structure_type and share.released:
            share.released = False
            fields.append("released")
        share.structure_type = structure_type
        share.consent_version = PEER_CONSENT_VERSION
        share.consented_at = timezone.now()
        share.save(update_fields=fields)
    record_consent(kind=ConsentKind.PEERS, assessment=locked, text_version=PEER_CONSENT_VERSION)
    for version_id in sorted(touched):
        settle_pool(version_id)
    share.refresh_from_db(fields=["released"])
    return share


@transaction.atomic
def leave_benchmark(*, assessment: Assessment) -> bool:
    """Withdraw a positioning from the benchmark at once; False when it was not in it.

    The pool is settled at once: if the share was published, the comparison is withheld for
    everyone until the next batch of brand-new peers, so that the group others compare
    themselves with never changes by one person.
    """
    deleted, _by_model = PeerShare.objects.filter(assessment=assessment).delete()
    # The proof of the consent stays, stamped with the withdrawal (ConsentRecord).
    withdraw_consents(assessments=[assessment.pk], kind=ConsentKind.PEERS)
    if deleted:
        settle_pool(assessment.version_id)
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
    share: Cell  # fraction of the peers counted for this practice (0–1), or suppressed


@dataclass(frozen=True)
class PracticeComparison:
    practice: g.Practice
    mine: g.Option | None
    peers: Cell  # peers counted for this practice: the published level counts added up
    levels: tuple[LevelShare, ...]
    percentile: Cell  # 0–1; a shown None when the person's level has no value


@dataclass(frozen=True)
class SituationComparison:
    situation: g.Situation
    mine: float | None
    peers: Cell  # peers counted in this situation: the published score classes added up
    peers_mean: Cell
    percentile: Cell


@dataclass(frozen=True)
class PeerComparison:
    grid: g.Grid
    k: int
    structure_type: str | None
    share: PeerShare | None
    peers: int | None  # published (perturbed) size of the comparison group, None when not shown
    hidden_reason: str
    situations: tuple[SituationComparison, ...] = ()
    practices: tuple[PracticeComparison, ...] = ()
    batch: int = POOL_BATCH

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
    def updating(self) -> bool:
        return self.hidden_reason == UPDATING

    @property
    def structure_label(self) -> str:
        return str(StructureType(self.structure_type).label) if self.structure_type else ""


def published_pool(version_id: int) -> QuerySet[PeerShare] | None:
    """The released pool of a version, the same for every reader; None while it is withheld."""
    return release.published(pool_key(version_id), pool_shares(version_id))


def own_positionings(assessment: Assessment, own_uuids: Iterable[str]) -> Q:
    """The person's own positionings, never counted among their peers."""
    own = Q(assessment_id=assessment.pk) | Q(assessment__uuid__in=list(own_uuids))
    if assessment.owner_id is not None:
        own |= Q(assessment__owner_id=assessment.owner_id)
    return own


def peer_comparison(
    assessment: Assessment,
    *,
    structure_type: str | None = None,
    k: int = DEFAULT_THRESHOLD,
    own_uuids: Iterable[str] = (),
    table: PerturbationTable | None = None,
) -> PeerComparison:
    """Where a participant stands among their peers, per situation and per practice.

    `structure_type` narrows the peers to one type of structure (None: all peers): the only
    two groups offered, so that no crossing of filters can isolate anyone. `own_uuids` are other
    positionings of the same person (opened in the same browser) that must not count either.
    `table` is the perturbation table (the shipped one by default). A fixed number of queries
    whatever the number of peers.
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
    pool = published_pool(assessment.version_id)
    if pool is None:
        return hidden(UPDATING)
    own = own_positionings(assessment, own_uuids)
    # True counts decide which group may be offered at all, as the query space is written down:
    # all peers, or one type whose peers and whose complement both hold k people or none.
    sizes = dict(pool.exclude(own).values_list("structure_type").annotate(n=Count("id")).order_by())
    everyone = sum(sizes.values())
    n = sizes.get(structure_type, 0) if structure_type else everyone
    if n < k:
        return hidden(TOO_FEW)
    if structure_type and 0 < everyone - n < k:
        return hidden(OTHERS_TOO_FEW)
    if structure_type:
        pool = pool.filter(structure_type=structure_type)
    # The group is perturbed as a whole, the same for every reader, then the reader's own
    # positionings in it are taken off exactly: several accounts each reading "the peers minus
    # me" would otherwise each get a fresh noise, and average it away.
    tallies = tally_groups(Answer.objects.filter(assessment__peer_share__in=pool), grid).get(None, GroupTallies())
    mine = tally_groups(Answer.objects.filter(assessment__peer_share__in=pool.filter(own)), grid).get(None, GroupTallies())
    figures = publish_group(tallies, grid, k, table=table, less=mine)
    if not figures.shown:
        return hidden(TOO_FEW)
    return PeerComparison(
        grid=grid,
        k=k,
        structure_type=structure_type,
        share=share,
        peers=int(figures.size.number),
        hidden_reason="",
        situations=tuple(_situation_row(situation, profile, figures) for situation in grid.situations),
        practices=tuple(_practice_row(score, figures.practices[score.practice.id]) for score in profile.practices),
    )


def _percentile(below: int, tied: int, n: int) -> Cell:
    return Cell.shown(float(Fraction(2 * below + tied, 2 * n)), approximate=True)


def _practice_row(score: PracticeScore, figures: PracticeFigures) -> PracticeComparison:
    cells = figures.levels.cells
    total = figures.levels.total
    shares = tuple(
        LevelShare(
            option=o,
            share=c if c.suppressed or total.suppressed else Cell.shown(c.number / total.number, approximate=True),
        )
        for o, c in cells
    )
    mine = score.level
    if total.suppressed:
        percentile = Cell.hidden()
    elif mine is None or mine.value is None:
        percentile = Cell.shown(None)
    else:
        if figures.levels.count(mine.id).suppressed:
            percentile = Cell.hidden()
        else:
            shown = [(o.value, int(c.number)) for o, c in cells if o.value is not None and not c.suppressed]
            below = sum(n for value, n in shown if value < mine.value)
            tied = sum(n for value, n in shown if value == mine.value)
            percentile = _percentile(below, tied, sum(n for _value, n in shown))
    return PracticeComparison(practice=score.practice, mine=mine, peers=total, levels=shares, percentile=percentile)


def _situation_row(situation: g.Situation, profile: Profile, figures: GroupFigures) -> SituationComparison:
    values = [s.value for s in profile.practices if s.practice.situation_code == situation.code and s.value is not None]
    mine = person_score(values)
    mean = figures.situations.get(situation.code, MeanCell.hidden())
    if mean.suppressed or mean.n is None or mean.mean is None:
        suppressed = Cell.hidden()
        return SituationComparison(
            situation=situation, mine=_float(mine), peers=suppressed, peers_mean=suppressed, percentile=suppressed
        )
    if mine is None:
        percentile = Cell.shown(None)
    else:
        # The score classes are perturbed counts, small ones included (for the mean): a class
        # reading below k is a hidden cell here, left out as it is from every published total.
        classes = [(score, n) for score, n in figures.situation_classes.get(situation.code, ()) if n >= figures.k]
        own = score_class(sum(values), len(values))
        tied = sum(n for score, n in classes if score == own)
        if not tied:
            percentile = Cell.hidden()
        else:
            below = sum(n for score, n in classes if score < own)
            percentile = _percentile(below, tied, sum(n for _score, n in classes))
    return SituationComparison(
        situation=situation,
        mine=_float(mine),
        peers=Cell.shown(mean.n, approximate=True),
        peers_mean=Cell.shown(mean.mean, approximate=True),
        percentile=percentile,
    )


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)
