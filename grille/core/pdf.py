"""PDF documents printed by WeasyPrint from the same templates as the pages.

Every PDF is tagged for assistive technologies (PDF/UA-1: a structure tree made from the HTML
headings, lists and tables; the language from `<html lang>`, the active language when the PDF is
made; the title from `<title>`, shown by readers instead of the file name).

Characters: the fonts are DejaVu Sans and, through fontconfig, Noto Color Emoji for emoji (Debian
package fonts-noto-color-emoji, README « Installation »). A character that no installed font can
draw would print as an empty box (« .notdef »): WeasyPrint reports each one, and the document is
then printed again with those characters replaced by « � », which says that something is missing.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

PDF_STYLESHEETS = ("grille/app.css", "grille/print.css")
PDF_VARIANT = "pdf/ua-1"
# Printed in place of a character no installed font has (DejaVu Sans draws it).
MISSING_GLYPH = "\N{REPLACEMENT CHARACTER}"


class _MissingGlyphs(logging.Handler):
    """Collects the characters WeasyPrint printed as .notdef in this thread's rendering."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.codepoints: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if (
            record.thread == self.thread
            and str(record.msg).startswith(".notdef glyph")
            and isinstance(args, tuple)
            and args
            and isinstance(args[-1], int)
        ):
            self.codepoints.add(args[-1])


def _write_pdf(html: str) -> tuple[bytes, set[int]]:
    """The PDF of `html`, and the characters it had to print as empty boxes."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    # Only local files and data: URLs: building a PDF never reaches the network.
    fetcher = URLFetcher(allowed_protocols=("file", "data"))
    stylesheets = [CSS(filename=finders.find(name), url_fetcher=fetcher) for name in PDF_STYLESHEETS]
    missing = _MissingGlyphs()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(missing)
    try:
        pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(
            stylesheets=stylesheets, pdf_variant=PDF_VARIANT
        )
    finally:
        logger.removeHandler(missing)
    return pdf, missing.codepoints


def render_pdf_bytes(request: HttpRequest | None, template: str, context: dict[str, Any]) -> bytes:
    html = render_to_string(template, {**context, "for_pdf": True}, request=request)
    pdf, missing = _write_pdf(html)
    if missing:
        pdf, _still_missing = _write_pdf(html.translate(dict.fromkeys(missing, MISSING_GLYPH)))
    return pdf


def render_pdf(
    request: HttpRequest, template: str, context: dict[str, Any], *, filename: str
) -> HttpResponse:
    response = HttpResponse(render_pdf_bytes(request, template, context), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
