"""The perturbation table of the cell key method, read from `data/ptable.yaml`.

The table is data: its parameters and the reasons for them are written in the file. This module
checks it once when it is read (each row sums to 1, no noise beyond the maximum, no count made
negative, rows from the last on centred) and turns a cell key into a noise.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PTABLE_FILE = Path(__file__).with_name("data") / "ptable.yaml"


@dataclass(frozen=True)
class PerturbationTable:
    max_noise: int
    variance: float
    # count -> (cumulative probabilities, noises), the last row serving every larger count
    rows: dict[int, tuple[tuple[float, ...], tuple[int, ...]]]

    def noise(self, n: int, key: float) -> int:
        """The noise for a true count n whose cell key is `key` (0 ≤ key < 1)."""
        cumulative, noises = self.rows[min(n, max(self.rows))]
        return noises[min(bisect.bisect_right(cumulative, key), len(noises) - 1)]

    def distribution(self, n: int) -> dict[int, float]:
        """noise -> probability for a true count n (for tests and documentation)."""
        cumulative, noises = self.rows[min(n, max(self.rows))]
        previous, result = 0.0, {}
        for edge, noise in zip(cumulative, noises, strict=True):
            result[noise] = edge - previous
            previous = edge
        return result


def parse_ptable(data: dict[str, Any]) -> PerturbationTable:
    """Check a table's data and build it; raise ValueError naming the faulty row."""
    max_noise = int(data["max_noise"])
    variance = float(data["variance"])
    rows: dict[int, tuple[tuple[float, ...], tuple[int, ...]]] = {}
    for count, row in sorted((int(c), r) for c, r in data["rows"].items()):
        noises = sorted(int(noise) for noise in row)
        probabilities = [float(row[noise]) for noise in noises]
        if any(p < 0 for p in probabilities) or abs(sum(probabilities) - 1) > 1e-9:
            raise ValueError(f"ligne {count} : les probabilités doivent être positives et faire 1")
        if any(abs(noise) > max_noise or count + noise < 0 for noise in noises):
            raise ValueError(f"ligne {count} : bruit hors de [-{max_noise}, {max_noise}] ou compte négatif")
        if abs(sum(n * p for n, p in zip(noises, probabilities, strict=True))) > 1e-9:
            raise ValueError(f"ligne {count} : le bruit doit être centré (moyenne nulle)")
        cumulative, total = [], 0.0
        for p in probabilities:
            total += p
            cumulative.append(total)
        cumulative[-1] = 1.0
        rows[count] = (tuple(cumulative), tuple(noises))
    last = max(rows)
    if last < max_noise or rows[last][1] != tuple(range(-max_noise, max_noise + 1)):
        raise ValueError("la dernière ligne doit couvrir tout le bruit, de -max_noise à max_noise")
    table = PerturbationTable(max_noise=max_noise, variance=variance, rows=rows)
    spread = sum(n * n * p for n, p in table.distribution(last).items())
    if abs(spread - variance) > 1e-9:
        raise ValueError(f"la variance de la dernière ligne vaut {spread:.6g}, pas {variance:.6g}")
    return table


@cache
def default_ptable() -> PerturbationTable:
    with PTABLE_FILE.open(encoding="utf-8") as handle:
        return parse_ptable(yaml.safe_load(handle))
