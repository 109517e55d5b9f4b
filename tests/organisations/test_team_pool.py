"""A team's anonymous pool changes in batches: what the facilitator can read before and after one
person shares, withdraws or is removed never isolates that person.

The rules (pools.py, grille/disclosure/release.py): the pool is shown from ANONYMOUS_MIN (5)
released shares on; it changes only when ANONYMOUS_BATCH (3) brand-new shares wait (a positioning
already published in the pool, shared again, does not count); a departure of a counted share
shows no anonymous figure at all until the next batch. Hence any two published states differ by
at least three people.

The facilitator reads what they are allowed to read, through HTTP: the team's XLSX export and
the API. The record keys are random, so the figures are compared with each other and with what
the disclosure layer publishes about the released shares, never with hand-written numbers.
"""

from __future__ import annotations

import io
import itertools
import json
import random

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grille.accounts.services import create_api_token
from grille.assessments.models import Answer, Assessment
from grille.disclosure.aggregation import GroupTallies, tally_groups
from grille.disclosure.models import PoolRelease
from grille.disclosure.policy import ANONYMOUS_BATCH, ANONYMOUS_MIN
from grille.disclosure.protect import publish_group
from grille.frameworks.selectors import get_grid
from grille.organisations.enums import ShareMode
from grille.organisations.models import Membership, Share
from grille.organisations.pools import (
    pool_key,
    pooled_organisations,
    settle_team,
)
from grille.organisations.services import remove_member, share_assessment, withdraw_share
from grille.organisations.team import build_team_map

from .conftest import join, make_person

ANONYMOUS = ShareMode.ANONYMOUS
LEVELS = ("0", "1", "2", "3", "nc")
# Rows of the « À propos » sheet that are not figures about the pool.
NOT_FIGURES = {"Date de l'export", "Partages anonymes en attente"}


def answers_of(seed: int, grid) -> dict[str, tuple[str, str, str]]:
    """Every practice answered; most people answer alike so that many pool cells are shown."""
    generator = random.Random(seed)
    answers = {}
    for i, practice in enumerate(grid.practices):
        level = LEVELS[i % 4] if generator.random() < 0.8 else generator.choice(LEVELS)
        answers[practice.code] = (level, "oui" if i % 3 == 0 else "non", "partenariat" if i % 5 == 0 else "interne")
    return answers


class Team:
    def __init__(self, facilitator, share, grid):
        self.facilitator, self.share, self.grid = facilitator, share, grid
        self.organisation = facilitator.organisation
        self.members: list[Membership] = []
        self.joined = 0
        self.client = Client()
        self.client.force_login(facilitator.user)
        self.token = create_api_token(user=facilitator.user, name="Script")[1]

    def join_and_share(self, mode: str = ANONYMOUS) -> Membership:
        n = self.joined
        self.joined += 1
        membership = join(self.facilitator, make_person(f"membre{n:02}@exemple.fr", f"Membre {n:02}"))
        self.share(membership, answers_of(n, self.grid), mode=mode)
        self.members.append(membership)
        return membership

    def released_shares(self):
        return Share.objects.filter(organisation=self.organisation, mode=ANONYMOUS, withdrawn_at__isnull=True, released=True)

    def released(self) -> set[int]:
        return set(self.released_shares().values_list("assessment_id", flat=True))

    def api(self) -> dict:
        response = self.client.get(
            f"/api/v1/structures/{self.organisation.uuid}/equipe", HTTP_AUTHORIZATION=f"Bearer {self.token}"
        )
        assert response.status_code == 200
        body = response.json()
        body.pop("anonymous_pending")
        return body

    def xlsx(self) -> list:
        response = self.client.get(reverse("organisations:team_xlsx", args=[self.organisation.uuid]))
        assert response.status_code == 200
        workbook = openpyxl.load_workbook(io.BytesIO(response.content))
        return [
            [list(row) for row in sheet.iter_rows(values_only=True) if not (sheet.title == "À propos" and row[0] in NOT_FIGURES)]
            for sheet in workbook.worksheets
        ]

    def figures(self) -> tuple[str, list]:
        """Everything the facilitator reads about the team, apart from the number waiting."""
        return json.dumps(self.api(), sort_keys=True), self.xlsx()

    def published(self):
        """The disclosure layer's publication of the released anonymous shares."""
        answers = Answer.objects.filter(assessment_id__in=self.released_shares().values("assessment_id"))
        tallies = tally_groups(answers, self.grid).get(None, GroupTallies())
        return publish_group(tallies, self.grid, k=ANONYMOUS_MIN)

    def withheld(self) -> bool:
        """A counted share left (settled or not): the pool shows nothing until the next batch."""
        state = PoolRelease.objects.filter(key=pool_key(self.organisation)).first()
        return state is not None and (state.withheld or len(self.released()) < state.released_count)

    def expected_pool(self):
        """What the team map must publish: the released shares, when the pool is not withheld,
        they are at least ANONYMOUS_MIN and their size reads so after noise; else nothing."""
        figures = self.published()
        shown = not self.withheld() and len(self.released()) >= ANONYMOUS_MIN and figures.shown
        return figures if shown else None

    def shown(self) -> frozenset[int] | None:
        """The people in the anonymous figures the team map publishes; None when it shows none."""
        team_map = build_team_map(self.organisation)
        assert team_map.pool == self.expected_pool()
        return frozenset(self.released()) if team_map.pool is not None else None

    def assessment_of(self, membership: Membership) -> Assessment:
        return Share.objects.filter(user=membership.user).latest("shared_at").assessment

    def share_again(self, membership: Membership) -> None:
        """The member shares their latest positioning again, anonymously."""
        share_assessment(membership=membership, assessment=self.assessment_of(membership), mode=ANONYMOUS)


@pytest.fixture
def team(facilitator, share, grid) -> Team:
    return Team(facilitator, share, grid)


@pytest.fixture
def pool_of_nine(team) -> Team:
    """Three batches of three: nine people, whose pool size reads 7 to 11 after noise, always shown."""
    for _n in range(9):
        team.join_and_share()
    assert len(team.released()) == 9
    assert team.shown() == team.released()
    return team


def withdrawn_figures(team: Team) -> tuple[str, list]:
    """The figures the facilitator reads, checked to hold no anonymous share."""
    figures = team.figures()
    body = json.loads(figures[0])
    assert (body["anonymous"], body["approximate"], body["contributions"]) == (0, False, body["named"])
    return figures


def test_the_rules_are_counted_from_five_and_changed_by_batches_of_three():
    assert (ANONYMOUS_MIN, ANONYMOUS_BATCH) == (5, 3)


def test_one_and_two_new_anonymous_shares_change_no_figure_the_third_releases_the_batch(pool_of_nine):
    team = pool_of_nine
    before, released = team.figures(), team.released()

    team.join_and_share()
    after_one = team.figures()
    team.join_and_share()
    after_two = team.figures()
    team.join_and_share()
    after_three = team.figures()

    assert after_one == before
    assert after_two == before
    newcomers = Share.objects.filter(user__in=[m.user for m in team.members[9:]], withdrawn_at__isnull=True)
    assert team.released() == released | {s.assessment_id for s in newcomers}
    # Fresh noise on dozens of shown cells: the chance that nothing moves is far below 1e-9.
    assert after_three != before
    assert team.shown() == team.released()


def test_a_released_batch_of_three_is_not_shown_below_five_people(team):
    for _n in range(3):
        team.join_and_share()

    assert len(team.released()) == 3
    assert team.shown() is None
    assert json.loads(withdrawn_figures(team)[0])["anonymous"] == 0
    team.join_and_share()
    team.join_and_share()
    assert (len(team.released()), team.shown()) == (3, None)  # five shares, but the second batch is not there
    team.join_and_share()
    assert len(team.released()) == 6
    team.shown()  # shown when six reads five or more after noise: checked against the oracle
    for _n in range(3):
        team.join_and_share()
    assert team.shown() == team.released() and len(team.released()) == 9


def test_a_withdrawal_shows_no_anonymous_figure_until_a_batch_of_three_new_shares(pool_of_nine):
    team = pool_of_nine
    before = team.shown()

    withdraw_share(membership=team.members[0])

    # Showing the eight left would give the ninth's answers by difference: nothing is shown.
    assert team.shown() is None
    assert build_team_map(team.organisation).anonymous_pending == 8
    withheld = withdrawn_figures(team)
    team.join_and_share()
    assert (team.shown(), withdrawn_figures(team)) == (None, withheld)
    team.join_and_share()
    assert (team.shown(), withdrawn_figures(team)) == (None, withheld)

    team.join_and_share()

    after = team.shown()
    assert after is not None and len(after) == 11
    assert len(after - before) == ANONYMOUS_BATCH and len(before - after) == 1
    assert build_team_map(team.organisation).anonymous_pending == 0


def test_a_withdrawal_with_two_shares_waiting_releases_them_with_the_next_new_one(pool_of_nine):
    team = pool_of_nine
    waiting = [team.join_and_share(), team.join_and_share()]
    before = team.shown()

    withdraw_share(membership=team.members[0])
    assert team.shown() is None
    last = team.join_and_share()

    after = team.shown()
    new = {team.assessment_of(m).pk for m in [*waiting, last]}
    assert after == (before - {team.assessment_of(team.members[0]).pk}) | new
    assert len(after - before) == ANONYMOUS_BATCH


def test_removing_a_member_whose_anonymous_share_waits_changes_no_figure(pool_of_nine):
    team = pool_of_nine
    waiting = team.join_and_share()
    before, released = team.figures(), team.released()

    remove_member(by=team.facilitator, target=waiting)

    assert team.figures() == before
    assert team.released() == released
    assert team.shown() == released


def test_removing_a_member_whose_anonymous_share_counts_shows_nothing_until_the_next_batch(pool_of_nine):
    team = pool_of_nine
    before = team.shown()

    remove_member(by=team.facilitator, target=team.members[2])

    assert team.shown() is None
    withdrawn_figures(team)
    for _n in range(3):
        team.join_and_share()
    after = team.shown()
    assert after is not None and len(after - before) == ANONYMOUS_BATCH


def test_a_member_leaving_counts_like_a_removal(pool_of_nine):
    team = pool_of_nine

    remove_member(by=team.members[3], target=team.members[3])

    assert team.shown() is None
    withdrawn_figures(team)


def test_named_shares_and_withdrawals_never_move_the_anonymous_pool(pool_of_nine):
    team = pool_of_nine
    released, pool = team.released(), build_team_map(team.organisation).pool

    named = team.join_and_share(ShareMode.NAMED)
    withdraw_share(membership=named)

    assert team.released() == released
    assert build_team_map(team.organisation).pool == pool


def test_sharing_the_same_positioning_again_does_not_count_as_new(pool_of_nine):
    team = pool_of_nine
    before = team.shown()

    # Three members withdraw and share the same positioning again: three waiting, none new.
    for membership in team.members[:3]:
        withdraw_share(membership=membership)
        team.share_again(membership)
    assert build_team_map(team.organisation).anonymous_pending == 9
    assert team.shown() is None
    # Sharing it again without withdrawing first replaces the share: no new one either.
    team.share_again(team.members[3])
    team.join_and_share()
    team.join_and_share()
    assert team.shown() is None

    team.join_and_share()

    # The three brand-new shares release the batch; those shared again ride along with it.
    after = team.shown()
    assert after == before | {team.assessment_of(m).pk for m in team.members[9:]}
    assert len(after - before) == ANONYMOUS_BATCH


def test_the_pool_in_a_random_life_of_the_team_changes_by_whole_batches(team):
    """Members join, share anonymously or by name, share a new positioning or the same one again,
    withdraw, leave or are removed, in a seeded random order. Each time: the team map publishes
    exactly the released shares, unless a counted share left since the last release (then
    nothing); a release brings at least a batch of brand-new positionings; and any two published
    states, consecutive or not, differ by at least a batch of people."""
    generator = random.Random(10)
    previous: frozenset[int] = frozenset()
    ever_released: set[int] = set()
    published: list[frozenset[int]] = []
    hidden_after_departure = False
    releases = departures = withheld_steps = again = 0
    for _step in range(70):
        sharing = [m for m in team.members if Share.objects.filter(user=m.user, withdrawn_at__isnull=True).exists()]
        withdrawn = [m for m in team.members if m not in sharing]
        action = generator.choice(["share", "share", "share", "share", "named", "withdraw", "remove", "leave", "new", "same"])
        if action in ("share", "named") or not sharing:
            team.join_and_share(ANONYMOUS if action != "named" else ShareMode.NAMED)
        elif action == "withdraw":
            withdraw_share(membership=generator.choice(sharing))
        elif action in ("remove", "leave"):
            target = generator.choice(sharing)
            remove_member(by=team.facilitator if action == "remove" else target, target=target)
            team.members.remove(target)
        elif action == "new":
            membership = generator.choice(sharing)
            mode = generator.choice([ANONYMOUS, ShareMode.NAMED])
            team.share(membership, answers_of(generator.randint(100, 999), team.grid), mode=mode)
        else:
            team.share_again(generator.choice(withdrawn or sharing))
            again += 1
        released = frozenset(team.released())
        shown = team.shown()  # also checks the team map against the oracle
        if released - previous:
            # A release: at least a batch of positionings never published in the pool before.
            assert len(released - ever_released) >= ANONYMOUS_BATCH
            ever_released |= released
            hidden_after_departure = False
            releases += 1
        elif previous - released:
            hidden_after_departure = True
            departures += 1
        if hidden_after_departure:
            assert shown is None  # a departure shows nothing until the next batch
            withheld_steps += 1
        if shown is not None and (not published or shown != published[-1]):
            published.append(shown)
        previous = released
    for earlier, later in itertools.combinations(published, 2):
        assert len(later - earlier) >= ANONYMOUS_BATCH
    # The walk did exercise the rules.
    assert (releases >= 8, departures >= 4, withheld_steps >= 8, again >= 3, len(published) >= 4) == (True,) * 5


def test_any_two_published_pools_differ_by_at_least_a_batch(pool_of_nine):
    team = pool_of_nine
    before = team.shown()

    withdraw_share(membership=team.members[0])
    team.join_and_share()
    # The one who left and the one who came: nothing is published between them.
    assert team.shown() is None
    team.join_and_share()
    assert team.shown() is None
    team.join_and_share()
    after = team.shown()

    assert after is not None
    assert len(after - before) >= ANONYMOUS_BATCH
    assert len(before ^ after) >= ANONYMOUS_BATCH


def test_a_pool_that_lost_a_released_share_without_settling_shows_nothing_until_the_next_batch(pool_of_nine):
    team = pool_of_nine
    gone = Share.objects.filter(user=team.members[0].user).get().assessment_id
    organisations = pooled_organisations(Assessment.objects.filter(pk=gone))

    Assessment.objects.filter(pk=gone).delete()  # an erasure that has not settled the pool yet

    unsettled = build_team_map(team.organisation)
    assert (unsettled.pool, unsettled.anonymous_included, unsettled.anonymous_count) == (None, False, 0)
    assert (unsettled.anonymous_pending, unsettled.anonymous_withheld) == (8, True)
    assert organisations == [team.organisation]
    settle_team(team.organisation)
    assert (len(team.released()), team.shown()) == (8, None)  # withheld until three new shares
    for _n in range(3):
        team.join_and_share()
    assert team.shown() == team.released() and len(team.released()) == 11


def test_the_team_map_runs_the_same_queries_for_pools_of_nine_and_of_eighteen(pool_of_nine, grid):
    team = pool_of_nine
    get_grid(team.organisation.version_id)
    with CaptureQueriesContext(connection) as nine:
        small = build_team_map(team.organisation)
    for _n in range(9):
        team.join_and_share()
    with CaptureQueriesContext(connection) as eighteen:
        large = build_team_map(team.organisation)

    assert (small.anonymous_included, large.anonymous_included, len(team.released())) == (True, True, 18)
    assert len(nine.captured_queries) == len(eighteen.captured_queries)
