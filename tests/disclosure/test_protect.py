"""Properties of the disclosure layer: the cell key method as the issue describes it.

- The same contributors give the same figure, in every Protector of the same population.
- One contributor more (in the cell, or only in the table's population) gives a fresh key,
  and the new noise is independent of the old one (chi-square tests on fixed seeds: the
  results are deterministic, the thresholds only say how far from independence is too far).
- Counts below k after noise and empty cells are hidden; totals, means, « regular » and the
  mean's n are computed from the shown cells only.
- A reader's own answers are taken off after the group's noise: every reader of the same group
  sees the same noise, their figures differing exactly by their own answers.
And the aggregation core against a hand count on a small real database.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from fractions import Fraction

import pytest
from django.utils import timezone
from scipy import stats

from grille.assessments.enums import AssessmentStatus
from grille.assessments.models import Answer, Assessment
from grille.disclosure.aggregation import GroupTallies, score_class, tally_groups
from grille.disclosure.cells import EMPTY, Cell, Tally
from grille.disclosure.protect import Protector, publish_group
from grille.disclosure.ptable import default_ptable
from grille.frameworks import grid as g

K = 5
MAX_RECORD_KEY = 2**31 - 1
# A chi-square p-value under this says "not independent / not uniform". The generators are seeded,
# so each test computes the same statistic on every run: the bound is never crossed by chance.
ALPHA = 0.001


def _record_keys(generator: random.Random, n: int) -> list[int]:
    return [generator.randint(0, MAX_RECORD_KEY) for _ in range(n)]


def _tally(keys: list[int]) -> Tally:
    return Tally(len(keys), sum(keys))


def _population(generator: random.Random, n: int) -> Tally:
    return _tally(_record_keys(generator, n))


# -- consistency ------------------------------------------------------------------------------


def test_same_tallies_give_the_same_figure_in_two_protectors_of_one_population():
    generator = random.Random(1)
    for _case in range(200):
        population = _population(generator, generator.randint(5, 400))
        cell = _tally(_record_keys(generator, generator.randint(0, 60)))
        figure = f"level:{generator.randint(1, 8)}.{generator.randint(1, 3)}:{generator.randint(0, 3)}"
        first, second = Protector(population, K), Protector(Tally(population.n, population.keys), K)

        assert first.key(figure, cell) == second.key(figure, cell)
        assert first.count(figure, cell) == second.count(figure, cell)
        # and again later, in the same instance
        assert first.count(figure, cell) == first.count(figure, cell)


def test_same_contributors_in_another_order_give_the_same_figure():
    generator = random.Random(2)
    keys = _record_keys(generator, 40)
    population = _tally(keys)
    cell_keys = keys[:17]
    shuffled = cell_keys[::-1]

    assert Protector(population, K).count("wish:1.1", _tally(cell_keys)) == Protector(
        _tally(list(reversed(keys))), K
    ).count("wish:1.1", _tally(shuffled))


def test_each_figure_of_one_table_draws_its_own_key():
    generator = random.Random(3)
    protector = Protector(_population(generator, 300), K)
    cell = _tally(_record_keys(generator, 20))
    keys = {protector.key(f"level:{p}:{o}", cell) for p in range(24) for o in range(5)}

    assert len(keys) == 24 * 5


# -- one contributor more -----------------------------------------------------------------------


def _noise(protector: Protector, figure: str, tally: Tally) -> int:
    return protector.perturb(figure, tally) - tally.n


def _assert_independent_uniform_noises(pairs: list[tuple[int, int]], max_noise: int) -> None:
    """pairs of (old noise, new noise) on counts >= 2: each uniform on -max..max, the two independent."""
    values = range(-max_noise, max_noise + 1)
    new = Counter(b for _a, b in pairs)
    uniform = stats.chisquare([new[v] for v in values])
    assert uniform.pvalue > ALPHA, (dict(new), uniform)
    table = [[sum(1 for a, b in pairs if a == x and b == y) for y in values] for x in values]
    contingency = stats.chi2_contingency(table)
    assert contingency.pvalue > ALPHA, (table, contingency.pvalue)
    # What a differencing attacker needs: the two noises equal, so that the difference of the
    # published counts is the true difference. That happens one time in 2 * max + 1.
    same = sum(1 for a, b in pairs if a == b) / len(pairs)
    assert abs(same - 1 / len(values)) < 0.02, same


def test_one_contributor_more_in_a_cell_changes_its_key_and_draws_an_independent_noise():
    generator = random.Random(4)
    table = default_ptable()
    pairs = []
    for _case in range(5000):
        population = _population(generator, generator.randint(10, 400))
        protector = Protector(population, K)
        cell = _tally(_record_keys(generator, generator.randint(2, 60)))
        bigger = cell + Tally(1, generator.randint(0, MAX_RECORD_KEY))
        figure = f"level:{generator.randint(1, 8)}.{generator.randint(1, 3)}:{generator.randint(0, 3)}"

        assert protector.key(figure, cell) != protector.key(figure, bigger)
        pairs.append((_noise(protector, figure, cell), _noise(protector, figure, bigger)))
    _assert_independent_uniform_noises(pairs, table.max_noise)


def test_one_contributor_more_in_the_cell_and_the_population_draws_an_independent_noise():
    """The before/after attack: the person joins the table and one of its cells."""
    generator = random.Random(5)
    pairs = []
    for _case in range(5000):
        keys = _record_keys(generator, generator.randint(10, 400))
        newcomer = generator.randint(0, MAX_RECORD_KEY)
        cell = _tally(keys[: generator.randint(2, 10)])
        before = Protector(_tally(keys), K)
        after = Protector(_tally([*keys, newcomer]), K)
        pairs.append((_noise(before, "level:1.1:2", cell), _noise(after, "level:1.1:2", cell + Tally(1, newcomer))))
    _assert_independent_uniform_noises(pairs, default_ptable().max_noise)


def test_one_contributor_more_in_the_population_changes_the_key_of_every_cell_of_the_table():
    generator = random.Random(6)
    pairs = []
    for _case in range(200):
        keys = _record_keys(generator, generator.randint(10, 400))
        before = Protector(_tally(keys), K)
        after = Protector(_tally([*keys, generator.randint(0, MAX_RECORD_KEY)]), K)
        # Cells the newcomer is not in: the same contributors, in a table of one person more.
        for practice in range(24):
            cell = _tally(generator.sample(keys, generator.randint(2, min(len(keys), 30))))
            figure = f"level:{practice}:2"
            assert before.key(figure, cell) != after.key(figure, cell)
            pairs.append((_noise(before, figure, cell), _noise(after, figure, cell)))
        assert before.key("population", before.population) != after.key("population", after.population)
    _assert_independent_uniform_noises(pairs, default_ptable().max_noise)


def test_cell_keys_are_uniform_on_the_unit_interval():
    generator = random.Random(7)
    protector = Protector(_population(generator, 250), K)
    keys = [protector.key("level:1.1:2", _tally(_record_keys(generator, generator.randint(1, 40)))) for _ in range(4000)]

    assert all(0 <= key < 1 for key in keys)
    assert stats.kstest(keys, "uniform").pvalue > ALPHA


# -- threshold and zeros ----------------------------------------------------------------------


def test_empty_cells_are_hidden_whatever_k():
    generator = random.Random(8)
    for k in (3, 5, 10):
        protector = Protector(_population(generator, 100), k)
        assert protector.count("level:1.1:0", EMPTY).suppressed
        assert protector.count("level:1.1:0", EMPTY).value is None


def test_counts_below_k_after_noise_are_hidden_and_shown_counts_stay_within_the_noise():
    generator = random.Random(9)
    max_noise = default_ptable().max_noise
    seen_hidden_at = Counter()
    for _case in range(3000):
        k = generator.choice((3, 5, 8))
        protector = Protector(_population(generator, 300), k)
        n = generator.randint(1, k + 4)
        cell = protector.count("partnership:2.3", _tally(_record_keys(generator, n)))
        if cell.suppressed:
            assert cell.value is None and cell.display == "s"
            seen_hidden_at[n - k] += 1
            assert n < k + max_noise
        else:
            assert cell.value >= k
            assert abs(cell.value - n) <= max_noise
            assert cell.approximate
    # Under k - max_noise a count can never reach k; just under or at k it sometimes does.
    assert all(offset < max_noise for offset in seen_hidden_at)
    assert seen_hidden_at[-1] and seen_hidden_at[0] and seen_hidden_at[1]


def test_a_count_far_below_k_is_always_hidden_and_far_above_is_always_shown():
    generator = random.Random(10)
    for _case in range(1000):
        protector = Protector(_population(generator, 300), K)
        assert protector.count("wish:1.1", _tally(_record_keys(generator, generator.randint(1, K - 3)))).suppressed
        assert not protector.count("wish:1.1", _tally(_record_keys(generator, generator.randint(K + 2, 90)))).suppressed


def test_threshold_below_three_is_refused():
    with pytest.raises(ValueError, match="ne peut pas être inférieur à 3"):
        Protector(Tally(100, 1), 2)


def test_size_is_the_perturbed_population():
    generator = random.Random(11)
    for _case in range(200):
        population = _population(generator, generator.randint(1, 30))
        size = Protector(population, K).size()
        assert size.suppressed or (size.value >= K and abs(size.value - population.n) <= 2)
        if population.n < K - 2:
            assert size.suppressed


# -- derived figures from shown cells only ----------------------------------------------------

LEVELS = (
    g.Option(1, "0", "Jamais", 0),
    g.Option(2, "1", "Parfois", 1),
    g.Option(3, "2", "Souvent", 2),
    g.Option(4, "3", "Toujours", 3),
    g.Option(5, "nc", "Non concerné·e", None),
)


def test_distribution_total_and_mean_come_from_the_shown_cells_only():
    generator = random.Random(12)
    checked = 0
    for _case in range(300):
        population = _population(generator, 200)
        protector = Protector(population, K)
        tallies = {o.id: _tally(_record_keys(generator, generator.randint(0, 30))) for o in LEVELS}
        tallies[1] = _tally(_record_keys(generator, 1))  # one person at level 0: always hidden at k = 5
        distribution = protector.distribution("level:1.1", LEVELS, tallies)
        shown = distribution.shown_counts()
        assert distribution.count(1).suppressed

        assert distribution.total.suppressed or distribution.total.value == sum(shown.values())
        valued = {o.id: o.value for o in LEVELS if o.value is not None and o.id in shown}
        n = sum(shown[i] for i in valued)
        if n >= K:
            assert distribution.mean.n == n
            assert distribution.mean.mean == pytest.approx(sum(shown[i] * v for i, v in valued.items()) / n)
        else:
            assert distribution.mean.suppressed

        # The hidden cell holds two people instead of one, still hidden: nothing else moves.
        tallies[1] = tallies[1] + Tally(1, generator.randint(0, MAX_RECORD_KEY))
        again = protector.distribution("level:1.1", LEVELS, tallies)
        if again.count(1).suppressed:
            checked += 1
            assert again.shown_counts() == shown
            assert again.total == distribution.total
            assert again.mean == distribution.mean
    assert checked > 200


def test_mean_is_hidden_under_k_weights_and_computed_from_published_weights():
    protector = Protector(Tally(100, 12345), K)

    assert protector.mean([(1, 2), (2, 2)]).suppressed
    cell = protector.mean([(Fraction(1, 3), 3), (2, 4), (3, 0)])
    assert cell.n == 7
    assert cell.mean == pytest.approx((1 + 8) / 7)
    assert cell.low < cell.mean < cell.high
    assert cell.approximate


def _hand_tallies(grid: g.Grid, generator: random.Random, people: int) -> GroupTallies:
    keys = _record_keys(generator, people)
    tallies = GroupTallies(population=_tally(keys))
    for practice in grid.practices:
        for option in grid.level.options:
            tallies.levels[practice.id][option.id] = _tally(generator.sample(keys, generator.randint(0, people // 4)))
        tallies.wish[practice.id] = _tally(generator.sample(keys, generator.randint(0, people // 2)))
        tallies.partnership[practice.id] = _tally(generator.sample(keys, generator.randint(0, people // 2)))
    for situation in grid.situations:
        for third in range(0, 10):
            tallies.situations[situation.code][Fraction(third, 3)] = _tally(generator.sample(keys, generator.randint(0, min(12, people))))
    for axis in grid.axes:
        for third in range(0, 10):
            tallies.axes[axis.code][Fraction(third, 3)] = _tally(generator.sample(keys, generator.randint(0, min(20, people))))
    return tallies


def test_publish_group_derives_regular_scored_and_means_from_shown_cells(grid):
    generator = random.Random(13)
    floor = grid.level.strength_floor
    for _case in range(5):
        tallies = _hand_tallies(grid, generator, 120)
        figures = publish_group(tallies, grid, K)
        protector = Protector(tallies.population, K)
        assert figures.shown and figures.size == protector.size()
        for practice in grid.practices:
            row = figures.practices[practice.id]
            shown = {o: c.value for o, c in row.levels.cells if not c.suppressed}
            assert row.scored == sum(v for o, v in shown.items() if o.value is not None)
            strong = [o for o in grid.level.options if o.value is not None and o.value >= floor]
            if all(o not in shown for o in strong):
                assert row.regular.suppressed
            else:
                assert row.regular.value == sum(v for o, v in shown.items() if o in strong)
            assert row.wish == protector.count(f"wish:{practice.code}", tallies.wish[practice.id])
            for option, cell in row.levels.cells:
                assert cell == protector.count(f"level:{practice.code}:{option.code}", tallies.levels[practice.id][option.id])
        for situation in grid.situations:
            classes = figures.situation_classes[situation.code]
            # Score classes are never published one by one: each counts with its perturbed
            # value, small ones included, and only the mean is shown (protect.Protector.classes).
            expected = []
            for score, tally in sorted(tallies.situations[situation.code].items()):
                value = protector.perturb(f"situation:{situation.code}:{score}", tally)
                if value > 0:
                    expected.append((score, value))
            assert list(classes) == expected
            assert figures.situations[situation.code] == protector.mean(expected)


def test_publish_group_hidden_cells_change_nothing_in_the_derived_figures(grid):
    generator = random.Random(14)
    tallies = _hand_tallies(grid, generator, 120)
    practice = grid.practices[0]
    bottom = grid.level.options[0]
    tallies.levels[practice.id][bottom.id] = _tally(_record_keys(generator, 1))
    before = publish_group(tallies, grid, K)

    # One more person in that hidden cell (the population as it was: a table where only a
    # hidden cell differs), still under k.
    tallies.levels[practice.id][bottom.id] += Tally(1, generator.randint(0, MAX_RECORD_KEY))
    after = publish_group(tallies, grid, K)

    assert before.practices[practice.id].levels.count(bottom.id).suppressed
    assert after.practices[practice.id].levels.count(bottom.id).suppressed
    assert after.practices[practice.id] == before.practices[practice.id]
    assert after.situations == before.situations
    assert after.situation_classes == before.situation_classes


def test_publish_group_shows_nothing_when_the_group_reads_below_k(grid):
    generator = random.Random(15)
    tallies = _hand_tallies(grid, generator, 2)
    figures = publish_group(tallies, grid, K)

    assert not figures.shown
    assert figures.practices == {} and figures.situations == {} and figures.axes == {}


# -- the reader's own contribution ------------------------------------------------------------


def test_the_readers_own_count_is_taken_off_after_the_noise_of_the_whole_cell():
    generator = random.Random(16)
    for _case in range(300):
        population = _population(generator, generator.randint(5, 200))
        cell = _tally(_record_keys(generator, generator.randint(1, 30)))
        less = generator.randint(0, min(2, cell.n))
        protector = Protector(population, K)

        value = protector.perturb("level:1.1:2", cell) - less

        expected = Cell.shown(value, approximate=True) if value >= K else Cell.hidden()
        assert protector.count("level:1.1:2", cell, less=less) == expected


def _reader(grid: g.Grid, tallies: GroupTallies, generator: random.Random) -> GroupTallies:
    """One person of the group, as the reader's own tallies (exact, they know them)."""
    key = Tally(1, generator.randint(0, MAX_RECORD_KEY))
    mine = GroupTallies(population=key)
    for practice in grid.practices:
        option = generator.choice([o for o in grid.level.options if tallies.levels[practice.id][o.id].n > 0])
        mine.levels[practice.id][option.id] = key
        if generator.random() < 0.5 and tallies.wish[practice.id].n > 0:
            mine.wish[practice.id] = key
    for situation in grid.situations:
        score = generator.choice([score for score, tally in tallies.situations[situation.code].items() if tally.n > 0])
        mine.situations[situation.code][score] = key
    return mine


def test_publish_group_less_the_reader_perturbs_the_whole_group_then_takes_off_their_own(grid):
    generator = random.Random(17)
    for _case in range(5):
        tallies = _hand_tallies(grid, generator, 120)
        mine = _reader(grid, tallies, generator)
        protector = Protector(tallies.population, K)  # the group's population: the group's noise

        figures = publish_group(tallies, grid, K, less=mine)

        assert figures.size == protector.size(less=1)
        for practice in grid.practices:
            row = figures.practices[practice.id]
            for option, cell in row.levels.cells:
                own = mine.levels[practice.id].get(option.id, EMPTY).n
                assert cell == protector.count(
                    f"level:{practice.code}:{option.code}", tallies.levels[practice.id][option.id], less=own
                )
            assert row.wish == protector.count(
                f"wish:{practice.code}", tallies.wish[practice.id], less=mine.wish.get(practice.id, EMPTY).n
            )
        for situation in grid.situations:
            expected = []
            for score, tally in sorted(tallies.situations[situation.code].items()):
                own = mine.situations[situation.code].get(score, EMPTY).n
                value = protector.perturb(f"situation:{situation.code}:{score}", tally) - own
                if value > 0:
                    expected.append((score, value))
            assert list(figures.situation_classes[situation.code]) == expected
            assert figures.situations[situation.code] == protector.mean(expected)


def test_two_readers_of_one_group_see_figures_that_differ_by_their_own_answers_only(grid):
    """The same noise for every reader: reading from several accounts averages nothing away."""
    generator = random.Random(18)
    compared = 0
    for _case in range(5):
        tallies = _hand_tallies(grid, generator, 120)
        first, second = _reader(grid, tallies, generator), _reader(grid, tallies, generator)

        one = publish_group(tallies, grid, K, less=first)
        two = publish_group(tallies, grid, K, less=second)

        assert one.size == two.size
        for practice in grid.practices:
            for (option, a), (_same_option, b) in zip(
                one.practices[practice.id].levels.cells, two.practices[practice.id].levels.cells, strict=True
            ):
                mine = first.levels[practice.id].get(option.id, EMPTY).n
                theirs = second.levels[practice.id].get(option.id, EMPTY).n
                if mine == theirs:
                    assert a == b
                elif not (a.suppressed or b.suppressed):
                    assert b.value - a.value == mine - theirs
                    compared += 1
    assert compared > 50
    # Without a reader, the figures are the group's own.
    assert publish_group(tallies, grid, K, less=GroupTallies()) == publish_group(tallies, grid, K)


# -- the aggregation core against a hand count ------------------------------------------------


def _seed_positionings(version, grid: g.Grid, people: int, seed: int) -> list[Assessment]:
    generator = random.Random(seed)
    now = timezone.now()
    assessments = []
    for index in range(people):
        submitted = index % 3 != 2
        assessment = Assessment.objects.create(
            version=version,
            status=AssessmentStatus.SUBMITTED if submitted else AssessmentStatus.DRAFT,
            submitted_at=now if submitted else None,
        )
        for practice in generator.sample(grid.practices, generator.randint(1, len(grid.practices))):
            Answer.objects.create(
                assessment=assessment, practice_id=practice.id,
                level_id=generator.choice([*(o.id for o in grid.level.options), None]),
                wish_id=generator.choice([*(o.id for o in grid.wish.options), None]),
                carrying_id=generator.choice([*(o.id for o in grid.carrying.options), None]),
            )
        assessments.append(assessment)
    return assessments


def _by_hand(grid: g.Grid, assessments: list[Assessment]) -> GroupTallies:
    level_of = {o.id: o for o in grid.level.options}
    wish_of = {o.id: o for o in grid.wish.options}
    partner_ids = {o.id for o in grid.carrying.options if o.partnership}
    situation_of = {p.id: p.situation_code for p in grid.practices}
    axis_of = {s.code: s.axis_code for s in grid.situations}
    expected = GroupTallies()
    for assessment in assessments:
        rk = Tally(1, assessment.record_key)
        answers = list(Answer.objects.filter(assessment=assessment))
        if answers:
            expected.population += rk
        by_situation, by_axis = defaultdict(list), defaultdict(list)
        for answer in answers:
            if answer.level_id is not None:
                cells = expected.levels[answer.practice_id]
                cells[answer.level_id] = cells.get(answer.level_id, EMPTY) + rk
                value = level_of[answer.level_id].value
                if value is not None:
                    by_situation[situation_of[answer.practice_id]].append(value)
                    by_axis[axis_of[situation_of[answer.practice_id]]].append(value)
            wished = answer.wish_id is not None and (wish_of[answer.wish_id].value or 0) > 0
            expected.wish[answer.practice_id] = expected.wish.get(answer.practice_id, EMPTY) + (rk if wished else EMPTY)
            partner = answer.carrying_id in partner_ids
            expected.partnership[answer.practice_id] = expected.partnership.get(answer.practice_id, EMPTY) + (rk if partner else EMPTY)
        for target, scores in ((expected.situations, by_situation), (expected.axes, by_axis)):
            for code, values in scores.items():
                bucket = score_class(sum(values), len(values))
                target[code][bucket] = target[code].get(bucket, EMPTY) + rk
    return expected


def _same(actual: GroupTallies, expected: GroupTallies) -> None:
    assert actual.population == expected.population
    assert {p: dict(c) for p, c in actual.levels.items()} == {p: dict(c) for p, c in expected.levels.items()}
    assert actual.wish == expected.wish
    assert actual.partnership == expected.partnership
    assert {c: dict(v) for c, v in actual.situations.items()} == {c: dict(v) for c, v in expected.situations.items()}
    assert {c: dict(v) for c, v in actual.axes.items()} == {c: dict(v) for c, v in expected.axes.items()}


def test_tally_groups_matches_a_hand_count(version, grid):
    assessments = _seed_positionings(version, grid, 9, seed=16)
    answers = Answer.objects.filter(assessment__in=assessments)

    groups = tally_groups(answers, grid)

    assert list(groups) == [None]
    _same(groups[None], _by_hand(grid, assessments))


def test_tally_groups_splits_by_segment_like_a_hand_count(version, grid):
    assessments = _seed_positionings(version, grid, 9, seed=17)
    answers = Answer.objects.filter(assessment__in=assessments)

    groups = tally_groups(answers, grid, by="assessment__status")

    assert set(groups) == {AssessmentStatus.SUBMITTED, AssessmentStatus.DRAFT}
    for status in groups:
        _same(groups[status], _by_hand(grid, [a for a in assessments if a.status == status]))


def test_tally_groups_of_nobody_is_empty(version, grid):
    assert tally_groups(Answer.objects.none(), grid) in ({}, {None: GroupTallies()})


def test_score_class_rounds_to_the_nearest_third():
    assert score_class(5, 3) == Fraction(5, 3)
    assert score_class(3, 2) == Fraction(4, 3)  # 1.5 is 4.5 thirds: halves to even, 4 thirds
    assert score_class(7, 4) == Fraction(5, 3)  # 1.75 -> 5/3 (1.667), not 2
    assert score_class(11, 6) == Fraction(2)  # 1.833 is 5.5 thirds: halves to even, 6 thirds
    assert score_class(0, 4) == 0
