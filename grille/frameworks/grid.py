"""An immutable, in-memory view of one framework version.

Pages, the PDF, the JSON export and the profile all read the grid through
these plain objects, so the profile functions stay pure and testable, and
nothing assumes a number of axes, situations or practices.

A grid is read in one language (:func:`~.selectors.get_grid` takes the active one): its labels
are in that language when the version carries a translation, and each object keeps its
``original_label`` (in the version's own language) so that pages can show the original beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property


@dataclass(frozen=True)
class Option:
    id: int
    code: str
    label: str
    value: int | None
    partnership: bool = False
    # The label in the version's own language ("" when the grid is read in that language).
    original_label: str = ""

    @property
    def original(self) -> str:
        return self.original_label or self.label


@dataclass(frozen=True)
class Dimension:
    code: str
    role: str
    label: str
    help_text: str
    options: tuple[Option, ...]
    original_label: str = ""
    original_help_text: str = ""

    @property
    def original(self) -> str:
        return self.original_label or self.label

    # Lookups are cached on the instance (grids are immutable and kept for the life of the
    # process): pages and the team map call them once per cell.
    @cached_property
    def _by_code(self) -> dict[str, Option]:
        return {o.code: o for o in self.options}

    @cached_property
    def _by_id(self) -> dict[int, Option]:
        return {o.id: o for o in self.options}

    def option_by_code(self, code: str) -> Option | None:
        return self._by_code.get(code)

    def option_by_id(self, option_id: int | None) -> Option | None:
        return None if option_id is None else self._by_id.get(option_id)

    @cached_property
    def max_value(self) -> int:
        return max((o.value for o in self.options if o.value is not None), default=0)

    @cached_property
    def strength_floor(self) -> int:
        """The lowest level that counts as a strength: the two top levels of the scale (for
        the 2024 grid, « Régulièrement » and « C'est le cœur de mon activité »)."""
        return max(1, self.max_value - 1)


@dataclass(frozen=True)
class GuideLevel:
    """What one level of the scale looks like for a practice: « Ponctuellement : … »."""

    code: str
    label: str
    text: str


@dataclass(frozen=True)
class Guide:
    """What a practice means and what each level looks like; ``note`` says where it comes from
    (for the 2024 grid: Grille's own proposal, not the original document's text)."""

    summary: str
    levels: tuple[GuideLevel, ...]
    note: str = ""


@dataclass(frozen=True)
class Practice:
    id: int
    code: str
    label: str
    situation_code: str
    original_label: str = ""
    guide: Guide | None = None
    # The language the labels are shown in, and the version's own (for lang="…" on the original).
    language: str = ""
    original_language: str = ""

    @property
    def original(self) -> str:
        return self.original_label or self.label

    @property
    def translated(self) -> bool:
        return bool(self.original_label) and self.original_label != self.label


@dataclass(frozen=True)
class Situation:
    code: str
    label: str
    description: str
    axis_code: str
    practices: tuple[Practice, ...]
    original_label: str = ""
    original_description: str = ""

    @property
    def full_label(self) -> str:
        return f"{self.label} ({self.description})" if self.description else self.label

    @property
    def original(self) -> str:
        return self.original_label or self.label

    @property
    def original_full_label(self) -> str:
        description = self.original_description or self.description
        return f"{self.original} ({description})" if description else self.original


@dataclass(frozen=True)
class Axis:
    code: str
    label: str
    description: str
    situations: tuple[Situation, ...]
    original_label: str = ""

    @property
    def original(self) -> str:
        return self.original_label or self.label

    @cached_property
    def practices(self) -> tuple[Practice, ...]:
        return tuple(p for s in self.situations for p in s.practices)


@dataclass(frozen=True)
class Grid:
    version_id: int
    framework_name: str
    version_code: str
    title: str
    source: str
    source_date: date | None
    axes: tuple[Axis, ...]
    dimensions: dict[str, Dimension] = field(hash=False)
    # The language the grid is shown in, and the version's own: they differ when the grid is a
    # translation (then every object's ``original_label`` holds the original).
    language: str = "fr"
    original_language: str = "fr"
    original_title: str = ""

    @property
    def translated(self) -> bool:
        return self.language != self.original_language

    @cached_property
    def has_guides(self) -> bool:
        return any(p.guide is not None for p in self.practices)

    @cached_property
    def situations(self) -> tuple[Situation, ...]:
        return tuple(s for a in self.axes for s in a.situations)

    @cached_property
    def practices(self) -> tuple[Practice, ...]:
        return tuple(p for a in self.axes for p in a.practices)

    @cached_property
    def _situation_by_code(self) -> dict[str, Situation]:
        return {s.code: s for s in self.situations}

    @cached_property
    def _practice_by_code(self) -> dict[str, Practice]:
        return {p.code: p for p in self.practices}

    def situation(self, code: str) -> Situation | None:
        return self._situation_by_code.get(code)

    def practice(self, code: str) -> Practice | None:
        return self._practice_by_code.get(code)

    @property
    def level(self) -> Dimension:
        return self.dimensions["level"]

    @property
    def wish(self) -> Dimension:
        return self.dimensions["wish"]

    @property
    def carrying(self) -> Dimension:
        return self.dimensions["carrying"]
