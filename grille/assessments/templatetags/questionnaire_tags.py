"""The radio buttons of one dimension of a practice, written in one pass.

A step shows some fifty options; the template loop that wrote them cost more than all the
rest of the page. The markup is the same, built with format_html (every value escaped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import (
    escape as plain_escape,  # what django.utils.html.escape does, without its lazy-text wrapper
)
from typing import Any

from django import forms, template
from django.conf import settings
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from grille.frameworks import grid as g

from ..forms import COMMENT_FIELD, VERSION_FIELD, PracticeAnswerForm, StoredPractice

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


@register.simple_tag
def step_links(steps: list[dict[str, Any]]) -> SafeString:
    """The questionnaire's steps as buttons, with each step's progress: written in one pass, as
    the page shows it on every request (a template loop cost more than the rest of the page).
    Numbers are whole numbers; the label is escaped as the template escapes it."""
    links = []
    for s in steps:
        number, label = int(s["number"]), plain_escape(str(s["situation"].label))
        current = s["current"]
        aria = ' aria-current="step"' if current else ""
        links.append(
            f'<li><button type="submit" name="aller" value="{number}" class="step-link'
            f'{" is-current" if current else ""}{" is-done" if s["answered"] == s["total"] else ""}"'
            f'{aria} title="{label}">'
            f'<span class="step-num">{number}</span><span class="step-state" data-step-count="{number}">'
            f'{int(s["answered"])}/{int(s["total"])}</span><span class="visually-hidden"> — {label}</span></button></li>'
        )
    return mark_safe("\n      ".join(links))  # noqa: S308 - every value above is a whole number or escaped


# --- The practices of a step, their markup cached (issue 16) -------------------------------------

FIELDSET_TEMPLATE = "assessments/_practice_fieldset.html"
# Stand-ins rendered into the cached markup, replaced by each person's values.
SENTINEL_VERSION = 10**15  # the stamp field's maximum: never a real stamp
SENTINEL_COMMENT = "grille-fragment-comment-7f3a9c"
SENTINEL_UUID = "grille-fragment-uuid-7f3a9c"
FIELDSET_CACHE_MAX = 500  # practices × languages × published versions: about 50 today


@dataclass(frozen=True)
class FieldsetMarkup:
    """A practice's fieldset for nobody in particular, cut where each person's values go:
    ``pieces`` joined is the markup with the stand-ins; ``options`` gives the piece of each
    radio button's ``name="…" value="…">`` (escaped, as in the page), which gets ``checked``;
    ``uuid``, ``version`` and ``comment`` the pieces of the stand-ins."""

    pieces: tuple[str, ...]
    options: dict[tuple[str, str], int]
    uuid: tuple[int, ...]
    version: int
    comment: int

    def fill(self, uuid: str, checked: Iterable[tuple[str, str]], version: Any, comment: Any) -> str:
        out = list(self.pieces)
        for option in checked:
            index = self.options.get(option)
            if index is not None:
                out[index] = out[index][:-1] + " checked>"
        for index in self.uuid:
            out[index] = uuid
        out[self.version] = f' value="{plain_escape(str(version))}"' if version not in (None, "") else ""
        out[self.comment] = plain_escape("" if comment is None else str(comment))
        return "".join(out)


# The stand-ins, and each radio button's name and value as the template writes them.
_SLOTS = re.compile(
    f'(?P<uuid>{SENTINEL_UUID})|(?P<version> value="{SENTINEL_VERSION}")|(?P<comment>{SENTINEL_COMMENT})'
    r'|(?P<option>name="(?P<name>[^"<>]*)" value="(?P<value>[^"<>]*)">)'
)
# (version id, language, practice code) -> (the grid it was rendered from, its markup cut)
_fieldsets: dict[tuple[int, str, str], tuple[g.Grid, FieldsetMarkup]] = {}


def clear_fieldset_cache() -> None:
    _fieldsets.clear()


def _render(context: template.Context, name: str) -> str:
    """``{% include name %}`` in this context."""
    engine = context.template.engine if context.template is not None else template.Engine.get_default()
    return engine.get_template(name).render(context)


def _render_fieldset(context: template.Context, form: Any) -> str:
    with context.push(form=form):
        return _render(context, FIELDSET_TEMPLATE)


def _cut(markup: str) -> FieldsetMarkup | None:
    """The markup cut at its slots; None unless the edit stamp and the comment are there once."""
    pieces: list[str] = []
    options: dict[tuple[str, str], int] = {}
    uuid: list[int] = []
    version: list[int] = []
    comment: list[int] = []
    at = 0
    for match in _SLOTS.finditer(markup):
        pieces.append(markup[at:match.start()])
        at = match.end()
        index = len(pieces)
        pieces.append(match.group())
        if match["uuid"]:
            uuid.append(index)
        elif match["version"]:
            version.append(index)
        elif match["comment"]:
            comment.append(index)
        else:
            options.setdefault((match["name"], match["value"]), index)  # the first, as the page checks it
    pieces.append(markup[at:])
    if len(version) != 1 or len(comment) != 1:
        return None
    return FieldsetMarkup(tuple(pieces), options, tuple(uuid), version[0], comment[0])


def _fieldset_markup(context: template.Context, grid: g.Grid, practice: g.Practice, uuid: str, language: str) -> FieldsetMarkup | None:
    """The practice's fieldset for nobody in particular: no option checked, stand-ins for the
    positioning, the edit stamp and the comment. Rendered once per published grid, language and
    practice: a published version never changes, and the grid object is the cache's content key
    (another grid, after the grid cache was cleared, renders again). None when the template no
    longer shows the stand-ins where expected: the fieldset is then rendered as is."""
    key = (grid.version_id, language, practice.code)
    cached = _fieldsets.get(key)
    if cached is not None and cached[0] is grid:
        return cached[1]
    blank = PracticeAnswerForm(
        grid=grid, practice=practice, initial={COMMENT_FIELD: SENTINEL_COMMENT, VERSION_FIELD: SENTINEL_VERSION},
    )
    markup = _cut(_render_fieldset(context, blank).replace(uuid, SENTINEL_UUID))
    if markup is None:
        return None
    if len(_fieldsets) >= FIELDSET_CACHE_MAX:
        _fieldsets.clear()
    _fieldsets[key] = (grid, markup)
    return markup


def _person_values(form: PracticeAnswerForm | StoredPractice) -> tuple[list[tuple[str, Any]], Any, Any]:
    """(field name in the page, value) of each dimension, the edit stamp and the comment, as the
    unbound form shows them."""
    if isinstance(form, StoredPractice):
        initial = form.initial
        choices = [(form.html_name(dim.code), initial.get(dim.code)) for dim in form.grid.dimensions.values()]
        return choices, initial.get(VERSION_FIELD), initial.get(COMMENT_FIELD)
    choices = [(field.html_name, field.value()) for _dimension, field in form.dimension_fields()]
    return choices, form[VERSION_FIELD].value(), form[COMMENT_FIELD].value()


@register.simple_tag(takes_context=True)
def practice_fieldset(context: template.Context, form: PracticeAnswerForm | StoredPractice) -> SafeString:
    """One practice of the questionnaire step, as _practice_fieldset.html renders it.

    A form shown with errors, or on a grid that may still change (a draft version), or in
    DEBUG (templates edited while the server runs), is rendered as is. Otherwise the markup of
    the practice comes from the cache and only this person's values are filled in: the checked
    options, the edit stamp, the comment (escaped as the template escapes it) and the
    positioning in the autosave URL. tests/assessments/test_hot_paths.py checks the page is the
    same, byte for byte, with and without the cache.
    """
    assessment = context.get("assessment")
    if (
        form.is_bound
        or settings.DEBUG
        or not getattr(settings, "GRILLE_FRAGMENT_CACHE", True)
        or assessment is None
        or not assessment.version.is_published
    ):
        return _rendered_as_is(context, form)
    uuid = str(assessment.uuid)
    markup = _fieldset_markup(context, form.grid, form.practice, uuid, get_language() or "")
    if markup is None:
        return _rendered_as_is(context, form)
    choices, version, comment = _person_values(form)
    checked = [(plain_escape(name), plain_escape(str(current))) for name, current in choices if current]
    return mark_safe(markup.fill(uuid, checked, version, comment))  # noqa: S308 - the template's markup, every value filled in escaped


def _rendered_as_is(context: template.Context, form: PracticeAnswerForm | StoredPractice) -> SafeString:
    real = form.form if isinstance(form, StoredPractice) else form
    return mark_safe(_render_fieldset(context, real))  # noqa: S308 - rendered by the template engine


# --- Fragments of content that never changes (a submitted profile) ------------------------------

FRAGMENT_CACHE_MAX = 200  # submitted profiles kept per worker (tens of KB each: a few MB at most)
# (template, key, language) -> (guard, markup)
_fragments: dict[tuple[str, str, str], tuple[object, str]] = {}


def clear_fragment_cache() -> None:
    _fragments.clear()


@register.simple_tag(takes_context=True)
def cached_include(context: template.Context, name: str, key: str | None, guard: object = None) -> SafeString:
    """``{% include name %}``, its markup kept per worker under ``key`` and the language.

    The view gives a key only for content that never changes, made of what the fragment shows
    (for a submitted profile: the positioning, the one it is compared with, the grid, the
    resources); ``guard`` (the grid object) must be the same object as when it was rendered.
    No key, or DEBUG: rendered as is.
    """
    if not key or settings.DEBUG or not getattr(settings, "GRILLE_FRAGMENT_CACHE", True):
        return mark_safe(_render(context, name))  # noqa: S308 - rendered by the template engine
    cache_key = (name, key, get_language() or "")
    cached = _fragments.get(cache_key)
    if cached is not None and cached[0] is guard:
        return mark_safe(cached[1])  # noqa: S308 - rendered by the template engine
    markup = _render(context, name)
    if len(_fragments) >= FRAGMENT_CACHE_MAX:
        _fragments.clear()
    _fragments[cache_key] = (guard, markup)
    return mark_safe(markup)  # noqa: S308 - rendered by the template engine
