"""The study report PDF, built later by the worker, is tagged (PDF/UA-1) with its title and the
language of the person who asked for it, not the server's."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.studies.test_generated_files import (  # noqa: F401
    ask,
    body,
    download,
    logged_in,
    run_worker,
    worker_tasks,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_study_report_is_tagged_in_the_language_it_was_asked_in(
    campaign, analyst, respondents, django_capture_on_commit_callbacks, language,
):
    respondents(6)
    client = logged_in(analyst)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language

    job = ask(client, "report_pdf", campaign, capture=django_capture_on_commit_callbacks)
    run_worker()
    reader = PdfReader(io.BytesIO(body(download(client, job))))

    root = reader.trailer["/Root"]
    assert root["/Lang"] == language
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert reader.metadata.title.endswith(f" — {campaign.name}")
    if language == "fr":
        assert reader.metadata.title == f"Rapport d'étude — {campaign.name}"
