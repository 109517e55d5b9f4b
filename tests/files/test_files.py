"""Generated files apart from any app: the registry, expiry and the cleaning of partial files."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from grille.accounts.models import User
from grille.files.enums import FileStatus
from grille.files.models import UPLOAD_DIR, GeneratedFile
from grille.files.registry import FileKind, get_kind, register
from grille.files.services import PARTIAL_PREFIX, prune_files, shown_status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def ready_file(owner: User, *, expires_in: timedelta) -> GeneratedFile:
    job = GeneratedFile(
        owner=owner, kind="study-report-pdf", subject="campaign:x", status=FileStatus.READY, attempt=1,
        filename="r.pdf", expires_at=timezone.now() + expires_in,
    )
    job.file.save("r.pdf", ContentFile(b"%PDF"), save=False)
    job.save()
    return job


def test_a_kind_is_registered_once():
    kind = get_kind("study-report-pdf")

    register(kind)  # the same registration again is harmless
    with pytest.raises(ValueError, match="already registered"):
        register(FileKind(
            kind="study-report-pdf", title=kind.title, content_type="x", build=kind.build,
            may_access=kind.may_access, back_url=kind.back_url,
        ))
    with pytest.raises(LookupError):
        get_kind("inconnu")


def test_prune_deletes_expired_files_and_keeps_the_others(db):
    owner = User.objects.create_user("o@exemple.fr")
    old = ready_file(owner, expires_in=timedelta(minutes=-1))
    fresh = ready_file(owner, expires_in=timedelta(hours=1))
    old_path, fresh_path = Path(old.file.path), Path(fresh.file.path)

    assert shown_status(old) == FileStatus.EXPIRED
    call_command("prune_files", verbosity=0)
    old.refresh_from_db()
    fresh.refresh_from_db()

    assert (old.status, old.file.name, old_path.exists()) == (FileStatus.EXPIRED, "", False)
    assert (fresh.status, fresh_path.exists()) == (FileStatus.READY, True)


def test_prune_deletes_partial_files_left_by_killed_workers_once_old(db, settings):
    directory = Path(default_storage.path(UPLOAD_DIR))
    directory.mkdir(parents=True)
    stale, recent = directory / f"{PARTIAL_PREFIX}a.xlsx", directory / f"{PARTIAL_PREFIX}b.xlsx"
    stale.write_bytes(b"half")
    recent.write_bytes(b"half")
    long_ago = time.time() - (settings.GRILLE_FILES_TTL_HOURS + 1) * 3600
    os.utime(stale, (long_ago, long_ago))

    assert prune_files() == 1
    assert sorted(p.name for p in directory.iterdir()) == [recent.name]


def test_expired_rows_are_deleted_after_a_month(db):
    owner = User.objects.create_user("o@exemple.fr")
    job = ready_file(owner, expires_in=timedelta(days=-31))

    prune_files()

    assert not GeneratedFile.objects.filter(pk=job.pk).exists()


def test_prune_deletes_old_files_no_row_points_to(db, settings):
    owner = User.objects.create_user("o@exemple.fr")
    job = ready_file(owner, expires_in=timedelta(hours=1))
    kept = Path(job.file.path)
    orphan = kept.with_name("a-deleted-account.xlsx")
    orphan.write_bytes(b"PK")
    long_ago = time.time() - (settings.GRILLE_FILES_TTL_HOURS + 1) * 3600
    for path in (kept, orphan):
        os.utime(path, (long_ago, long_ago))

    assert prune_files() == 1
    assert (kept.exists(), orphan.exists()) == (True, False)
