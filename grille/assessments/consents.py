"""Consent records kept as proof (ConsentRecord): written when a study or peer consent is given,
stamped when it is withdrawn, kept after the share they prove is gone."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from .enums import ConsentKind
from .models import Assessment, ConsentRecord

PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_pseudonym(prefix: str) -> str:
    """A pseudonym such as R-7KQ2M9XA: it says nothing about the person."""
    return prefix + "".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(8))


def record_consent(
    *, kind: ConsentKind, assessment: Assessment, text_version: str, pseudonym: str = "", scope: str = ""
) -> ConsentRecord:
    """The proof of a consent given now. Giving the same consent again to the same wording keeps
    the open record; to another wording, the earlier one is closed and a new one opened."""
    open_records = ConsentRecord.objects.filter(kind=kind, assessment=assessment, scope=scope, withdrawn_at__isnull=True)
    current = open_records.filter(text_version=text_version).first()
    if current is not None:
        return current
    open_records.update(withdrawn_at=timezone.now())
    return ConsentRecord.objects.create(
        kind=kind, assessment=assessment, user_id=assessment.owner_id, text_version=text_version,
        pseudonym=pseudonym or new_pseudonym("P-"), scope=scope,
    )


def withdraw_consents(*, assessments: Iterable[Assessment] | Iterable[int], kind: ConsentKind | None = None, scope: str | None = None) -> int:
    """Stamp the open consents of these positionings as withdrawn now; the number stamped."""
    query = Q(assessment__in=list(assessments), withdrawn_at__isnull=True)
    if kind is not None:
        query &= Q(kind=kind)
    if scope is not None:
        query &= Q(scope=scope)
    return ConsentRecord.objects.filter(query).update(withdrawn_at=timezone.now())
