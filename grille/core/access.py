"""Access decorators shared by every app's views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.http import HttpRequest, HttpResponseBase

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)

PRIVATE_ATTRIBUTE = "private_page"


def mark_private(request: HttpRequest) -> None:
    """The response to this request is about a person: never cached (see core.middleware)."""
    setattr(request, PRIVATE_ATTRIBUTE, True)


def is_private(request: HttpRequest) -> bool:
    return bool(getattr(request, PRIVATE_ATTRIBUTE, False))


def private(view: Callable[P, R]) -> Callable[P, R]:
    """Pages about a person's answers: never cached, never shown from the back-forward cache."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        request = args[0]
        assert isinstance(request, HttpRequest)
        mark_private(request)
        return view(*args, **kwargs)

    return wrapper
