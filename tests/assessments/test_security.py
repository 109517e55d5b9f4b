"""Headers and CSRF: private pages are never cached, every page keeps a strict CSP."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from grille.assessments.grants import SESSION_KEY
from grille.assessments.models import Answer, Assessment
from grille.assessments.services import start_assessment
from tests.factories import answer, assessment_url, step_data


@pytest.fixture
def csrf_client(version):
    """A browser whose POSTs are checked for the CSRF token, with a positioning of its own."""
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("pages:home"))
    assessment, _raw = start_assessment(version=version)
    session = browser.session
    session[SESSION_KEY] = [str(assessment.uuid)]
    session.save()
    browser.assessment = assessment
    return browser


def token(browser: Client) -> str:
    return browser.cookies["csrftoken"].value


PRIVATE_PAGES = [
    ("get", "step", (1,)),
    ("get", "recap", ()),
    ("get", "profile", ()),
    ("get", "export_json", ()),
    ("get", "delete", ()),
    ("get", "resume_link", ()),
    ("post", "autosave", ("1.1",)),
]


@pytest.mark.parametrize(("method", "name", "args"), PRIVATE_PAGES, ids=lambda v: v if isinstance(v, str) else "")
def test_private_answer_page_is_never_stored_by_caches(client, positioning, method, name, args):
    response = getattr(client, method)(assessment_url(name, positioning, *args))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_list_of_positionings_is_never_stored_by_caches(client, positioning):
    response = client.get(reverse("assessments:list"))

    assert response["Cache-Control"] == "no-store"


def test_resume_by_link_is_never_stored_by_caches(client, version):
    _assessment, raw = start_assessment(version=version)

    response = client.get(reverse("assessments:resume", args=[raw]))

    assert response["Cache-Control"] == "no-store"


def pages(client: Client, assessment: Assessment) -> list[tuple[str, str]]:
    return [
        ("accueil", reverse("pages:home")),
        ("grille", reverse("pages:framework")),
        ("liste", reverse("assessments:list")),
        ("étape", assessment_url("step", assessment, 1)),
        ("récapitulatif", assessment_url("recap", assessment)),
        ("profil", assessment_url("profile", assessment)),
        ("lien", assessment_url("resume_link", assessment)),
        ("suppression", assessment_url("delete", assessment)),
        ("connexion", reverse("accounts:login")),
        ("introuvable", "/cette-page-n-existe-pas/"),
        ("lien inconnu", reverse("assessments:resume", args=["inconnu"])),
    ]


def test_every_page_sends_a_strict_content_security_policy(client, positioning):
    answer(positioning, "1.1", level="2", comment="Un commentaire")

    for label, path in pages(client, positioning):
        response = client.get(path)
        policy = response.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy, label
        assert "script-src 'self'" in policy, label
        assert "style-src 'self'" in policy, label
        assert "frame-ancestors 'none'" in policy, label
        assert "'unsafe-inline'" not in policy, label
        assert "'unsafe-eval'" not in policy, label


def test_no_page_relies_on_inline_script_or_style(client, positioning):
    answer(positioning, "1.1", level="2", wish="oui")

    for label, path in pages(client, positioning):
        page = client.get(path).content.decode()
        inline_scripts = [s for s in re.findall(r"<script\b([^>]*)>", page) if "src=" not in s]
        assert inline_scripts == [], label
        assert "<style" not in page, label
        assert re.findall(r"\sstyle=", page) == [], label
        assert re.findall(r"\son[a-z]+=", page) == [], label


def test_post_without_csrf_token_is_refused_with_a_french_page_and_keeps_answers(csrf_client):
    assessment = csrf_client.assessment
    answer(assessment, "1.1", level="2", comment="Déjà enregistré")

    data = step_data(["1.1", "1.2", "1.3"], p1_1={"niveau": "0"})

    response = csrf_client.post(assessment_url("step", assessment, 1), data)

    page = html.unescape(response.content.decode())
    assert response.status_code == 403
    assert "Formulaire expiré" in page
    assert "Rien de ce qui était déjà enregistré n'a été perdu" in page
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert list(Answer.objects.values_list("practice__code", "level__code", "comment")) == [
        ("1.1", "2", "Déjà enregistré")
    ]


def test_start_without_csrf_token_creates_nothing(csrf_client):
    response = csrf_client.post(reverse("assessments:start"))

    assert response.status_code == 403
    assert Assessment.objects.count() == 1


def test_autosave_without_csrf_token_is_refused(csrf_client):
    response = csrf_client.post(assessment_url("autosave", csrf_client.assessment, "1.1"), {"1.1-niveau": "3"})

    assert response.status_code == 403
    assert Answer.objects.count() == 0


def test_autosave_with_the_csrf_header_is_accepted(csrf_client):
    response = csrf_client.post(
        assessment_url("autosave", csrf_client.assessment, "1.1"),
        {"1.1-niveau": "3"},
        headers={"X-CSRFToken": token(csrf_client)},
    )

    assert response.status_code == 200
    assert list(Answer.objects.values_list("practice__code", "level__code")) == [("1.1", "3")]


def test_post_with_the_csrf_token_is_accepted(csrf_client):
    response = csrf_client.post(reverse("assessments:start"), {"csrfmiddlewaretoken": token(csrf_client)})

    assert response.status_code == 302
    assert Assessment.objects.count() == 2


def test_submit_and_delete_without_csrf_token_change_nothing(csrf_client):
    assessment = csrf_client.assessment
    answer(assessment, "1.1", level="2")

    submit = csrf_client.post(assessment_url("submit", assessment))
    delete = csrf_client.post(assessment_url("delete", assessment))

    assert (submit.status_code, delete.status_code) == (403, 403)
    assert Assessment.objects.get(pk=assessment.pk).status == "draft"


def test_pages_refuse_to_be_framed(client, positioning):
    response = client.get(assessment_url("profile", positioning))

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
