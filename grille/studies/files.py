"""The study files built by the worker (grille/files): the report PDF, the microdata and the
aggregated tables, each of which takes from seconds to minutes on a large campaign.

Registered from StudiesConfig.ready(). Who may have a file is asked again at every look and every
download, by the same rules as the pages: the campaign's analysts (selectors.get_campaign_for),
and for the microdata the study lead only (permissions.can_download_microdata).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from django.http import Http404, QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _

from grille.core.pdf import render_pdf_bytes
from grille.core.tabular.writing import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from grille.core.users import AnyUser, User
from grille.files.models import GeneratedFile
from grille.files.registry import FileKind, Progress, register
from grille.files.selectors import files_about
from grille.files.services import request_file

from . import permissions, selectors, services
from .dashboard import build_dashboard, build_tracking, completed_respondents
from .exporters import (
    AggregatesExporter,
    CountingExporter,
    MicrodataExporter,
    aggregates_filename,
    microdata_filename,
    write_export,
)
from .models import Campaign
from .pools import settle_campaign
from .queries import parse_page_query
from .reports import report_context, wave_comparisons

REPORT_PDF = "study-report-pdf"
AGGREGATES_XLSX = "study-aggregates-xlsx"
MICRODATA = {"csv": "study-microdata-csv", "xlsx": "study-microdata-xlsx"}
# Rows between two progress reports of a microdata export.
PROGRESS_ROWS = 1000


def subject_of(campaign: Campaign) -> str:
    return f"campaign:{campaign.uuid}"


def _campaign_uuid(job: GeneratedFile) -> str:
    prefix, _sep, uuid = job.subject.partition(":")
    if prefix != "campaign" or not uuid:
        raise ValueError(f"Not a campaign subject: {job.subject!r}")
    return uuid


def _campaign(job: GeneratedFile) -> Campaign:
    return Campaign.objects.get(uuid=_campaign_uuid(job))


def _analysed_by(user: AnyUser, job: GeneratedFile) -> Campaign | None:
    try:
        return selectors.get_campaign_for(user, _campaign_uuid(job))
    except Http404:
        return None


def _analyst_may(user: AnyUser, job: GeneratedFile) -> bool:
    return _analysed_by(user, job) is not None


def _lead_may(user: AnyUser, job: GeneratedFile) -> bool:
    campaign = _analysed_by(user, job)
    return campaign is not None and permissions.can_download_microdata(user, campaign)


def _back_to_exports(job: GeneratedFile) -> str:
    return reverse("studies:exports", args=[_campaign_uuid(job)])


# --- Builders ------------------------------------------------------------------------------

def _build_report(job: GeneratedFile, out: IO[bytes], progress: Progress) -> None:
    campaign = _campaign(job)
    progress(5, _("Mise à jour des résultats publiés"))
    settle_campaign(campaign)
    progress(15, _("Calcul des résultats"))
    dashboard = build_dashboard(campaign)
    progress(50, _("Suivi des réponses"))
    tracking = build_tracking(campaign)
    progress(60, _("Comparaison des vagues"))
    comparisons = wave_comparisons(campaign)
    progress(70, _("Mise en page du PDF"))
    out.write(render_pdf_bytes(None, "studies/report_pdf.html", report_context(campaign, dashboard, tracking, comparisons)))


def _build_aggregates(job: GeneratedFile, out: IO[bytes], progress: Progress) -> None:
    campaign = _campaign(job)
    asked = parse_page_query(campaign, QueryDict(job.parameters.get("query", "")))
    progress(5, _("Mise à jour des résultats publiés"))
    settle_campaign(campaign)
    progress(15, _("Calcul des résultats"))
    dashboard = build_dashboard(campaign, filters=asked.filters, compare=asked.compare)
    progress(90, _("Écriture du classeur"))
    write_export(AggregatesExporter(campaign, dashboard), "xlsx", out)


def _build_microdata(job: GeneratedFile, out: IO[bytes], progress: Progress) -> None:
    campaign = _campaign(job)
    total = completed_respondents(campaign).count()
    progress(1, _("Lecture des réponses"))

    def counted(rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        for written, row in enumerate(rows, start=1):
            yield row
            if written % PROGRESS_ROWS == 0:
                progress(95 * written // max(total, written), _("%(done)d lignes sur %(total)d") % {"done": written, "total": total})

    write_export(CountingExporter(MicrodataExporter(campaign), counted), job.parameters["format"], out)


def _record_download(user: AnyUser, job: GeneratedFile) -> None:
    assert isinstance(user, User)
    services.record_microdata_download(campaign=_campaign(job), user=user, fmt=job.parameters["format"], via="web")


def register_study_files() -> None:
    register(FileKind(
        kind=REPORT_PDF, title=lambda job: _("Rapport d'étude (PDF)"), content_type="application/pdf",
        build=_build_report, may_access=_analyst_may, back_url=_back_to_exports,
    ))
    register(FileKind(
        kind=AGGREGATES_XLSX, title=lambda job: _("Tableaux agrégés (XLSX)"), content_type=XLSX_CONTENT_TYPE,
        build=_build_aggregates, may_access=_analyst_may, back_url=_back_to_exports,
    ))
    for fmt, kind in MICRODATA.items():
        register(FileKind(
            kind=kind, title=lambda job: _("Microdonnées (%(fmt)s)") % {"fmt": job.parameters["format"].upper()},
            content_type=CSV_CONTENT_TYPE if fmt == "csv" else XLSX_CONTENT_TYPE,
            build=_build_microdata, may_access=_lead_may, back_url=_back_to_exports, on_download=_record_download,
        ))


# --- Asking ------------------------------------------------------------------------------

def ask_report(*, campaign: Campaign, user: User) -> GeneratedFile:
    """Queue the study report PDF for `user`, an analyst of the campaign."""
    return request_file(
        owner=user, kind=REPORT_PDF, subject=subject_of(campaign), parameters={},
        filename=f"rapport-etude-{campaign.wave_year}.pdf",
    )


def ask_aggregates(*, campaign: Campaign, user: User, query: str) -> GeneratedFile:
    """Queue the aggregated tables (the dashboard's filters and comparison in `query`, already checked)."""
    return request_file(
        owner=user, kind=AGGREGATES_XLSX, subject=subject_of(campaign), parameters={"query": query},
        filename=f"{aggregates_filename(campaign)}.xlsx",
    )


def ask_microdata(*, campaign: Campaign, user: User, fmt: str) -> GeneratedFile:
    """Queue the microdata for the study lead; the download is recorded when the file is fetched."""
    return request_file(
        owner=user, kind=MICRODATA[fmt], subject=subject_of(campaign), parameters={"format": fmt},
        filename=f"{microdata_filename(campaign)}.{fmt}",
    )



def recent_files(campaign: Campaign, user: User, kind: str) -> list[GeneratedFile]:
    """The caller's latest files of this kind for the campaign (one may be in preparation)."""
    return files_about(owner=user, kind=kind, subject=subject_of(campaign))
