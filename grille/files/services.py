"""Generated files: asked for in a request, built by a task, kept until they expire.

A build writes to a temporary name beside the final one and renames it only once the builder has
returned: a worker killed half-way leaves at most a « .partiel- » file that no row points to, and
its job, whose heartbeat stops, is shown as interrupted and can be started again.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from grille.core.users import User

from .enums import FileStatus
from .models import UPLOAD_DIR, GeneratedFile
from .registry import get_kind

logger = logging.getLogger(__name__)

PARTIAL_PREFIX = ".partiel-"
# Progress is written at most this often (seconds), unless the percentage changes.
PROGRESS_EVERY = 2.0
# Expired rows are kept (the page says the file expired) this long, then deleted.
KEEP_EXPIRED_ROWS = timedelta(days=30)


class FileRefused(Exception):
    """A request about a generated file that cannot be done now; the message is French."""

    status = 409


class Superseded(Exception):
    """This build is no longer the job's current attempt (it was retried): stop writing."""


def ttl() -> timedelta:
    return timedelta(hours=settings.GRILLE_FILES_TTL_HOURS)


def is_stale(job: GeneratedFile, now: datetime | None = None) -> bool:
    """A build whose worker stopped reporting: killed, or lost with its machine."""
    now = now or timezone.now()
    beat = job.heartbeat or job.started_at or job.created_at
    return job.status == FileStatus.BUILDING and now - beat > timedelta(seconds=settings.GRILLE_FILES_STALE_SECONDS)


def shown_status(job: GeneratedFile, now: datetime | None = None) -> str:
    """The status as the page says it: a stale build has failed, a file past its date expired."""
    now = now or timezone.now()
    if job.status == FileStatus.READY and job.expires_at <= now:
        return FileStatus.EXPIRED
    if is_stale(job, now):
        return FileStatus.FAILED
    return job.status


def status_label(job: GeneratedFile, now: datetime | None = None) -> str:
    """The shown status in words (« Interrompu » for a build whose worker stopped)."""
    if is_stale(job, now):
        return _("Interrompu")
    return str(FileStatus(shown_status(job, now)).label)


def _enqueue(job_id: int, attempt: int) -> None:
    from .tasks import build_generated_file

    build_generated_file.enqueue(job_id, attempt)


@transaction.atomic
def request_file(*, owner: User, kind: str, subject: str, parameters: dict[str, Any], filename: str) -> GeneratedFile:
    """Ask for a file: the job is saved now and built by the worker once this transaction
    commits. The same person asking again for the same file while it is being built gets the
    same job (a double click starts one build)."""
    get_kind(kind)  # an unknown kind is a programming error, before anything is saved
    now = timezone.now()
    for pending in GeneratedFile.objects.select_for_update().filter(
        owner=owner, kind=kind, subject=subject, status__in=[FileStatus.QUEUED, FileStatus.BUILDING],
    ):
        if pending.parameters == parameters and not is_stale(pending, now):
            return pending
    job = GeneratedFile.objects.create(
        owner=owner, kind=kind, subject=subject, parameters=parameters, filename=filename[:200],
        language=translation.get_language() or settings.LANGUAGE_CODE,
        attempt=1, expires_at=now + ttl(), progress_label=_("En attente d'un exécuteur de tâches"),
    )
    transaction.on_commit(lambda: _enqueue(job.pk, 1))
    return job


@transaction.atomic
def retry_file(*, job: GeneratedFile) -> GeneratedFile:
    """Build a failed, interrupted or expired file again, as a new attempt."""
    job = GeneratedFile.objects.select_for_update().get(pk=job.pk)
    if shown_status(job) not in (FileStatus.FAILED, FileStatus.EXPIRED):
        raise FileRefused(_("Ce fichier est déjà en préparation ou prêt : rien à relancer."))
    _delete_stored(job)
    job.attempt += 1
    job.status, job.progress, job.error = FileStatus.QUEUED, 0, ""
    job.progress_label = _("En attente d'un exécuteur de tâches")
    job.started_at = job.finished_at = job.heartbeat = None
    job.size = 0
    job.expires_at = timezone.now() + ttl()
    job.save(update_fields=[
        "attempt", "status", "progress", "error", "progress_label", "started_at", "finished_at", "heartbeat",
        "size", "expires_at", "file",
    ])
    attempt = job.attempt
    transaction.on_commit(lambda: _enqueue(job.pk, attempt))
    return job


def _directory() -> Path:
    directory = Path(default_storage.path(UPLOAD_DIR))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _delete_stored(job: GeneratedFile) -> None:
    if job.file:
        job.file.delete(save=False)


def _reporter(job: GeneratedFile, attempt: int) -> Any:
    last = {"percent": -1, "at": 0.0}

    def progress(percent: int, label: str) -> None:
        percent = max(0, min(99, int(percent)))  # 100 is the finished file's
        clock = time.monotonic()
        if percent == last["percent"] and clock - last["at"] < PROGRESS_EVERY:
            return
        last["percent"], last["at"] = percent, clock
        updated = GeneratedFile.objects.filter(pk=job.pk, attempt=attempt, status=FileStatus.BUILDING).update(
            progress=percent, progress_label=label[:120], heartbeat=timezone.now(),
        )
        if not updated:
            raise Superseded

    return progress


def build_file(*, job_id: int, attempt: int) -> str:
    """Build one attempt of a job (run by the worker, queue « files »). Returns what happened."""
    prune_files()
    now = timezone.now()
    claimed = GeneratedFile.objects.filter(pk=job_id, attempt=attempt, status=FileStatus.QUEUED).update(
        status=FileStatus.BUILDING, started_at=now, heartbeat=now, progress=0, progress_label=_("Démarrage"),
    )
    if not claimed:
        return "skipped"
    job = GeneratedFile.objects.get(pk=job_id)
    kind = get_kind(job.kind)
    extension = Path(job.filename).suffix
    directory = _directory()
    handle, partial = tempfile.mkstemp(dir=directory, prefix=PARTIAL_PREFIX, suffix=extension)
    try:
        with os.fdopen(handle, "wb") as out, translation.override(job.language or settings.LANGUAGE_CODE):
            kind.build(job, out, _reporter(job, attempt))
            out.flush()
            os.fsync(out.fileno())
        return _publish(job, attempt, Path(partial))
    except Superseded:
        return "superseded"
    except Exception as exc:
        logger.exception("Generated file %s (%s) failed", job.uuid, job.kind)
        GeneratedFile.objects.filter(pk=job.pk, attempt=attempt).update(
            status=FileStatus.FAILED, finished_at=timezone.now(), progress_label="",
            error=(_("La préparation du fichier a échoué (%(reason)s).") % {"reason": type(exc).__name__})[:300],
        )
        return "failed"
    finally:
        Path(partial).unlink(missing_ok=True)


@transaction.atomic
def _publish(job: GeneratedFile, attempt: int, partial: Path) -> str:
    current = GeneratedFile.objects.select_for_update().filter(
        pk=job.pk, attempt=attempt, status=FileStatus.BUILDING,
    ).first()
    if current is None:
        return "superseded"
    name = f"{UPLOAD_DIR}/{current.uuid}-{attempt}{partial.suffix}"
    final = Path(default_storage.path(name))
    size = partial.stat().st_size
    os.replace(partial, final)
    now = timezone.now()
    current.file.name = name
    current.status, current.progress, current.progress_label = FileStatus.READY, 100, _("Terminé")
    current.size, current.finished_at, current.heartbeat, current.expires_at = size, now, now, now + ttl()
    current.save(update_fields=["file", "status", "progress", "progress_label", "size", "finished_at", "heartbeat", "expires_at"])
    return "ready"


def prune_files(now: datetime | None = None) -> int:
    """Delete the files past their date (their rows say « expiré »), expired rows after a month,
    and, once older than the time to live, files no row points to (partial files left by killed
    workers, files of deleted accounts). Returns the number of files deleted."""
    now = now or timezone.now()
    deleted = 0
    for job in GeneratedFile.objects.filter(expires_at__lte=now).exclude(status=FileStatus.EXPIRED):
        _delete_stored(job)
        GeneratedFile.objects.filter(pk=job.pk, attempt=job.attempt).update(
            status=FileStatus.EXPIRED, file="", size=0,
        )
        deleted += 1
    GeneratedFile.objects.filter(Q(status=FileStatus.EXPIRED) & Q(expires_at__lte=now - KEEP_EXPIRED_ROWS)).delete()
    directory = Path(default_storage.path(UPLOAD_DIR))
    if directory.is_dir():
        # Partial files of killed workers, and files whose row went with its owner (erasure).
        oldest = (now - ttl()).timestamp()
        kept = {Path(name).name for name in GeneratedFile.objects.exclude(file="").values_list("file", flat=True)}
        for path in directory.iterdir():
            if path.name not in kept and path.is_file() and path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)
                deleted += 1
    return deleted
