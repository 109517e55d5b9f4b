"""The team map: what the members who chose to share show of their practices."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grille.assessments.models import Answer
from grille.disclosure.aggregation import GroupTallies, tally_groups
from grille.disclosure.policy import ANONYMOUS_BATCH
from grille.disclosure.protect import publish_group
from grille.frameworks.selectors import get_grid
from grille.organisations.enums import SHARE_CONSENT_VERSION, ShareMode
from grille.organisations.models import Share
from grille.organisations.services import share_assessment, withdraw_share
from grille.organisations.team import ANONYMOUS_MIN, build_team_map
from tests.factories import load_small_framework

from .conftest import submitted_positioning

ANONYMOUS = ShareMode.ANONYMOUS


def level_counts(grid, stats) -> dict[str, int]:
    """A practice's level distribution by option code."""
    return {grid.level.option_by_id(option_id).code: n for option_id, n in stats.levels.items()}


def readable_matrix(team) -> dict[tuple[str, str], tuple]:
    """The matrix by (member name, practice code) -> (level, wish, carrying) codes."""
    names = {c.assessment_id: c.name for c in team.contributors}
    codes = {p.id: p.code for p in team.grid.practices}

    def code(option):
        return None if option is None else option.code

    return {
        (names[assessment_id], codes[practice_id]): (code(cell["level"]), code(cell["wish"]), code(cell["carrying"]))
        for (assessment_id, practice_id), cell in team.matrix.items()
    }


@pytest.fixture
def team_of_three(facilitator, member, other_member, share):
    """Three named shares with levels chosen so every figure below can be worked out by hand."""
    share(facilitator, {"1.1": ("0", "non", "interne"), "1.2": ("3", "priorite", "partenariat"), "2.1": "nc"})
    share(member, {"1.1": ("2", "oui", "les-deux"), "1.2": ("3", "non", "a-definir"), "2.1": "1"})
    share(other_member, {"1.1": ("3", "", "partenariat"), "1.2": ("3", "oui", "interne")})
    return build_team_map(facilitator.organisation)


def test_team_map_lists_named_contributors_in_name_order(team_of_three):
    assert [c.name for c in team_of_three.contributors] == ["Alice Animatrice", "Bruno Membre", "Chloé Membre"]
    assert (team_of_three.named_count, team_of_three.anonymous_count, team_of_three.contribution_count) == (3, 0, 3)


def test_team_map_matrix_holds_each_named_members_answers(team_of_three):
    assert readable_matrix(team_of_three) == {
        ("Alice Animatrice", "1.1"): ("0", "non", "interne"),
        ("Alice Animatrice", "1.2"): ("3", "priorite", "partenariat"),
        ("Alice Animatrice", "2.1"): ("nc", None, None),
        ("Bruno Membre", "1.1"): ("2", "oui", "les-deux"),
        ("Bruno Membre", "1.2"): ("3", "non", "a-definir"),
        ("Bruno Membre", "2.1"): ("1", None, None),
        ("Chloé Membre", "1.1"): ("3", None, "partenariat"),
        ("Chloé Membre", "1.2"): ("3", "oui", "interne"),
    }


def test_team_map_computes_mean_and_spread_per_practice(team_of_three):
    stats = team_of_three.stats("1.1")  # levels 0, 2, 3

    assert (stats.answered, stats.scored) == (3, 3)
    assert stats.mean == pytest.approx(5 / 3)
    # The sample variance (ddof = 1), as everywhere else: (25/9 + 1/9 + 16/9) / 2.
    assert stats.variance == pytest.approx(7 / 3)
    assert stats.spread == pytest.approx((7 / 3) ** 0.5)
    assert type(stats.mean) is float
    assert stats.approximate is False


def test_team_map_gives_no_spread_for_a_single_answer(facilitator, share):
    share(facilitator, {"1.1": "2"})

    stats = build_team_map(facilitator.organisation).stats("1.1")

    assert (stats.scored, stats.mean, stats.variance, stats.spread) == (1, 2.0, None, None)


def test_team_map_gives_no_spread_when_everyone_answers_alike(team_of_three):
    stats = team_of_three.stats("1.2")  # 3, 3, 3

    assert (stats.mean, stats.spread) == (3.0, 0.0)


def test_team_map_counts_the_top_two_levels_as_regular(team_of_three):
    assert [team_of_three.stats(code).regular for code in ["1.1", "1.2", "2.1"]] == [2, 3, 0]


def test_team_map_counts_wishes_to_develop(team_of_three):
    # « Oui » and « Oui, en priorité » count; « Non » and no answer do not.
    assert [team_of_three.stats(code).wish for code in ["1.1", "1.2", "2.1"]] == [1, 2, 0]


def test_team_map_counts_carrying_options_flagged_partnership_in_the_grid(team_of_three, grid):
    assert sorted(o.code for o in grid.carrying.options if o.partnership) == ["les-deux", "partenariat"]
    assert [team_of_three.stats(code).partnership for code in ["1.1", "1.2", "2.1"]] == [2, 1, 0]


def test_team_map_gives_the_level_distribution(team_of_three, grid):
    assert level_counts(grid, team_of_three.stats("1.1")) == {"0": 1, "2": 1, "3": 1}
    assert level_counts(grid, team_of_three.stats("1.2")) == {"3": 3}
    assert level_counts(grid, team_of_three.stats("2.1")) == {"nc": 1, "1": 1}


def test_team_map_counts_not_concerned_as_answered_but_leaves_it_out_of_means(team_of_three):
    stats = team_of_three.stats("2.1")  # « Non concerné·e » and 1

    assert (stats.answered, stats.scored, stats.mean, stats.regular) == (2, 1, 1.0, 0)


def test_team_map_leaves_not_concerned_out_of_the_regular_denominator(facilitator, member, other_member, share):
    share(facilitator, {"1.1": "3"})
    share(member, {"1.1": "nc"})
    share(other_member, {"1.1": "nc"})

    stats = build_team_map(facilitator.organisation).stats("1.1")

    # « Réguliers 1/1 », not 1/3: the page and the exports divide by `scored`.
    assert (stats.regular, stats.scored, stats.answered) == (1, 1, 3)


def test_team_map_leaves_unanswered_practices_empty(team_of_three):
    stats = team_of_three.stats("8.3")

    assert (stats.answered, stats.scored, stats.mean, stats.variance, stats.spread, stats.levels) == (
        0, 0, None, None, None, {},
    )


def test_team_map_lists_as_gaps_the_practices_no_one_carries_regularly(team_of_three, grid):
    assert [p.practice.code for p in team_of_three.gaps] == [
        p.code for p in grid.practices if p.code not in {"1.1", "1.2"}
    ]


def test_team_map_ranks_strengths_by_number_of_regular_members(team_of_three):
    assert [p.practice.code for p in team_of_three.strengths] == ["1.2", "1.1"]


def test_team_map_shows_disagreements_only_where_levels_differ(team_of_three):
    assert [p.practice.code for p in team_of_three.disagreements] == ["1.1"]


def test_team_map_gives_means_per_situation_for_the_team_and_each_member(team_of_three):
    assert team_of_three.situation_means["1"] == pytest.approx(7 / 3)  # members' scores 1.5, 2.5, 3
    assert team_of_three.situation_means["2"] == 1.0
    assert team_of_three.situation_means["8"] is None
    assert {type(v) for v in team_of_three.situation_means.values() if v is not None} == {float}
    by_name = {c.name: team_of_three.member_situation_means[c.assessment_id] for c in team_of_three.contributors}
    assert by_name == {
        "Alice Animatrice": {"1": 1.5, "2": None},
        "Bruno Membre": {"1": 2.5, "2": 1.0},
        "Chloé Membre": {"1": 3.0},
    }


def test_team_map_situation_mean_is_the_mean_of_the_members_scores_not_of_their_answers(
    facilitator, member, share
):
    share(facilitator, {"1.1": "0"})
    share(member, {"1.1": "3", "1.2": "3", "1.3": "3"})

    team = build_team_map(facilitator.organisation)

    # Each person counts once: (0 + 3) / 2, where pooling the four answers would give 9 / 4.
    assert team.situation_means["1"] == 1.5


def test_team_map_without_shares_is_empty_and_shows_no_gaps(facilitator, member):
    team = build_team_map(facilitator.organisation)

    assert (team.contributors, team.contribution_count, team.matrix, team.gaps, team.strengths) == ([], 0, {}, [], [])


def published_pool(organisation, grid):
    """What the disclosure layer publishes about the released anonymous shares, worked out
    independently of the team map: the oracle its anonymous figures must equal."""
    released = Share.objects.filter(
        organisation=organisation, mode=ANONYMOUS, withdrawn_at__isnull=True, released=True
    )
    tallies = tally_groups(Answer.objects.filter(assessment__in=released.values("assessment")), grid)
    return publish_group(tallies.get(None, GroupTallies()), grid, k=ANONYMOUS_MIN)


def anonymous_members(add_member, share, levels: list[str], practice: str = "1.1", first: int = 0):
    return [
        share(add_member(f"anonyme{i}@exemple.fr", f"Anonyme {i}"), {practice: level}, mode=ANONYMOUS)
        for i, level in enumerate(levels, start=first)
    ]


def test_team_map_leaves_out_anonymous_shares_until_a_batch_of_three(facilitator, member, other_member, share):
    named = share(facilitator, {"1.1": "3"})
    share(member, {"1.1": "0"}, mode=ANONYMOUS)
    share(other_member, {"1.1": "0"}, mode=ANONYMOUS)

    team = build_team_map(facilitator.organisation)

    assert (team.named_count, team.anonymous_count, team.anonymous_included, team.approximate) == (1, 0, False, False)
    assert (team.anonymous_pending, team.contribution_count, team.pool) == (2, 1, None)
    assert Share.objects.filter(mode=ANONYMOUS, released=True).count() == 0
    stats = team.stats("1.1")
    assert (stats.answered, stats.mean, stats.regular, stats.approximate) == (1, 3.0, 1, False)
    assert [c.name for c in team.contributors] == ["Alice Animatrice"]
    assert {assessment_id for assessment_id, _practice in team.matrix} == {named.assessment_id}
    assert team.situation_means["1"] == 3.0


def test_team_map_shows_a_released_batch_of_three_only_from_five_people(facilitator, add_member, share):
    assert (ANONYMOUS_BATCH, ANONYMOUS_MIN) == (3, 5)
    share(facilitator, {"1.1": "3"})
    anonymous_members(add_member, share, ["0"] * 3)

    team = build_team_map(facilitator.organisation)

    # A batch of three is released, but a pool of fewer than five people is never shown.
    assert Share.objects.filter(mode=ANONYMOUS, released=True).count() == 3
    assert (team.pool, team.anonymous_included, team.anonymous_count, team.anonymous_pending) == (None, False, 0, 3)
    assert (team.stats("1.1").answered, team.stats("1.1").mean, team.approximate) == (1, 3.0, False)


def test_team_map_adds_the_shown_cells_of_the_anonymous_pool_to_the_named_counts(facilitator, add_member, share, grid):
    named = share(facilitator, {"1.1": ("3", "oui", "")})
    anonymous = anonymous_members(add_member, share, ["2"] * 9)

    team = build_team_map(facilitator.organisation)
    pool = published_pool(facilitator.organisation, grid)

    # Nine anonymous answers at « Régulièrement » read 7 to 11 after noise: always shown (k = 5);
    # the empty cells are hidden, and the named answer is counted exactly.
    assert Share.objects.filter(mode=ANONYMOUS, released=True).count() == 9
    assert team.pool == pool and pool.shown and pool.k == ANONYMOUS_MIN
    shown = pool.practices[grid.practice("1.1").id].levels.shown_counts()
    level_2, level_3 = grid.level.option_by_code("2").id, grid.level.option_by_code("3").id
    assert set(shown) == {level_2} and 7 <= shown[level_2] <= 11
    stats = team.stats("1.1")
    assert stats.levels == {level_3: 1, level_2: shown[level_2]}
    assert (stats.answered, stats.scored, stats.regular) == (1 + shown[level_2],) * 3
    assert stats.mean == pytest.approx((3 + 2 * shown[level_2]) / (1 + shown[level_2]))
    assert stats.wish == 1  # the pool's wish cell is empty, so hidden
    assert (stats.approximate, team.approximate, team.anonymous_included, team.anonymous_pending) == (True, True, True, 0)
    assert team.anonymous_count == pool.size.value and 7 <= team.anonymous_count <= 11
    assert team.contribution_count == 1 + team.anonymous_count
    # Never shown one by one.
    assert [c.name for c in team.contributors] == ["Alice Animatrice"]
    assert {assessment_id for assessment_id, _practice in team.matrix} == {named.assessment_id}
    assert set(team.member_situation_means) == {named.assessment_id}
    assert {s.assessment_id for s in anonymous}.isdisjoint({c.assessment_id for c in team.contributors})


def test_team_map_situation_mean_adds_every_perturbed_score_class_of_the_pool(facilitator, add_member, share, grid):
    share(facilitator, {"1.1": "3", "1.2": "0"})  # a score of 1.5 in situation 1
    anonymous_members(add_member, share, ["1"] * 7 + ["3"] * 2)

    team = build_team_map(facilitator.organisation)

    # The classes are never published: the mean uses all of them, perturbed, the small class of
    # two people at 3 included (it reads 0 to 4, below k, and still counts unless it reads 0).
    classes = dict(published_pool(facilitator.organisation, grid).situation_classes["1"])
    assert set(classes) <= {1, 3} and 5 <= classes[1] <= 9
    people = 1 + sum(classes.values())
    expected = (1.5 + sum(score * n for score, n in classes.items())) / people
    assert team.situation_means["1"] == pytest.approx(float(expected))
    if 3 in classes:
        assert team.situation_means["1"] != pytest.approx((1.5 + classes[1]) / (1 + classes[1]))


def test_team_map_with_only_anonymous_shares_shows_figures_but_no_one(facilitator, add_member, share):
    anonymous_members(add_member, share, ["2"] * 9, practice="4.2")

    team = build_team_map(facilitator.organisation)

    assert (team.contributors, team.matrix, team.member_situation_means) == ([], {}, {})
    assert 7 <= team.stats("4.2").answered <= 11
    assert team.stats("4.2").mean == 2.0
    assert team.situation_means["4"] == 2.0


def test_team_map_shows_no_anonymous_figure_after_a_departure_until_the_next_batch(facilitator, add_member, share, grid):
    share(facilitator, {"1.1": "3"})
    anonymous = anonymous_members(add_member, share, ["2"] * 9)
    assert build_team_map(facilitator.organisation).anonymous_included

    withdraw_share(membership=anonymous[0].organisation.memberships.get(user=anonymous[0].user))

    # The eight left stay out of every figure: showing them without the one who left would tell
    # that person's answers by difference.
    team = build_team_map(facilitator.organisation)
    assert (team.pool, team.anonymous_included, team.anonymous_withheld) == (None, False, True)
    assert (team.anonymous_count, team.anonymous_pending, team.contribution_count) == (0, 8, 1)
    assert (team.stats("1.1").answered, team.stats("1.1").mean, team.approximate) == (1, 3.0, False)

    more = anonymous_members(add_member, share, ["2"] * 2, first=9)
    assert (build_team_map(facilitator.organisation).pool, build_team_map(facilitator.organisation).anonymous_pending) == (None, 10)
    more += anonymous_members(add_member, share, ["2"], first=11)

    team = build_team_map(facilitator.organisation)
    assert (team.anonymous_withheld, team.anonymous_included, team.anonymous_pending) == (False, True, 0)
    assert team.pool == published_pool(facilitator.organisation, grid)
    assert Share.objects.filter(mode=ANONYMOUS, released=True, withdrawn_at__isnull=True).count() == 11


def test_team_map_does_not_count_a_positioning_shared_again_as_new(facilitator, add_member, share, grid):
    anonymous = anonymous_members(add_member, share, ["2"] * 9)
    again = anonymous[0]
    membership = again.organisation.memberships.get(user=again.user)
    withdraw_share(membership=membership)

    # The same positioning, shared again, and two brand-new ones: not a batch of three new.
    share_assessment(membership=membership, assessment=again.assessment, mode=ANONYMOUS)
    anonymous_members(add_member, share, ["2"] * 2, first=9)
    team = build_team_map(facilitator.organisation)
    assert (team.pool, team.anonymous_withheld, team.anonymous_pending) == (None, True, 11)

    anonymous_members(add_member, share, ["2"], first=11)

    team = build_team_map(facilitator.organisation)
    assert (team.anonymous_withheld, team.anonymous_included, team.anonymous_pending) == (False, True, 0)
    assert Share.objects.filter(mode=ANONYMOUS, released=True, withdrawn_at__isnull=True).count() == 12


def test_team_map_drops_a_withdrawn_share_at_once(facilitator, member, share):
    share(facilitator, {"1.1": "1"})
    share(member, {"1.1": "3"})
    assert build_team_map(facilitator.organisation).stats("1.1").answered == 2

    withdraw_share(membership=member)

    team = build_team_map(facilitator.organisation)
    assert [c.name for c in team.contributors] == ["Alice Animatrice"]
    assert (team.stats("1.1").answered, team.stats("1.1").mean) == (1, 1.0)
    assert [name for name, _code in readable_matrix(team)] == ["Alice Animatrice"]


def test_team_map_uses_only_the_latest_share_of_a_member(facilitator, member, share):
    share(member, {"1.1": "0"})
    latest = share(member, {"1.1": "3"})

    team = build_team_map(facilitator.organisation)

    assert [(c.name, c.assessment_id) for c in team.contributors] == [("Bruno Membre", latest.assessment_id)]
    assert (team.stats("1.1").answered, team.stats("1.1").mean) == (1, 3.0)


def test_team_map_ignores_a_share_on_another_grid_version(facilitator, member, share):
    share(facilitator, {"1.1": "2"})
    other_version = load_small_framework()
    elsewhere = submitted_positioning(member.user, other_version, {"A.1": "souvent", "B.1": "parfois"})
    # The service refuses such a share; one made before a change of grid must still be left out.
    Share.objects.create(
        organisation=member.organisation, user=member.user, assessment=elsewhere, mode=ShareMode.NAMED,
        consent_version=SHARE_CONSENT_VERSION,
    )

    team = build_team_map(facilitator.organisation)

    assert (team.named_count, [c.name for c in team.contributors]) == (1, ["Alice Animatrice"])
    assert team.stats("1.1").answered == 1
    assert sum(p.answered for p in team.practices) == 1


def test_team_map_ignores_shares_made_with_another_organisation(facilitator, member, outsider, share):
    share(facilitator, {"1.1": "2"})
    share(outsider, {"1.1": "0"})

    team = build_team_map(facilitator.organisation)

    assert [c.name for c in team.contributors] == ["Alice Animatrice"]
    assert (team.stats("1.1").answered, team.stats("1.1").mean) == (1, 2.0)


def test_build_team_map_runs_as_many_queries_for_thirty_members_as_for_three(facilitator, add_member, share, grid):
    # Every practice answered, across all situations, so a per-row query would show.
    answers = {p.code: ("0", "1", "2", "3", "nc")[i % 5] for i, p in enumerate(grid.practices)}
    organisation = facilitator.organisation

    def grow_to(size: int) -> None:
        while Share.objects.filter(organisation=organisation, withdrawn_at__isnull=True).count() < size:
            n = Share.objects.filter(organisation=organisation).count()
            membership = add_member(f"membre{n:02}@exemple.fr", f"Membre {n:02}")
            share(membership, answers, mode=ANONYMOUS if n >= 3 and n % 2 else ShareMode.NAMED)

    grow_to(3)
    get_grid(organisation.version_id)
    with CaptureQueriesContext(connection) as three:
        small = build_team_map(organisation)
    grow_to(30)
    with CaptureQueriesContext(connection) as thirty:
        large = build_team_map(organisation)

    # 14 anonymous shares: four batches of three released, two waiting.
    assert (small.contribution_count, small.anonymous_included) == (3, False)
    assert (len(large.contributors), large.anonymous_included, large.anonymous_pending) == (16, True, 2)
    assert large.contribution_count == 16 + large.anonymous_count
    assert len(thirty.captured_queries) == len(three.captured_queries)


def test_a_practice_is_no_gap_when_anonymous_cells_at_a_strength_level_are_hidden(version):
    from grille.organisations.team import PracticeStats, TeamMap

    grid = get_grid(version.pk)
    known, unknown = (PracticeStats(practice=p, scored=3, regular=0) for p in grid.practices[:2])
    unknown.regular_uncertain = True
    team = TeamMap(
        grid=grid, contributors=[], named_count=3, anonymous_count=6, anonymous_included=True,
        practices=[known, unknown], matrix={}, situation_means={}, member_situation_means={},
    )

    assert team.gaps == [known]
