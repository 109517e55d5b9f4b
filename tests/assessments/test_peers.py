"""« Se comparer aux pairs »: consent, the join / leave pages, a pool that changes only by batches
of brand-new peers (and is withheld after a departure until then), and a comparison whose
figures all come out of the disclosure layer: perturbed as a whole, the same noise for every
reader of the same group, nothing on fewer than k = 5 peers (zeros included), never the person's
own positionings."""

from __future__ import annotations

import html
import itertools
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grille.assessments import peers, services
from grille.assessments.grants import SESSION_KEY
from grille.assessments.models import Assessment, PeerShare
from grille.assessments.services import AnswerInput
from grille.disclosure.cells import Cell
from grille.disclosure.models import PoolRelease
from grille.disclosure.ptable import default_ptable, parse_ptable
from tests.factories import make_user

ASSOCIATION = "association"
COMMUNE = "commune"
_emails = itertools.count(1)

# A table without noise: the arithmetic of the derived figures can be checked exactly.
NO_NOISE = parse_ptable({"max_noise": 0, "variance": 0.0, "rows": {0: {0: 1.0}}})
MAX_NOISE = default_ptable().max_noise


def submitted(version, levels: dict[str, str], *, owner=None) -> Assessment:
    assessment, _raw = services.start_assessment(version=version, owner=owner)
    services.save_answers(
        assessment=assessment, items=[AnswerInput(practice_code=code, level=level) for code, level in levels.items()]
    )
    return services.submit_assessment(assessment=assessment)


def add_peers(version, count: int, levels: dict[str, str], structure_type: str = ASSOCIATION) -> list[Assessment]:
    """`count` other people, each with an account and one positioning in the benchmark."""
    made = []
    for _ in range(count):
        assessment = submitted(version, levels, owner=make_user(f"pair{next(_emails)}@exemple.fr"))
        peers.join_benchmark(assessment=assessment, structure_type=structure_type)
        made.append(assessment)
    return made


def submitted_and_joined(version, levels: dict[str, str] | None = None) -> Assessment:
    """A positioning made without an account, in the benchmark."""
    assessment = submitted(version, levels or {"1.1": "0"})
    peers.join_benchmark(assessment=assessment, structure_type=ASSOCIATION)
    return assessment


def release_everyone(version) -> None:
    """Arrange: every eligible share published at once, as after a batch."""
    eligible = peers.pool_shares(version.pk)
    eligible.update(released=True)
    PoolRelease.objects.update_or_create(
        key=peers.pool_key(version.pk), defaults={"released_count": eligible.count()}
    )


def group(assessment: Assessment, **kwargs) -> set[int] | None:
    """The positionings in the person's comparison group (true membership, never shown); None
    while the pool is withheld after a departure."""
    pool = peers.published_pool(assessment.version_id)
    if pool is None:
        return None
    shares = pool.exclude(peers.own_positionings(assessment, kwargs.get("own_uuids", ())))
    return set(shares.values_list("assessment_id", flat=True))


def pool_state(version) -> PoolRelease:
    return PoolRelease.objects.get(key=peers.pool_key(version.pk))


def released() -> set[tuple[int, str]]:
    return set(PeerShare.objects.filter(released=True).values_list("assessment_id", "structure_type"))


def browser_with(*assessments: Assessment) -> Client:
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("pages:home"))
    session = browser.session
    session[SESSION_KEY] = [str(a.uuid) for a in assessments]
    session.save()
    return browser


def csrf(browser: Client) -> dict[str, str]:
    return {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value}


def text(response) -> str:
    return html.unescape(response.content.decode())


def url(name: str, assessment: Assessment) -> str:
    return reverse(f"assessments:{name}", args=[assessment.uuid])


def practice(comparison: peers.PeerComparison, code: str) -> peers.PracticeComparison:
    return next(row for row in comparison.practices if row.practice.code == code)


def situation(comparison: peers.PeerComparison, code: str) -> peers.SituationComparison:
    return next(row for row in comparison.situations if row.situation.code == code)


def shares_by_level(row: peers.PracticeComparison) -> dict[str, object]:
    return {level.option.code: level.share.display for level in row.levels}


def tables(response) -> list[str]:
    return re.findall(r"<table.*?</table>", text(response), flags=re.S)


def announced_size(response) -> int:
    match = re.search(r"Comparaison avec ≈ (\d+) positionnements de pairs", text(response))
    assert match, "the comparison is not shown"
    return int(match.group(1))


@pytest.fixture
def person(db):
    return make_user("camille@exemple.fr")


@pytest.fixture
def mine(version, person):
    """The person's submitted positioning: « Régulièrement » on 1.1."""
    return submitted(version, {"1.1": "2"}, owner=person)


@pytest.fixture
def joined(mine):
    peers.join_benchmark(assessment=mine, structure_type=ASSOCIATION)
    return mine


# -- consent --------------------------------------------------------------------------------


def test_join_benchmark_records_the_type_and_the_consent_version(mine):
    before = timezone.now()

    share = peers.join_benchmark(assessment=mine, structure_type=ASSOCIATION)

    stored = PeerShare.objects.get(assessment=mine)
    assert (stored.pk, stored.structure_type, stored.consent_version) == (share.pk, ASSOCIATION, peers.PEER_CONSENT_VERSION)
    assert stored.consented_at >= before


def test_join_benchmark_again_updates_the_type_and_records_the_consent_anew(mine):
    first = peers.join_benchmark(assessment=mine, structure_type=ASSOCIATION)
    PeerShare.objects.filter(pk=first.pk).update(consented_at=timezone.now() - timedelta(days=30))

    peers.join_benchmark(assessment=mine, structure_type=COMMUNE)

    stored = PeerShare.objects.get(assessment=mine)
    assert (stored.pk, stored.structure_type) == (first.pk, COMMUNE)
    assert stored.consented_at > timezone.now() - timedelta(minutes=1)


def test_join_benchmark_with_a_newer_positioning_replaces_the_previous_one(version, person, joined):
    newer = submitted(version, {"1.1": "3"}, owner=person)

    peers.join_benchmark(assessment=newer, structure_type=ASSOCIATION)

    assert list(PeerShare.objects.values_list("assessment_id", flat=True)) == [newer.pk]


def test_join_benchmark_refuses_a_draft(version, person):
    draft, _raw = services.start_assessment(version=version, owner=person)

    with pytest.raises(services.AssessmentError):
        peers.join_benchmark(assessment=draft, structure_type=ASSOCIATION)

    assert PeerShare.objects.count() == 0


def test_join_benchmark_refuses_an_unknown_structure_type(mine):
    with pytest.raises(services.AssessmentError):
        peers.join_benchmark(assessment=mine, structure_type="club-de-foot")

    assert PeerShare.objects.count() == 0


def test_leave_benchmark_withdraws_the_positioning_at_once(version, joined):
    add_peers(version, 4, {"1.1": "1"})  # with the person's share, a batch: all 5 published
    viewer = submitted_and_joined(version)
    assert joined.pk in group(viewer)

    assert peers.leave_benchmark(assessment=joined) is True

    assert PeerShare.objects.filter(assessment=joined).exists() is False
    # It counts no more at once: the pool shows nothing rather than the pool without it.
    assert group(viewer) is None
    assert peers.peer_comparison(viewer).updating is True
    assert pool_state(version).withheld is True
    assert peers.leave_benchmark(assessment=joined) is False
    # With the viewer, a batch of brand-new peers: the pool comes back, without the person.
    add_peers(version, peers.POOL_BATCH - 1, {"1.1": "1"})
    assert group(viewer) is not None and joined.pk not in group(viewer)


def test_join_benchmark_with_another_type_withholds_the_pool_until_a_batch_of_new_peers(version):
    first, *_others = add_peers(version, 5, {"1.1": "1"})
    before = released()
    assert len(before) == 5

    share = peers.join_benchmark(assessment=first, structure_type=COMMUNE)

    # The share left its type: counting it in the other type at once would tell its answers by
    # difference, so nothing is shown, and coming back it is no newcomer.
    assert share.structure_type == COMMUNE and share.released is False
    assert peers.published_pool(version.pk) is None
    newcomers = add_peers(version, peers.POOL_BATCH - 1, {"1.1": "1"})
    assert peers.published_pool(version.pk) is None
    newcomers += add_peers(version, 1, {"1.1": "1"})
    # Between the two published states: the type change, hidden among a whole batch of newcomers.
    assert released() - before == {(first.pk, COMMUNE)} | {(a.pk, ASSOCIATION) for a in newcomers}
    assert before - released() == {(first.pk, ASSOCIATION)}


# -- join and leave pages -------------------------------------------------------------------


def test_profile_of_a_submitted_positioning_offers_to_join(mine):
    response = browser_with(mine).get(url("profile", mine))

    assert response.status_code == 200
    assert f'action="{url("peers_join", mine)}"' in response.content.decode()
    assert "Rejoindre la comparaison" in text(response)


def test_profile_of_a_draft_offers_no_join_form(version):
    draft, _raw = services.start_assessment(version=version)

    response = browser_with(draft).get(url("profile", draft))

    assert url("peers_join", draft) not in response.content.decode()
    assert "Envoyez ce positionnement pour pouvoir le comparer" in text(response)


def test_join_view_records_the_choice_and_the_profile_says_since_when(mine):
    browser = browser_with(mine)

    response = browser.post(url("peers_join", mine), {**csrf(browser), "structure_type": COMMUNE, "consent": "on"})

    assert response.status_code == 302
    assert response.url == url("profile", mine) + "#pairs"
    assert PeerShare.objects.get(assessment=mine).structure_type == COMMUNE
    page = text(browser.get(url("profile", mine)))
    assert "Vous participez à la comparaison depuis le" in page
    assert url("peers_leave", mine) in page


def test_join_view_without_consent_is_400_and_records_nothing(mine):
    browser = browser_with(mine)

    response = browser.post(url("peers_join", mine), {**csrf(browser), "structure_type": COMMUNE})

    assert response.status_code == 400
    assert "Cochez la case pour confirmer votre accord." in text(response)
    assert PeerShare.objects.count() == 0


def test_join_view_with_an_unknown_type_is_400_and_records_nothing(mine):
    browser = browser_with(mine)

    response = browser.post(url("peers_join", mine), {**csrf(browser), "structure_type": "club", "consent": "on"})

    assert response.status_code == 400
    assert PeerShare.objects.count() == 0


def test_join_view_on_a_draft_is_400_and_records_nothing(version):
    draft, _raw = services.start_assessment(version=version)
    browser = browser_with(draft)

    response = browser.post(url("peers_join", draft), {**csrf(browser), "structure_type": COMMUNE, "consent": "on"})

    assert response.status_code == 400
    assert "seul un positionnement envoyé peut être comparé" in text(response)
    assert PeerShare.objects.count() == 0


def test_join_view_without_csrf_token_is_refused(mine):
    response = browser_with(mine).post(url("peers_join", mine), {"structure_type": COMMUNE, "consent": "on"})

    assert response.status_code == 403
    assert PeerShare.objects.count() == 0


def test_leave_view_withdraws_the_positioning(joined):
    browser = browser_with(joined)

    response = browser.post(url("peers_leave", joined), csrf(browser))

    assert response.status_code == 302
    assert PeerShare.objects.filter(assessment=joined).exists() is False


def test_leave_view_without_csrf_token_keeps_the_share(joined):
    response = browser_with(joined).post(url("peers_leave", joined))

    assert response.status_code == 403
    assert PeerShare.objects.filter(assessment=joined).exists() is True


@pytest.mark.parametrize(("method", "name"), [("post", "peers_join"), ("post", "peers_leave"), ("get", "peers")])
def test_peer_pages_of_another_persons_positioning_are_404(version, joined, method, name):
    outsider = browser_with(submitted(version, {"1.1": "1"}))

    response = getattr(outsider, method)(
        url(name, joined), {**csrf(outsider), "structure_type": COMMUNE, "consent": "on"} if method == "post" else {}
    )

    assert response.status_code == 404
    assert PeerShare.objects.get(assessment=joined).structure_type == ASSOCIATION


def test_comparison_with_an_unknown_type_is_400(joined):
    response = browser_with(joined).get(url("peers", joined), {"type": "club-de-foot"})

    assert response.status_code == 400
    assert "Ce type de structure n'existe pas" in text(response)


def test_comparison_with_another_type_than_ones_own_is_400(joined):
    response = browser_with(joined).get(url("peers", joined), {"type": COMMUNE})

    assert response.status_code == 400


def test_comparison_of_a_positioning_outside_the_benchmark_invites_to_join(version, mine):
    add_peers(version, 5, {"1.1": "1"})

    response = browser_with(mine).get(url("peers", mine), {"type": peers.ALL_PEERS})

    assert response.status_code == 200
    assert "ne participe pas à la comparaison" in text(response)
    assert peers.peer_comparison(mine).not_joined is True


# -- a pool that changes in batches -----------------------------------------------------------


def test_the_group_does_not_change_when_peers_join_until_a_batch_of_5(version, joined):
    add_peers(version, 9, {"1.1": "1", "1.2": "2"})  # 10 shares: two batches, all published
    before_group, before = group(joined), peers.peer_comparison(joined)
    assert len(before_group) == 9 and before.shown

    for _ in range(4):
        add_peers(version, 1, {"1.1": "3", "1.2": "0"})
        assert group(joined) == before_group
        assert peers.peer_comparison(joined) == before
    (fifth,) = add_peers(version, 1, {"1.1": "3", "1.2": "0"})

    assert len(group(joined) - before_group) == peers.POOL_BATCH
    assert fifth.pk in group(joined)
    assert before_group <= group(joined)


def test_the_group_is_withheld_when_one_peer_leaves_until_a_batch_of_new_peers(version, joined):
    leaving, *_others = add_peers(version, 14, {"1.1": "1"})  # 15 shares, all published
    before_group = group(joined)

    peers.leave_benchmark(assessment=leaving)

    # Never the group minus one: nothing at all, for every reader.
    assert group(joined) is None
    assert peers.peer_comparison(joined).updating is True
    newcomers = []
    for _ in range(peers.POOL_BATCH - 1):
        newcomers += add_peers(version, 1, {"1.1": "1"})
        assert group(joined) is None
    newcomers += add_peers(version, 1, {"1.1": "1"})
    # The next published group: the leaver gone among a whole batch of newcomers.
    assert group(joined) == (before_group - {leaving.pk}) | {a.pk for a in newcomers}
    assert peers.peer_comparison(joined).shown is True


def test_a_departure_shows_that_the_comparison_is_suspended_until_new_peers_arrive(version, joined):
    gone, *_others = add_peers(version, 9, {"1.1": "1"})
    # As an erasure that forgot to settle the pool would leave it: fails closed already.
    PeerShare.objects.filter(assessment=gone).delete()
    browser = browser_with(joined)

    response = browser.get(url("peers", joined), {"type": peers.ALL_PEERS})

    assert peers.peer_comparison(joined).updating is True
    assert peers.peer_comparison(joined).practices == ()
    page = text(response)
    assert "La comparaison est suspendue : un pair l'a quittée" in page
    assert f"Elle reviendra avec l'arrivée d'au moins {peers.POOL_BATCH} nouveaux pairs." in page
    assert "Par pratique" not in page and "Comparaison avec" not in page
    # Settling does not bring it back by itself: only a batch of brand-new peers does.
    peers.settle_pool(version.pk)
    assert peers.peer_comparison(joined).updating is True
    add_peers(version, peers.POOL_BATCH, {"1.1": "1"})
    assert peers.peer_comparison(joined).updating is False
    assert gone.pk not in group(joined)
    assert "Comparaison avec ≈" in text(browser.get(url("peers", joined), {"type": peers.ALL_PEERS}))


def test_deleting_a_positioning_of_the_pool_settles_it(version, joined):
    gone, *_others = add_peers(version, 9, {"1.1": "1"})

    services.delete_assessment(assessment=gone)

    # Settled in the deletion: the pool is marked withheld, not only read short of a share.
    assert pool_state(version).withheld is True
    assert peers.peer_comparison(joined).updating is True
    add_peers(version, peers.POOL_BATCH, {"1.1": "1"})
    assert pool_state(version).withheld is False
    assert gone.pk not in group(joined)


def test_claiming_a_positioning_of_the_pool_settles_it(version, person, joined):
    anonymous = submitted_and_joined(version, {"1.1": "3"})
    add_peers(version, 8, {"1.1": "1"})  # 10 shares, all published
    viewer = submitted_and_joined(version)

    services.claim_assessments(user=person, uuids=[str(anonymous.uuid)])

    # The person now has two shares: only the latest counts, so the earlier one left the pool,
    # which was settled in the claim: withheld.
    assert pool_state(version).withheld is True
    assert peers.peer_comparison(viewer).updating is True
    add_peers(version, peers.POOL_BATCH - 1, {"1.1": "1"})  # with the viewer's, a batch
    assert peers.peer_comparison(viewer).updating is False
    assert joined.pk not in group(viewer)
    assert anonymous.pk in group(viewer)


def test_joining_says_when_the_positioning_will_count_for_the_others(version, mine):
    browser = browser_with(mine)

    browser.post(url("peers_join", mine), {**csrf(browser), "structure_type": ASSOCIATION, "consent": "on"})
    page = text(browser.get(url("profile", mine)))

    assert "il comptera pour les autres avec le prochain lot" in page
    assert "Votre positionnement comptera pour les autres pairs avec le prochain lot" in page
    add_peers(version, 4, {"1.1": "1"})
    assert "avec le prochain lot" not in text(browser.get(url("profile", mine)))


# -- the k rule and the query space ------------------------------------------------------------


def test_comparison_is_hidden_with_4_peers_and_shown_with_enough(version, joined):
    add_peers(version, 4, {"1.1": "1"})  # a batch with the person's share: 4 peers published
    browser = browser_with(joined)

    hidden = browser.get(url("peers", joined), {"type": peers.ALL_PEERS})
    assert peers.peer_comparison(joined).too_few is True
    add_peers(version, 5, {"1.1": "1"})  # 9 peers: even the largest noise keeps them at k or more
    shown = browser.get(url("peers", joined), {"type": peers.ALL_PEERS})

    assert hidden.status_code == shown.status_code == 200
    assert "Pas encore assez de pairs" in text(hidden)
    assert "Par pratique" not in text(hidden)
    assert "Financer les projets" not in text(hidden)
    comparison = peers.peer_comparison(joined)
    assert announced_size(shown) == comparison.peers
    assert abs(comparison.peers - 9) <= MAX_NOISE
    assert "tous types de structure." in text(shown)
    assert "Ma moyenne, celle des pairs (de 0 à 3)" in text(shown)
    assert "Financer les projets" in text(shown)


def test_comparison_by_type_is_hidden_with_4_peers_of_that_type_and_shown_with_enough(version, joined):
    add_peers(version, 5, {"1.1": "1"}, structure_type=COMMUNE)
    add_peers(version, 4, {"1.1": "1"}, structure_type=ASSOCIATION)  # 10 shares, all published
    browser = browser_with(joined)

    hidden = browser.get(url("peers", joined), {"type": ASSOCIATION})
    assert peers.peer_comparison(joined, structure_type=ASSOCIATION).too_few is True
    add_peers(version, 5, {"1.1": "1"}, structure_type=ASSOCIATION)
    shown = browser.get(url("peers", joined), {"type": ASSOCIATION})

    assert "Pas encore assez de pairs" in text(hidden)
    by_type = peers.peer_comparison(joined, structure_type=ASSOCIATION)
    assert "de pairs du type « Association »." in text(shown)
    assert announced_size(shown) == by_type.peers
    assert abs(by_type.peers - 9) <= MAX_NOISE
    assert len(group(joined)) == 14


def test_comparison_by_type_is_hidden_when_the_other_types_would_be_a_small_group(version, joined):
    add_peers(version, 5, {"1.1": "1"}, structure_type=ASSOCIATION)
    add_peers(version, 4, {"1.1": "3"}, structure_type=COMMUNE)  # 10 shares, all published

    by_type = peers.peer_comparison(joined, structure_type=ASSOCIATION)

    assert by_type.others_too_few is True
    assert by_type.practices == ()
    assert len(group(joined)) == 9
    assert peers.peer_comparison(joined).shown is True


def test_the_persons_own_positionings_never_count(version, person, joined):
    add_peers(version, 4, {"1.1": "1"})
    # A second share of the same person, as a race between two tabs could leave behind.
    another = submitted(version, {"1.1": "3"}, owner=person)
    PeerShare.objects.create(assessment=another, structure_type=ASSOCIATION, consent_version=peers.PEER_CONSENT_VERSION)
    release_everyone(version)

    assert peers.peer_comparison(joined).too_few is True
    assert peers.peer_comparison(another).too_few is True
    others = set(PeerShare.objects.exclude(assessment__owner=person).values_list("assessment_id", flat=True))
    assert group(joined) == group(another) == others


def test_a_viewer_never_sees_their_own_positioning_counted(version, person):
    me = submitted(version, {"1.1": "3"}, owner=person)
    peers.join_benchmark(assessment=me, structure_type=ASSOCIATION)
    others = add_peers(version, 9, {"1.1": "1"})  # 10 shares, all published, the person's among them

    mine = peers.peer_comparison(me, table=NO_NOISE)
    theirs = peers.peer_comparison(others[0], table=NO_NOISE)

    assert me.pk not in group(me)
    assert mine.peers == 9
    assert shares_by_level(practice(mine, "1.1")) == {"0": "s", "1": 1.0, "2": "s", "3": "s", "nc": "s"}
    # Seen by a peer, the person is one of 9 too, and alone at their level: a hidden cell.
    assert theirs.peers == 9
    assert shares_by_level(practice(theirs, "1.1")) == {"0": "s", "1": 1.0, "2": "s", "3": "s", "nc": "s"}


def test_positionings_of_the_same_browser_never_count_for_each_other(version):
    first, second = submitted_and_joined(version, {"1.1": "2"}), submitted_and_joined(version, {"1.1": "3"})
    add_peers(version, 4, {"1.1": "1"})
    release_everyone(version)

    response = browser_with(first, second).get(url("peers", first), {"type": peers.ALL_PEERS})

    assert "Pas encore assez de pairs" in text(response)
    # Seen from elsewhere, two anonymous positionings count as two.
    elsewhere = submitted_and_joined(version)
    assert {first.pk, second.pk} <= group(elsewhere)
    assert len(group(elsewhere)) == 6


def test_only_the_latest_share_of_each_person_counts(version, joined):
    (peer,) = add_peers(version, 1, {"1.1": "3"})
    earlier = submitted(version, {"1.1": "0"}, owner=peer.owner)
    PeerShare.objects.create(assessment=earlier, structure_type=ASSOCIATION, consent_version=peers.PEER_CONSENT_VERSION)
    PeerShare.objects.filter(assessment=earlier).update(consented_at=timezone.now() - timedelta(days=1))
    add_peers(version, 4, {"1.1": "1"})
    release_everyone(version)

    members = group(joined)

    assert peer.pk in members
    assert earlier.pk not in members
    assert len(members) == 5


# -- the figures ----------------------------------------------------------------------------


def test_figures_derive_from_the_published_counts_only(version, person):
    me = submitted(version, {"1.1": "2", "1.2": "2"}, owner=person)
    peers.join_benchmark(assessment=me, structure_type=ASSOCIATION)
    add_peers(version, 5, {"1.1": "2", "1.2": "2"})  # situation 1: score 2, as mine
    add_peers(version, 5, {"1.1": "1", "1.2": "1"})  # situation 1: score 1
    add_peers(version, 2, {"1.1": "3", "1.2": "3"})  # too few: hidden, and left out of every total
    release_everyone(version)

    comparison = peers.peer_comparison(me, table=NO_NOISE)

    assert comparison.peers == 12
    row = situation(comparison, "1")
    # The mean counts every score class, the small one too (2 peers at 3): (5 × 2 + 5 × 1 + 2 × 3) / 12.
    assert (row.mine, row.peers.value, row.peers_mean.value) == (2.0, 12, 1.75)
    # The percentile reads the classes of k or more: 5 below + half of the 5 tied, over 10.
    assert row.percentile == Cell.shown(0.75, approximate=True)
    one = practice(comparison, "1.1")
    assert shares_by_level(one) == {"0": "s", "1": 0.5, "2": 0.5, "3": "s", "nc": "s"}
    assert one.peers == Cell.shown(10, approximate=True)
    assert one.percentile == Cell.shown(0.75, approximate=True)
    assert practice(comparison, "2.1").peers.suppressed is True
    assert practice(comparison, "2.1").percentile.suppressed is True
    assert situation(comparison, "2").peers.suppressed is True
    assert situation(comparison, "2").mine is None


def test_a_percentile_is_hidden_when_the_persons_level_is_a_hidden_cell(version, person):
    me = submitted(version, {"1.1": "3"}, owner=person)
    peers.join_benchmark(assessment=me, structure_type=ASSOCIATION)
    add_peers(version, 5, {"1.1": "2"})
    add_peers(version, 2, {"1.1": "3"})
    release_everyone(version)

    row = practice(peers.peer_comparison(me, table=NO_NOISE), "1.1")

    assert shares_by_level(row) == {"0": "s", "1": "s", "2": 1.0, "3": "s", "nc": "s"}
    assert row.percentile.suppressed is True
    assert situation(peers.peer_comparison(me, table=NO_NOISE), "1").percentile.suppressed is True


def test_published_figures_are_perturbed_and_never_below_k(version, joined, grid):
    add_peers(version, 6, {"1.1": "1"})
    add_peers(version, 3, {"1.1": "3"})  # 10 shares, all published

    comparison = peers.peer_comparison(joined)

    for row in comparison.practices:
        cells = [level.share for level in row.levels] + [row.peers, row.percentile]
        assert all(cell.suppressed or cell.value is None or cell.approximate for cell in cells), row.practice.code
    one = practice(comparison, "1.1")
    counts = {
        level.option.code: round(level.share.value * one.peers.value) for level in one.levels if not level.share.suppressed
    }  # the published counts, read back from their shares of the published total
    # 6 peers at level 1, 3 at level 3 (the person's own level 2 is not among them), none elsewhere.
    assert set(counts) <= {"1", "3"}
    assert all(count >= comparison.k for count in counts.values())
    assert abs(counts.get("1", 6) - 6) <= MAX_NOISE and abs(counts.get("3", 3) - 3) <= MAX_NOISE
    assert one.peers == (Cell.shown(sum(counts.values()), approximate=True) if counts else Cell.hidden())
    assert all(row.peers.suppressed for row in comparison.practices if row.practice.code != "1.1")


def test_zeros_read_s_never_0_on_the_page(version, joined):
    add_peers(version, 9, {"1.1": "1"})  # nobody at the other levels

    response = browser_with(joined).get(url("peers", joined), {"type": peers.ALL_PEERS})
    page, cells = text(response), re.findall(r"<td[^>]*>(.*?)</td>", "".join(tables(response)), flags=re.S)

    assert not [cell for cell in cells if re.fullmatch(r"(<strong>)?0(,0)? %.*", cell)]
    assert any(cell.startswith('<span class="suppressed" title="moins de 5 pairs">s') for cell in cells)
    assert "Chiffres arrondis par une légère perturbation aléatoire pour protéger les personnes" in page
    assert f'href="{reverse("pages:protection")}"' in page


def published_counts(comparison: peers.PeerComparison) -> dict[tuple[str, str], int | None]:
    """(practice, level) -> the count a reader is shown (share × peers counted), None when hidden."""
    return {
        (row.practice.code, level.option.code): (
            None if level.share.suppressed else round(level.share.value * row.peers.value)
        )
        for row in comparison.practices for level in row.levels
    }


@pytest.mark.parametrize(("structure_type", "size"), [(None, 24), (ASSOCIATION, 18)])
def test_every_reader_of_the_group_sees_the_same_noise_less_their_own(version, grid, structure_type, size):
    """Two readers in the same group: their figures differ exactly by their own positionings, so
    several accounts reading « the peers minus me » get one noise, nothing to average away."""
    codes = [p.code for p in grid.practices]
    first = submitted(version, dict.fromkeys(codes, "2"), owner=make_user("premier@exemple.fr"))
    second = submitted(version, dict.fromkeys(codes, "3"), owner=make_user("second@exemple.fr"))
    for reader in (first, second):
        peers.join_benchmark(assessment=reader, structure_type=ASSOCIATION)
    add_peers(version, 8, dict.fromkeys(codes, "2"))
    add_peers(version, 8, dict.fromkeys(codes, "3"))
    add_peers(version, 6, dict.fromkeys(codes, "1"), structure_type=COMMUNE)
    release_everyone(version)  # the group: `size` people, the two readers among them

    one = peers.peer_comparison(first, structure_type=structure_type)
    two = peers.peer_comparison(second, structure_type=structure_type)

    assert one.shown and two.shown
    assert one.peers == two.peers  # each is one of the group: the same noisy size, less one
    assert abs(one.peers - (size - 1)) <= MAX_NOISE
    mine, theirs = published_counts(one), published_counts(two)
    assert mine.keys() == theirs.keys() and len(mine) == 5 * len(codes)
    for (code, level), count in mine.items():
        # 9 of the group at « 2 » and 9 at « 3 » on every practice: shown to both, whatever the
        # noise. The first reader sees the group without their « 2 », the second without their « 3 ».
        if level == "2":
            assert theirs[(code, level)] - count == 1, code
        elif level == "3":
            assert count - theirs[(code, level)] == 1, code
        else:
            assert count == theirs[(code, level)], (code, level)
    # The group's noise is real (else one noise and several would look alike here).
    assert {mine[(code, "2")] + 1 for code in codes} != {9}


def test_same_inputs_give_the_same_figures_across_two_calls(version, joined):
    add_peers(version, 5, {"1.1": "1", "2.1": "2"})
    add_peers(version, 4, {"1.1": "2", "2.1": "3"})
    browser = browser_with(joined)

    first = peers.peer_comparison(joined)
    second = peers.peer_comparison(Assessment.objects.get(pk=joined.pk))

    assert first.shown and first == second
    assert tables(browser.get(url("peers", joined))) == tables(browser.get(url("peers", joined)))


def test_comparison_page_takes_the_same_queries_for_10_or_30_peers(version, grid):
    codes = [p.code for p in grid.practices]
    levels = dict.fromkeys(codes, "2")

    def queries(count: int) -> int:
        me = submitted(version, levels, owner=make_user(f"moi{next(_emails)}@exemple.fr"))
        peers.join_benchmark(assessment=me, structure_type=ASSOCIATION)
        add_peers(version, count - PeerShare.objects.exclude(assessment=me).count(), levels)
        release_everyone(version)
        browser = Client()
        browser.force_login(me.owner)
        with CaptureQueriesContext(connection) as captured:
            response = browser.get(url("peers", me), {"type": ASSOCIATION})
        assert response.status_code == 200
        assert abs(announced_size(response) - count) <= MAX_NOISE
        return len(captured)

    small = queries(10)
    large = queries(30)

    assert small == large, (small, large)


# --- the proof of consent (issue 13, finding 8) ----------------------------------------------


def test_leaving_keeps_the_proof_of_consent_while_the_share_leaves_the_pool(version):
    from grille.assessments.models import ConsentRecord

    owner = make_user("preuve@exemple.fr")
    assessment = submitted(version, {"1.1": "2"}, owner=owner)
    peers.join_benchmark(assessment=assessment, structure_type=ASSOCIATION)
    assert peers.leave_benchmark(assessment=assessment)
    assert not PeerShare.objects.filter(assessment=assessment).exists()
    (proof,) = ConsentRecord.objects.filter(kind="pairs", assessment=assessment)
    assert proof.user == owner and proof.text_version == peers.PEER_CONSENT_VERSION
    assert proof.given_at <= proof.withdrawn_at
    # Joining again is a new consent, with a proof of its own; the first stays withdrawn.
    peers.join_benchmark(assessment=assessment, structure_type=ASSOCIATION)
    assert ConsentRecord.objects.filter(assessment=assessment, withdrawn_at__isnull=True).count() == 1
    assert ConsentRecord.objects.filter(assessment=assessment).count() == 2


def test_an_anonymous_peer_is_proven_by_a_pseudonym(version):
    from grille.assessments.models import ConsentRecord

    assessment = submitted_and_joined(version)
    services.delete_assessment(assessment=assessment)
    (proof,) = ConsentRecord.objects.filter(kind="pairs")
    assert proof.user is None and proof.assessment is None and proof.withdrawn_at is not None
    assert re.fullmatch(r"P-[A-Z2-9]{8}", proof.pseudonym)
