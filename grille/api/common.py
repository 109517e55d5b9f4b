"""What every router shares: pagination parameters and the documented error responses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, QuerySet
from ninja import Query

from .schemas import ErrorOut

LIMIT_DEFAULT = 20
LIMIT_MAX = 100
# Far beyond any real list, and small enough for every database's integer type.
OFFSET_MAX = 1_000_000
# Primary keys are 64-bit signed integers.
ID_MAX = 2**63 - 1


def limit_param() -> Any:
    return Query(LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description=f"Nombre d'éléments par page (1 à {LIMIT_MAX}).")


def offset_param() -> Any:
    return Query(0, ge=0, le=OFFSET_MAX, description="Nombre d'éléments à sauter.")


M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page(Generic[M]):
    """One page of a list, as the page schemas (PageMeta) read it."""

    count: int
    limit: int
    offset: int
    items: list[M]


def paginate(queryset: QuerySet[M], *, limit: int, offset: int) -> Page[M]:
    """One page of a queryset, with the total count."""
    return Page(count=queryset.count(), limit=limit, offset=offset, items=list(queryset[offset : offset + limit]))


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error responses an operation documents, all {"detail": "…"}."""
    return dict.fromkeys(statuses, ErrorOut)


PUBLIC_ERRORS = errors(400, 404)
TOKEN_ERRORS = errors(400, 401, 404, 429)
