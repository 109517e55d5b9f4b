"""Pages rendered once, then only their live parts for each request (issue 16).

A hot page (the questionnaire step) is mostly the same for everybody who sees it in the same
language: the header, the grid's texts, the buttons. Only a few parts differ from one person to
the next — the CSRF token, the positioning's links, the progress, the checked options, the
messages — and the template marks them ``{% live %}…{% endlive %}`` (templatetags/skeleton.py).

``render_page`` renders such a page once per key (the view's key, plus the template, the
language, whether someone is signed in and the URL's view) with every live part replaced by a
marker: the *skeleton*, kept per worker (as UTF-8 bytes, as the response sends it). Each
request then renders only the live parts, with the template engine and the request's own
context, and joins them with the skeleton's text. A page is thus the same, byte for byte, as
the template rendered in full (tests/core/test_skeleton.py and tests/assessments/test_hot_paths.py
compare them).

What keeps one person's data out of the text kept for everybody:

- a live part is rendered per request, never kept; outside them, the template may show only
  what the key determines (the view's key says what that is: the grid version and step, say);
- a skeleton is refused — the page is then rendered in full, every time — when its text holds
  a CSRF token field, one of the values the view names as private (the positioning's uuid, the
  person's name or address), or a marker in a loop (a live part must hold its loop whole);
- nothing is kept in DEBUG (templates edited while the server runs) or with
  ``GRILLE_FRAGMENT_CACHE = False``, and a template loaded again makes a new skeleton.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import Context, NodeList, RequestContext
from django.template import Template as EngineTemplate
from django.template.context import make_context
from django.template.loader import get_template
from django.utils.translation import get_language

# The context variable that puts a render in skeleton mode (templates cannot name a variable
# starting with an underscore: no page can set or read it).
SKELETON_VARIABLE = "_grille_skeleton"
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # Unicode private use: never in a page's own text
_MARK = re.compile(f"{MARK_OPEN}(\\d+){MARK_CLOSE}")
# Steps: templates × grid versions × steps × languages × signed in or not (tens); submitted
# profiles: one per positioning and viewer kind (about 50 KB each). Cleared when either is reached.
SKELETON_CACHE_MAX = 500
SKELETON_CACHE_BYTES = 4 * 2**20
# Refused in a skeleton's text: a form's CSRF token must be a live part.
_TOKEN_FIELD = 'name="csrfmiddlewaretoken"'


@dataclass
class Collector:
    """What a render in skeleton mode gathers: the live parts in the order met."""

    nodes: list[NodeList] = field(default_factory=list)
    refused: str = ""

    def mark(self, nodelist: NodeList, context: Context) -> str:
        if "forloop" in context:
            self.refused = "a live part inside a loop"
        self.nodes.append(nodelist)
        return f"{MARK_OPEN}{len(self.nodes) - 1}{MARK_CLOSE}"


def render_live(nodelist: NodeList, context: Context) -> str:
    """``{% live %}``: a marker in skeleton mode, the content otherwise."""
    collector = context.get(SKELETON_VARIABLE)
    if isinstance(collector, Collector):
        return collector.mark(nodelist, context)
    return nodelist.render(context)


_PENDING = object()
Processor = Callable[[HttpRequest], Mapping[str, Any]]


def processor_keys(request: HttpRequest, processors: Iterable[Processor]) -> dict[str, Processor]:
    """Which context processor gives each variable (the last one, as RequestContext has it),
    read once when a skeleton is built. A processor must give the same variables to every
    request under the same key (as Django's and studies.context_processors do): a variable it
    gave only to some would be missing from a live part's lookups."""
    return {key: processor for processor in processors for key in processor(request)}


class LazyProcessors(dict[str, Any]):
    """The context processors' variables for one request, each processor run only when a live
    part first reads one of its variables: a step page's live parts read three or four of the
    dozen they give, and running them all cost a tenth of the page (issue 16). Every way of
    reading the mapping (items, copy, a context flattened…) runs the processors not yet run."""

    def __init__(self, request: HttpRequest, keys: Mapping[str, Processor]) -> None:
        super().__init__(dict.fromkeys(keys, _PENDING))
        self._request = request
        self._keys = keys

    def _run(self, processor: Processor) -> None:
        for key, value in processor(self._request).items():
            if self._keys.get(key, processor) is processor:
                dict.__setitem__(self, key, value)

    def __getitem__(self, key: str) -> Any:
        value = dict.__getitem__(self, key)
        if value is _PENDING:
            self._run(self._keys[key])
            value = dict.__getitem__(self, key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def resolved(self) -> dict[str, Any]:
        return {key: self[key] for key in dict.keys(self)}

    def __iter__(self) -> Iterator[str]:  # also keeps dict.update(this) off its raw fast path
        return iter(self.resolved())

    def items(self) -> Any:
        return self.resolved().items()

    def values(self) -> Any:
        return self.resolved().values()

    def copy(self) -> dict[str, Any]:
        return self.resolved()

    def __reduce__(self) -> Any:
        return (dict, (self.resolved(),))


@dataclass(frozen=True)
class Skeleton:
    template: EngineTemplate
    guard: object
    # The text around the live parts (one more than them), encoded as the response is: kept as
    # str, one character beyond Latin-1 (the « ▦ » of the header) makes Python keep the whole
    # piece at 2 bytes a character, twice the memory; and the response no longer encodes it.
    texts: tuple[bytes, ...]
    live: tuple[NodeList, ...]
    processors: Mapping[str, Processor]

    def fill(self, request: HttpRequest, values: Mapping[str, Any]) -> bytes:
        """The page for this request, encoded as its response: each live part rendered in the
        request's context, as template.render(values, request) would render it, the context
        processors run lazily."""
        template = self.template
        context = RequestContext(request, autoescape=template.engine.autoescape)
        # Where RequestContext.bind_template would put every processor's variables.
        context.dicts[context._processors_index] = LazyProcessors(request, self.processors)  # type: ignore[attr-defined]
        context.push(dict(values))
        out = [self.texts[0]]
        context.template = template
        try:
            with context.render_context.push_state(template):
                context.template_name = template.name
                for nodelist, text in zip(self.live, self.texts[1:], strict=True):
                    out.append(nodelist.render(context).encode(settings.DEFAULT_CHARSET))
                    out.append(text)
        finally:
            context.template = None
            # Each of the context's dicts refers back to it (Django's ContextDict): emptied, the
            # page's values are freed as the request ends, not by a later garbage collection.
            context.dicts.clear()
        return b"".join(out)


_skeletons: dict[tuple[Any, ...], Skeleton] = {}
_kept_bytes = [0]


def clear_skeletons() -> None:
    _skeletons.clear()
    _kept_bytes[0] = 0


def _keep(key: tuple[Any, ...], skeleton: Skeleton) -> None:
    size = sum(len(text) for text in skeleton.texts)
    if len(_skeletons) >= SKELETON_CACHE_MAX or _kept_bytes[0] + size > SKELETON_CACHE_BYTES:
        clear_skeletons()
    _skeletons[key] = skeleton
    _kept_bytes[0] += size


def enabled() -> bool:
    return not settings.DEBUG and getattr(settings, "GRILLE_FRAGMENT_CACHE", True)


def _build(
    request: HttpRequest, template: EngineTemplate, values: Mapping[str, Any], private: Iterable[str], guard: object
) -> Skeleton | None:
    collector = Collector()
    context = make_context({**values, SKELETON_VARIABLE: collector}, request, autoescape=template.engine.autoescape)
    html = template.render(context)
    if collector.refused or not collector.nodes:
        return None
    pieces = _MARK.split(html)
    texts, indexes = tuple(pieces[0::2]), [int(i) for i in pieces[1::2]]
    if indexes != list(range(len(collector.nodes))):
        return None
    text = "".join(texts)
    if MARK_OPEN in text or MARK_CLOSE in text or _TOKEN_FIELD in text:
        return None
    if any(value and value in text for value in private):
        return None
    processors = processor_keys(request, template.engine.template_context_processors)
    encoded = tuple(piece.encode(settings.DEFAULT_CHARSET) for piece in texts)
    return Skeleton(template, guard, encoded, tuple(collector.nodes), processors)


def _full_key(request: HttpRequest, template_name: str, key: tuple[Any, ...]) -> tuple[Any, ...]:
    # The view too: the menu marks the current page (aria-current) outside any live part.
    match = request.resolver_match
    return (template_name, get_language() or "", request.user.is_authenticated, match and match.view_name, *key)


def kept(request: HttpRequest, template_name: str, *, key: tuple[Any, ...], guard: object = None) -> Skeleton | None:
    """The page's skeleton kept under ``key`` (see render_page), if there is one: a view that
    finds it needs only what the live parts show."""
    if not enabled():
        return None
    skeleton = _skeletons.get(_full_key(request, template_name, key))
    if skeleton is None or skeleton.guard is not guard:
        return None
    if skeleton.template is not get_template(template_name).template:  # type: ignore[attr-defined]
        return None
    return skeleton


def render_page(
    request: HttpRequest,
    template_name: str,
    values: Mapping[str, Any],
    *,
    key: tuple[Any, ...] | None,
    private: Iterable[str] = (),
    guard: object = None,
    status: int = 200,
) -> HttpResponse:
    """``render(request, template_name, values)``, from the template's skeleton when the view
    gives a ``key``: what, besides the template, the language, whether someone is signed in and
    the URL's view, determines the page outside its live parts. ``private``: values that must
    never be in the text kept (the page is then rendered in full). ``guard``: an object the
    page's text is made from (the grid), which must be the very same object for the skeleton to
    be used again."""
    backend_template = get_template(template_name)
    template: EngineTemplate = backend_template.template  # type: ignore[attr-defined]
    if key is None or not enabled():
        return HttpResponse(backend_template.render(dict(values), request), status=status)
    full_key = _full_key(request, template_name, key)
    skeleton = _skeletons.get(full_key)
    if skeleton is None or skeleton.template is not template or skeleton.guard is not guard:
        skeleton = _build(request, template, values, private, guard)
        if skeleton is None:
            return HttpResponse(backend_template.render(dict(values), request), status=status)
        _keep(full_key, skeleton)
    return HttpResponse(skeleton.fill(request, values), status=status)


def viewer_values(request: HttpRequest) -> list[str]:
    """The signed-in person's address and name: never in a page's text kept for others."""
    user = request.user
    if not user.is_authenticated:
        return []
    return [value for value in (getattr(user, "email", ""), getattr(user, "display_name", "")) if len(value) >= 3]
