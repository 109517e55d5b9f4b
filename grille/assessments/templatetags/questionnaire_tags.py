"""The radio buttons of one dimension of a practice, written in one pass.

A step shows some fifty options; the template loop that wrote them cost more than all the
rest of the page. The markup is the same, built with format_html (every value escaped).
"""

from __future__ import annotations

from django import forms, template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from grille.frameworks import grid as g

register = template.Library()


@register.simple_tag
def radio_options(field: forms.BoundField, dimension: g.Dimension) -> SafeString:
    auto_id, name, current = field.auto_id, field.html_name, field.value()
    return format_html_join(
        "\n",
        '<label class="option" for="{0}-{1}"><input type="radio" id="{0}-{1}" name="{2}" value="{3}"{4}> '
        "<span>{5}</span></label>",
        (
            (auto_id, i, name, option.code, mark_safe(" checked") if current == option.code else "", option.label)
            for i, option in enumerate(dimension.options)
        ),
    )
