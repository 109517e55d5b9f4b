"""The perturbation table is data: it must be a valid noise distribution, and the parser must
refuse a broken one, in French, naming what is wrong."""

from __future__ import annotations

import copy
import random
from collections import Counter

import pytest
import yaml

from grille.disclosure.ptable import PTABLE_FILE, default_ptable, parse_ptable


@pytest.fixture
def raw() -> dict:
    with PTABLE_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_ptable_file_parses_into_the_default_table(raw):
    table = parse_ptable(raw)

    assert table == default_ptable()
    assert table.max_noise == raw["max_noise"]
    assert table.variance == raw["variance"]
    assert sorted(table.rows) == sorted(int(c) for c in raw["rows"])


def test_ptable_rows_are_distributions_of_bounded_centred_noise():
    table = default_ptable()
    for count in sorted(table.rows):
        distribution = table.distribution(count)
        assert sum(distribution.values()) == pytest.approx(1, abs=1e-12), count
        assert all(p >= 0 for p in distribution.values()), count
        assert all(abs(noise) <= table.max_noise for noise in distribution), count
        assert all(count + noise >= 0 for noise in distribution), count
        assert sum(noise * p for noise, p in distribution.items()) == pytest.approx(0, abs=1e-12), count


def test_ptable_last_row_has_the_stated_variance_and_serves_every_larger_count():
    table = default_ptable()
    last = max(table.rows)
    variance = sum(noise * noise * p for noise, p in table.distribution(last).items())

    assert variance == pytest.approx(table.variance, abs=1e-12)
    assert set(table.distribution(last)) == set(range(-table.max_noise, table.max_noise + 1))
    for count in (last + 1, 10, 80, 10_000):
        assert table.distribution(count) == table.distribution(last)


def test_ptable_zero_is_never_perturbed():
    table = default_ptable()

    assert table.distribution(0) == {0: 1.0}
    assert {table.noise(0, key / 100) for key in range(100)} == {0}


def test_ptable_noise_follows_the_row_when_keys_are_uniform():
    table = default_ptable()
    draws = 20_000
    generator = random.Random(20240513)
    for count in (1, 2, 7):
        seen = Counter(table.noise(count, generator.random()) for _ in range(draws))
        for noise, p in table.distribution(count).items():
            # 5 standard deviations of a binomial proportion: deterministic with the seed anyway.
            assert abs(seen[noise] / draws - p) < 5 * (p * (1 - p) / draws) ** 0.5 + 1e-9, (count, noise)
        assert set(seen) <= set(table.distribution(count))


def test_ptable_noise_is_a_function_of_the_key():
    table = default_ptable()
    keys = [i / 997 for i in range(997)]

    assert [table.noise(5, key) for key in keys] == [table.noise(5, key) for key in keys]
    assert table.noise(5, 0.0) == -table.max_noise
    assert table.noise(5, 0.999_999) == table.max_noise


def _broken(raw: dict, change) -> dict:
    data = copy.deepcopy(raw)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["rows"][2].update({2: 0.3}), r"ligne 2 : les probabilités doivent être positives et faire 1"),
        (lambda d: d["rows"][2].update({-2: -0.2, 2: 0.6}), r"ligne 2 : les probabilités doivent être positives"),
        (lambda d: d["rows"].update({5: {-3: 0.1, 0: 0.8, 3: 0.1}}), r"ligne 5 : bruit hors de \[-2, 2\]"),
        (lambda d: d["rows"].update({1: {-2: 0.2, 0: 0.6, 2: 0.2}}), r"ligne 1 : .*compte négatif"),
        (lambda d: d["rows"].update({1: {0: 0.5, 1: 0.5}}), r"ligne 1 : le bruit doit être centré"),
        (lambda d: d["rows"].pop(2), r"la dernière ligne doit couvrir tout le bruit"),
        (lambda d: d["rows"].update({2: {-1: 0.5, 1: 0.5}}), r"la dernière ligne doit couvrir tout le bruit"),
        (lambda d: d.update({"variance": 1.5}), r"la variance de la dernière ligne vaut [0-9.]+, pas 1\.5"),
    ],
    ids=["sum", "negative-probability", "beyond-max", "negative-count", "not-centred", "no-last-row", "narrow-last-row", "variance"],
)
def test_parse_ptable_refuses_a_broken_table_in_french(raw, change, message):
    with pytest.raises(ValueError, match=message):
        parse_ptable(_broken(raw, change))
