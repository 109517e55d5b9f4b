"""Series of the situation radar, read from a mapping situation code → mean."""

from __future__ import annotations

from grille.frameworks.charts import situation_series


def test_situation_series_follows_the_grid_order(grid):
    codes = [s.code for s in grid.situations]
    means = {code: float(i) for i, code in enumerate(reversed(codes))}

    series = situation_series(grid, means, label="Équipe", kind="secondary")

    assert list(series.values) == [means[code] for code in codes]
    assert (series.label, series.kind) == ("Équipe", "secondary")


def test_situation_series_leaves_a_missing_situation_without_value(grid):
    first, *others = [s.code for s in grid.situations]

    series = situation_series(grid, {code: 2.0 for code in others}, label="Profil")

    assert list(series.values) == [None] + [2.0] * len(others)
