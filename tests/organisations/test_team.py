"""The team map: what the members who chose to share show of their practices."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grille.frameworks.selectors import get_grid
from grille.organisations.enums import SHARE_CONSENT_VERSION, ShareMode
from grille.organisations.models import Share
from grille.organisations.services import withdraw_share
from grille.organisations.team import build_team_map
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
    assert stats.variance == pytest.approx(14 / 9)
    assert stats.spread == pytest.approx((14 / 9) ** 0.5)
    assert type(stats.mean) is float


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
    assert team_of_three.situation_means["1"] == pytest.approx(14 / 6)  # 0, 2, 3, 3, 3, 3
    assert team_of_three.situation_means["2"] == 1.0
    assert team_of_three.situation_means["8"] is None
    assert {type(v) for v in team_of_three.situation_means.values() if v is not None} == {float}
    by_name = {c.name: team_of_three.member_situation_means[c.assessment_id] for c in team_of_three.contributors}
    assert by_name == {
        "Alice Animatrice": {"1": 1.5, "2": None},
        "Bruno Membre": {"1": 2.5, "2": 1.0},
        "Chloé Membre": {"1": 3.0},
    }


def test_team_map_without_shares_is_empty_and_shows_no_gaps(facilitator, member):
    team = build_team_map(facilitator.organisation)

    assert (team.contributors, team.contribution_count, team.matrix, team.gaps, team.strengths) == ([], 0, {}, [], [])


def test_team_map_leaves_out_fewer_than_three_anonymous_shares(facilitator, member, other_member, share):
    named = share(facilitator, {"1.1": "3"})
    share(member, {"1.1": "0"}, mode=ANONYMOUS)
    share(other_member, {"1.1": "0"}, mode=ANONYMOUS)

    team = build_team_map(facilitator.organisation)

    assert (team.named_count, team.anonymous_count, team.anonymous_included) == (1, 2, False)
    assert (team.anonymous_pending, team.contribution_count) == (2, 1)
    stats = team.stats("1.1")
    assert (stats.answered, stats.mean, stats.regular) == (1, 3.0, 1)
    assert [c.name for c in team.contributors] == ["Alice Animatrice"]
    assert {assessment_id for assessment_id, _practice in team.matrix} == {named.assessment_id}
    assert team.situation_means["1"] == 3.0


def test_team_map_counts_three_anonymous_shares_but_never_shows_them(facilitator, add_member, share):
    named = share(facilitator, {"1.1": "3"})
    anonymous = [
        share(add_member(f"anonyme{i}@exemple.fr", f"Anonyme {i}"), {"1.1": level}, mode=ANONYMOUS)
        for i, level in enumerate(["0", "1", "2"])
    ]

    team = build_team_map(facilitator.organisation)

    assert (team.named_count, team.anonymous_count, team.anonymous_included) == (1, 3, True)
    assert (team.anonymous_pending, team.contribution_count) == (0, 4)
    stats = team.stats("1.1")  # 3, 0, 1, 2
    assert (stats.answered, stats.mean, stats.regular) == (4, 1.5, 2)
    assert [c.name for c in team.contributors] == ["Alice Animatrice"]
    hidden = {s.assessment_id for s in anonymous}
    assert {assessment_id for assessment_id, _practice in team.matrix} == {named.assessment_id}
    assert set(team.member_situation_means) == {named.assessment_id}
    assert hidden.isdisjoint({c.assessment_id for c in team.contributors})


def test_team_map_with_only_anonymous_shares_shows_figures_but_no_one(facilitator, member, other_member, share):
    for membership, level in [(facilitator, "1"), (member, "2"), (other_member, "3")]:
        share(membership, {"4.2": level}, mode=ANONYMOUS)

    team = build_team_map(facilitator.organisation)

    assert (team.contributors, team.matrix, team.member_situation_means) == ([], {}, {})
    assert (team.stats("4.2").answered, team.stats("4.2").mean) == (3, 2.0)


def test_team_map_drops_anonymous_figures_at_once_when_one_of_three_withdraws(
    facilitator, member, other_member, share
):
    for membership in [facilitator, member, other_member]:
        share(membership, {"1.1": "2"}, mode=ANONYMOUS)

    withdraw_share(membership=member)

    team = build_team_map(facilitator.organisation)
    assert (team.anonymous_count, team.anonymous_pending, team.contribution_count) == (2, 2, 0)
    assert team.stats("1.1").answered == 0


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

    assert (small.contribution_count, large.contribution_count) == (3, 30)
    assert (len(large.contributors), large.anonymous_count) == (16, 14)
    assert len(thirty.captured_queries) == len(three.captured_queries)
