"""« Se comparer aux pairs »: consent, the join / leave pages, and a comparison that never
shows a figure on fewer than k = 5 peers nor counts the person's own positionings."""

from __future__ import annotations

import html
import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grille.assessments import peers, services
from grille.assessments.models import Assessment, PeerShare
from grille.assessments.selectors import SESSION_KEY
from grille.assessments.services import AnswerInput
from grille.studies.suppression import Cell
from tests.factories import make_user

ASSOCIATION = "association"
COMMUNE = "commune"
_emails = itertools.count(1)


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


def browser_with(*assessments: Assessment) -> Client:
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("core:home"))
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
    viewer = submitted(version, {"1.1": "1"})
    peers.join_benchmark(assessment=viewer, structure_type=ASSOCIATION)
    add_peers(version, 4, {"1.1": "1"})
    assert peers.peer_comparison(viewer).peers == 5

    assert peers.leave_benchmark(assessment=joined) is True

    assert PeerShare.objects.filter(assessment=joined).exists() is False
    assert peers.peer_comparison(viewer).too_few is True
    assert peers.leave_benchmark(assessment=joined) is False


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


# -- the k rule -----------------------------------------------------------------------------


def test_comparison_is_hidden_with_4_peers_and_shown_with_5(version, joined):
    add_peers(version, 4, {"1.1": "1"})
    browser = browser_with(joined)

    hidden = browser.get(url("peers", joined), {"type": peers.ALL_PEERS})
    assert peers.peer_comparison(joined).too_few is True
    add_peers(version, 1, {"1.1": "1"})
    shown = browser.get(url("peers", joined), {"type": peers.ALL_PEERS})

    assert hidden.status_code == shown.status_code == 200
    assert "Pas encore assez de pairs" in text(hidden)
    assert "Par pratique" not in text(hidden)
    assert "Comparaison avec 5 positionnements de pairs, tous types de structure." in text(shown)
    assert "Ma moyenne, celle des pairs (de 0 à 3)" in text(shown)
    assert "Financer les projets" in text(shown)
    assert "Financer les projets" not in text(hidden)
    assert peers.peer_comparison(joined).peers == 5


def test_comparison_by_type_is_hidden_with_4_peers_of_that_type_and_shown_with_5(version, joined):
    add_peers(version, 5, {"1.1": "1"}, structure_type=COMMUNE)
    add_peers(version, 4, {"1.1": "1"}, structure_type=ASSOCIATION)
    browser = browser_with(joined)

    hidden = browser.get(url("peers", joined), {"type": ASSOCIATION})
    assert peers.peer_comparison(joined, structure_type=ASSOCIATION).too_few is True
    add_peers(version, 1, {"1.1": "1"}, structure_type=ASSOCIATION)
    shown = browser.get(url("peers", joined), {"type": ASSOCIATION})

    assert "Pas encore assez de pairs" in text(hidden)
    assert "Comparaison avec 5 positionnements de pairs du type « Association »." in text(shown)
    assert peers.peer_comparison(joined, structure_type=ASSOCIATION).peers == 5
    assert peers.peer_comparison(joined).peers == 10


def test_comparison_by_type_is_hidden_when_the_other_types_would_be_a_small_group(version, joined):
    add_peers(version, 5, {"1.1": "1"}, structure_type=ASSOCIATION)
    add_peers(version, 2, {"1.1": "3"}, structure_type=COMMUNE)

    by_type = peers.peer_comparison(joined, structure_type=ASSOCIATION)

    assert by_type.others_too_few is True
    assert by_type.practices == ()
    assert peers.peer_comparison(joined).peers == 7


def test_the_persons_own_positionings_never_count(version, person, joined):
    add_peers(version, 4, {"1.1": "1"})
    # A second share of the same person, as a race between two tabs could leave behind.
    another = submitted(version, {"1.1": "3"}, owner=person)
    PeerShare.objects.create(assessment=another, structure_type=ASSOCIATION, consent_version=peers.PEER_CONSENT_VERSION)

    assert peers.peer_comparison(joined).too_few is True
    assert peers.peer_comparison(another).too_few is True


def test_positionings_of_the_same_browser_never_count_for_each_other(version):
    first, second = submitted_and_joined(version, {"1.1": "2"}), submitted_and_joined(version, {"1.1": "3"})
    add_peers(version, 4, {"1.1": "1"})

    response = browser_with(first, second).get(url("peers", first), {"type": peers.ALL_PEERS})

    assert "Pas encore assez de pairs" in text(response)
    # Seen from elsewhere, two anonymous positionings count as two.
    assert peers.peer_comparison(submitted_and_joined(version)).peers == 6


def test_only_the_latest_share_of_each_person_counts(version, joined):
    (peer,) = add_peers(version, 1, {"1.1": "3"})
    earlier = submitted(version, {"1.1": "0"}, owner=peer.owner)
    PeerShare.objects.create(assessment=earlier, structure_type=ASSOCIATION, consent_version=peers.PEER_CONSENT_VERSION)
    PeerShare.objects.filter(assessment=earlier).update(consented_at=timezone.now() - timedelta(days=1))
    add_peers(version, 4, {"1.1": "1"})

    comparison = peers.peer_comparison(joined)

    assert comparison.peers == 5
    assert practice(comparison, "1.1").peers.value == 5


# -- the figures ----------------------------------------------------------------------------


def test_percentile_and_shares_are_exact_on_fixed_data(version, person):
    me = submitted(version, {"1.1": "3", "1.2": "1"}, owner=person)
    peers.join_benchmark(assessment=me, structure_type=ASSOCIATION)
    add_peers(version, 5, {"1.1": "2", "1.2": "2"})  # situation 1: mean 2, as mine
    add_peers(version, 5, {"1.1": "1", "1.2": "1"})  # situation 1: mean 1

    comparison = peers.peer_comparison(me)

    row = situation(comparison, "1")
    assert (row.mine, row.peers.value, row.peers_mean.value) == (2.0, 10, 1.5)
    assert row.percentile == Cell.shown(0.75)  # 5 below + half of the 5 tied, over 10
    assert practice(comparison, "1.1").percentile == Cell.shown(1.0)
    assert practice(comparison, "1.2").percentile == Cell.shown(0.25)
    assert shares_by_level(practice(comparison, "1.1")) == {"0": 0.0, "1": 0.5, "2": 0.5, "3": 0.0, "nc": 0.0}
    assert practice(comparison, "2.1").peers == Cell.shown(0)
    assert situation(comparison, "2").peers.suppressed is True
    assert situation(comparison, "2").mine is None


def test_small_level_cells_are_suppressed_and_so_is_a_percentile_resting_on_them(version, joined):
    add_peers(version, 5, {"1.1": "2"})
    add_peers(version, 2, {"1.1": "3"})
    submitted_and_joined(version, {"1.1": "1"})

    comparison = peers.peer_comparison(joined)  # the person's level is 2
    row = practice(comparison, "1.1")

    # 1 and 2 peers are small cells; 5 more are hidden with them, or 8 − 5 would give 3.
    assert shares_by_level(row) == {"0": 0.0, "1": "s", "2": "s", "3": "s", "nc": 0.0}
    assert row.peers == Cell.shown(8)
    assert row.percentile.suppressed is True
    page = text(browser_with(joined).get(url("peers", joined), {"type": peers.ALL_PEERS}))
    assert "secret statistique" in page


def test_a_percentile_on_shown_cells_only_is_shown(version, person):
    me = submitted(version, {"1.1": "0"}, owner=person)
    peers.join_benchmark(assessment=me, structure_type=ASSOCIATION)
    add_peers(version, 5, {"1.1": "2"})
    add_peers(version, 2, {"1.1": "3"})

    row = practice(peers.peer_comparison(me), "1.1")

    assert [level.share.suppressed for level in row.levels] == [False, False, True, True, False]
    assert row.percentile == Cell.shown(0.0)


def test_comparison_page_takes_the_same_queries_for_5_or_25_peers(version, grid):
    codes = [p.code for p in grid.practices]
    levels = dict.fromkeys(codes, "2")

    def queries(count: int) -> int:
        me = submitted(version, levels, owner=make_user(f"moi{next(_emails)}@exemple.fr"))
        peers.join_benchmark(assessment=me, structure_type=ASSOCIATION)
        add_peers(version, count - PeerShare.objects.exclude(assessment=me).count(), levels)
        browser = Client()
        browser.force_login(me.owner)
        with CaptureQueriesContext(connection) as captured:
            response = browser.get(url("peers", me), {"type": ASSOCIATION})
        assert response.status_code == 200
        assert f"Comparaison avec {count} positionnements" in text(response)
        return len(captured)

    small = queries(5)
    large = queries(25)

    assert small == large, (small, large)
