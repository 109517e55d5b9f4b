from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

from django import template

from grille.core.charts import format_score

register = template.Library()

K = TypeVar("K")
V = TypeVar("V")


class _Option(Protocol):
    @property
    def value(self) -> int | None: ...


class _Scale(Protocol):
    @property
    def max_value(self) -> int: ...


@register.filter
def score(value: float | None, digits: int = 1) -> str:
    return format_score(value, digits)


@register.filter
def signed_score(value: float | None) -> str:
    if value is None:
        return "—"
    text = format_score(abs(value))
    if round(value, 1) == 0:
        return text
    return ("+" if value > 0 else "−") + text


@register.filter
def index(sequence: Sequence[V], position: int) -> V:
    return sequence[position]


@register.filter
def get(mapping: Mapping[K, V], key: K) -> V | K:
    return mapping.get(key, key)


@register.filter
def get_list(mapping: Mapping[K, Sequence[V] | None], key: K) -> Sequence[V]:
    return mapping.get(key) or []


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return format_score(value * 100) + " %"


@register.filter
def pvalue(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 0.001:
        return "< 0,001"
    return format_score(value, 3)


@register.filter
def lookup(mapping: object, key: Any) -> Any:
    """mapping[key] in a template, or None when either is missing."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def level_shade(option: _Option | None, dimension: _Scale) -> str:
    """The CSS class shading a level option: ``level-nc`` without a value, else ``level-0``
    to ``level-3`` by its place on the dimension's scale, whatever that scale's length."""
    if option is None or option.value is None:
        return "level-nc"
    top = dimension.max_value
    return f"level-{round(3 * option.value / top) if top else 0}"
