"""Reaching a generated file: only through the rule of the app that asked for it."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404

from grille.core.users import AnyUser, User

from .models import GeneratedFile
from .registry import get_kind, is_registered


def get_file_for(user: AnyUser, uuid: UUID | str) -> GeneratedFile:
    """A generated file the caller may see (the rule its kind registered), or 404 for anyone else."""
    job = GeneratedFile.objects.filter(uuid=uuid).first()
    if job is None or not is_registered(job.kind) or not get_kind(job.kind).may_access(user, job):
        raise Http404
    return job


def files_about(*, owner: User, kind: str, subject: str, limit: int = 5) -> list[GeneratedFile]:
    """Someone's latest files of one kind about one subject, newest first."""
    return list(GeneratedFile.objects.filter(owner=owner, kind=kind, subject=subject).order_by("-created_at", "-pk")[:limit])
