"""The progress page of a generated file, its download and its retry."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from grille.core.access import private
from grille.core.security_log import security_event
from grille.core.users import AuthenticatedHttpRequest

from . import selectors, services
from .enums import FileStatus
from .models import GeneratedFile
from .registry import get_kind

REFRESH_SECONDS = 3


def _page(request: AuthenticatedHttpRequest, job: GeneratedFile, *, status: int = 200) -> HttpResponse:
    kind = get_kind(job.kind)
    shown = services.shown_status(job, timezone.now())
    return render(request, "files/file_detail.html", {
        "job": job, "title": kind.title(job), "back_url": kind.back_url(job), "shown": shown,
        "interrupted": shown == FileStatus.FAILED and job.status == FileStatus.BUILDING,
        "working": shown in (FileStatus.QUEUED, FileStatus.BUILDING), "refresh": REFRESH_SECONDS,
        "retryable": shown in (FileStatus.FAILED, FileStatus.EXPIRED),
    }, status=status)


@login_required
@private
@require_GET
def detail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    return _page(request, selectors.get_file_for(request.user, uuid))


@login_required
@private
@require_GET
def download(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponseBase:
    job = selectors.get_file_for(request.user, uuid)
    shown = services.shown_status(job)
    if shown == FileStatus.EXPIRED:
        return _page(request, job, status=410)
    if shown != FileStatus.READY or not job.file:
        raise Http404
    kind = get_kind(job.kind)
    try:
        stream = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    if kind.on_download is not None:
        kind.on_download(request.user, job)
    security_event(request, "download", file=job.uuid, kind=job.kind)
    return FileResponse(stream, as_attachment=True, filename=job.filename, content_type=kind.content_type)


@login_required
@require_POST
def retry(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    job = selectors.get_file_for(request.user, uuid)
    try:
        services.retry_file(job=job)
    except services.FileRefused as exc:
        messages.info(request, str(exc))
    return redirect("files:detail", uuid=job.uuid)
