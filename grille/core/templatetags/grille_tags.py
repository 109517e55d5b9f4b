from django import template

from grille.core.charts import format_score

register = template.Library()


@register.filter
def score(value: float | None) -> str:
    return format_score(value)


@register.filter
def signed_score(value: float | None) -> str:
    if value is None:
        return "—"
    text = format_score(abs(value))
    if round(value, 1) == 0:
        return text
    return ("+" if value > 0 else "−") + text


@register.filter
def index(sequence, position: int):
    return sequence[position]


@register.filter
def get(mapping, key):
    return mapping.get(key, key)
