"""Counts written in words, for the text a script updates without reloading the page."""

from __future__ import annotations

import json

from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.simple_tag
def answered_text(n: int, total: int) -> str:
    """« 1 pratique renseignée sur 24. », by the active language's plural rule (French: 0 and 1
    take the singular); the same message as the recap's and the profile's."""
    return ngettext(
        "%(n)s pratique renseignée sur %(total)s.", "%(n)s pratiques renseignées sur %(total)s.", n
    ) % {"n": n, "total": total}


@register.simple_tag
def answered_texts(total: int) -> str:
    """The progress sentence for every count from 0 to ``total``, as a JSON list: autosave.js
    shows the one for the count the server sends, so its plural is the server's."""
    return json.dumps([answered_text(n, total) for n in range(total + 1)], ensure_ascii=False)
