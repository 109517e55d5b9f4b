"""PDF documents printed by WeasyPrint from the same templates as the pages."""

from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

PDF_STYLESHEETS = ("grille/app.css", "grille/print.css")


def render_pdf_bytes(request: HttpRequest | None, template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string(template, {**context, "for_pdf": True}, request=request)
    # Only local files and data: URLs: building a PDF never reaches the network.
    fetcher = URLFetcher(allowed_protocols=("file", "data"))
    stylesheets = [CSS(filename=finders.find(name), url_fetcher=fetcher) for name in PDF_STYLESHEETS]
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=stylesheets)
    return pdf


def render_pdf(
    request: HttpRequest, template: str, context: dict[str, Any], *, filename: str
) -> HttpResponse:
    response = HttpResponse(render_pdf_bytes(request, template, context), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
