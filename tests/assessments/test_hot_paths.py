"""Issue 16: the questionnaire's hot paths in as few statements as they need, and the same
answers as before. These counts fail if a statement creeps back in (a second look-up of the
positioning, a separate lock, a COUNT after the write)."""

from __future__ import annotations

import io
import re
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from pypdf import PdfReader

from grille.assessments import views
from grille.assessments.models import Answer, Assessment, StoredFiche
from grille.assessments.templatetags.questionnaire_tags import (
    _fieldsets,
    _fragments,
    clear_fieldset_cache,
    clear_fragment_cache,
)
from grille.core.skeleton import clear_skeletons
from grille.frameworks.models import Resource
from grille.frameworks.resources import resources_by_practice
from tests.factories import (
    answer,
    assessment_url,
    autosave_post,
    now_ms,
    signed_in_positioning,
    start_positioning,
    stored_answers,
)


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The SQL sent, transaction control left out (BEGIN/COMMIT are not captured on PostgreSQL)."""
    return [q["sql"] for q in captured.captured_queries
            if q["sql"].split(" ", 1)[0].upper() not in {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}]


def autosave(client: Client, positioning: Assessment, code: str, **fields: str):
    with CaptureQueriesContext(connection) as captured:
        response = autosave_post(client, positioning, code, **fields)
    return response, statements(captured)


def test_autosave_of_a_stored_answer_takes_the_session_and_one_statement(client, positioning):
    """On PostgreSQL, the session and one statement (lock-and-check, the answer, the count); on
    SQLite, which has no UPDATE in a WITH, the lock-and-check and the answer with the count."""
    answer(positioning, "1.1", level="1")
    answer(positioning, "1.2", level="2")

    response, sql = autosave(client, positioning, "1.1", niveau="3", souhait="oui", commentaire="Noté")

    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "message": "Enregistré", "answered": 2, "total": 24}
    assert stored_answers(positioning)["1.1"] == ("3", "oui", None, "Noté")
    assert sql[0].startswith("SELECT") and "django_session" in sql[0]
    if connection.vendor == "postgresql":
        assert len(sql) == 2, sql
        assert sql[1].startswith("WITH p AS (UPDATE") and "RETURNING" in sql[1]
    else:
        assert len(sql) == 3, sql
        assert sql[1].startswith("UPDATE") and "RETURNING" in sql[1]
        assert sql[2].startswith("UPDATE") and "RETURNING" in sql[2]


def test_autosave_counts_an_answer_cleared_of_its_level(client, positioning):
    answer(positioning, "1.1", level="1")
    answer(positioning, "1.2", level="2")

    response, _sql = autosave(client, positioning, "1.2", niveau="")

    assert response.json()["answered"] == 1
    assert Answer.objects.get(assessment=positioning, practice__code="1.2").level_id is None


def test_autosave_of_a_signed_in_owner_adds_only_the_user(version):
    _browser, owner, positioning = signed_in_positioning("proprio@exemple.fr")
    answer(positioning, "2.1", level="0")
    other = Client()
    other.force_login(owner)  # another browser of the same person: no grant, the ownership

    response, sql = autosave(other, positioning, "2.1", niveau="2")

    assert response.json()["ok"] is True
    assert stored_answers(positioning)["2.1"][0] == "2"
    # The session, the user, and the same statement(s).
    assert len(sql) == (3 if connection.vendor == "postgresql" else 4), sql


def test_first_answer_and_a_later_edit_take_the_general_path_with_the_same_replies(client, positioning):
    response, _sql = autosave(client, positioning, "1.1", niveau="1")
    assert response.json() == {"ok": True, "message": "Enregistré", "answered": 1, "total": 24}

    # A later edit is stored (from another tab): this older one is refused and the newer returned.
    later = now_ms() + 60_000
    client.post(assessment_url("autosave", positioning, "1.1"), {"1.1-niveau": "3", "edited_at": str(later)})
    response, _sql = autosave(client, positioning, "1.1", niveau="0")

    body = response.json()
    assert body["stale"] is True
    assert body["values"]["1.1-niveau"] == "3"
    assert stored_answers(positioning)["1.1"][0] == "3"


@pytest.mark.parametrize(("data", "status"), [
    ({"1.1-niveau": "9"}, 400),  # not an option
    ({"1.1-niveau": "1", "edited_at": "soon"}, 400),  # not a stamp
])
def test_autosave_errors_write_nothing_and_keep_the_stored_answer(client, positioning, data, status):
    answer(positioning, "1.1", level="2", comment="gardé")
    before = Assessment.objects.get(pk=positioning.pk).updated_at

    response = client.post(assessment_url("autosave", positioning, "1.1"), data)

    assert response.status_code == status
    assert response.json()["ok"] is False
    assert stored_answers(positioning)["1.1"] == ("2", None, None, "gardé")
    assert Assessment.objects.get(pk=positioning.pk).updated_at == before


def test_autosave_on_someone_elses_or_a_submitted_positioning_changes_nothing(client, positioning, outsider):
    answer(positioning, "1.1", level="2")
    response = outsider.post(assessment_url("autosave", positioning, "1.1"), {"1.1-niveau": "0", "edited_at": str(now_ms())})
    assert response.status_code == 404
    assert stored_answers(positioning)["1.1"][0] == "2"

    client.post(assessment_url("submit", positioning))
    response = client.post(assessment_url("autosave", positioning, "1.1"), {"1.1-niveau": "0", "edited_at": str(now_ms())})
    assert response.status_code == 409
    assert stored_answers(positioning)["1.1"][0] == "2"


def test_step_page_reads_the_positioning_and_its_answers_in_one_statement(client, positioning):
    answer(positioning, "1.1", level="1", comment="à garder")

    with CaptureQueriesContext(connection) as captured:
        response = client.get(assessment_url("step", positioning, 1))

    assert response.status_code == 200
    sql = statements(captured)
    # The session, then the positioning (with the right to it), its answers and their stamps.
    assert len(sql) == 2, sql
    assert "django_session" in sql[0]
    assert "à garder</textarea>" in response.content.decode()


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def step_page(client: Client, positioning: Assessment, number: int) -> str:
    response = client.get(assessment_url("step", positioning, number))
    assert response.status_code == 200
    return CSRF.sub("", response.content.decode())


@pytest.mark.parametrize("language", ["fr", "en"])
def test_step_pages_are_the_same_with_and_without_the_fragment_cache(client, positioning, settings, language):
    clear_fieldset_cache()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    answer(positioning, "1.1", level="1", wish="oui", carrying="interne", comment='<script>alert("x")</script> & « l\'équipe »')
    answer(positioning, "1.2", level="nc")
    client.post(assessment_url("autosave", positioning, "1.3"), {"1.3-niveau": "3", "edited_at": str(now_ms())})
    clear_skeletons()
    someone = Client()
    other = start_positioning(someone)  # someone else's positioning fills the caches first
    answer(other, "1.1", level="3", comment="autre")
    assert someone.get(assessment_url("step", other, 1)).status_code == 200
    assert someone.get(assessment_url("step", other, 2)).status_code == 200

    for number in (1, 2):
        settings.GRILLE_FRAGMENT_CACHE = False
        plain = step_page(client, positioning, number)
        settings.GRILLE_FRAGMENT_CACHE = True
        cached_first = step_page(client, positioning, number)
        cached_again = step_page(client, positioning, number)
        assert cached_first == plain
        assert cached_again == plain
    page = step_page(client, positioning, 1)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; « l&#x27;équipe »</textarea>" in page
    assert re.search(r'name="1\.1-niveau" value="1" checked>', page)
    assert str(other.uuid) not in page, [line for line in page.splitlines() if str(other.uuid) in line]
    assert ">autre<" not in page
    assert len(_fieldsets) >= 4


def test_the_cache_is_not_used_for_a_draft_grid_or_a_form_with_errors(client, positioning, settings):
    clear_fieldset_cache()
    response = client.post(assessment_url("step", positioning, 1), {"1.1-niveau": "9", "aller": "1"})
    assert response.status_code == 400
    assert 'aria-invalid' in response.content.decode() or "error-text" in response.content.decode()
    assert _fieldsets == {}


def test_a_submitted_fiche_is_built_once_then_served_from_the_stored_file(client, positioning, monkeypatch):
    answer(positioning, "1.1", level="2", comment="Première version")
    client.post(assessment_url("submit", positioning))
    first = client.get(assessment_url("profile_pdf", positioning))
    assert first.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert StoredFiche.objects.filter(assessment=positioning).count() == 1

    def no_build(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("the PDF was built again")

    monkeypatch.setattr(views, "render_pdf_bytes", no_build)
    again = client.get(assessment_url("profile_pdf", positioning))

    assert again.status_code == 200
    assert again.content == first.content
    assert again["Content-Disposition"] == first["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(again.content)).pages)
    assert "Première version" in text


def test_a_fiche_made_of_other_content_is_built_again_and_replaces_the_stored_one(client, positioning, settings):
    answer(positioning, "1.1", level="2")
    client.post(assessment_url("submit", positioning))
    client.get(assessment_url("profile_pdf", positioning))
    (stored,) = StoredFiche.objects.filter(assessment=positioning)

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(assessment_url("profile_pdf", positioning))

    assert english.status_code == 200
    fiches = StoredFiche.objects.filter(assessment=positioning)
    assert {f.language for f in fiches} == {"fr", "en"}
    assert fiches.get(language="en").key != stored.key


def test_a_draft_fiche_is_never_stored_and_a_deleted_positioning_takes_its_fiches(client, positioning):
    answer(positioning, "1.1", level="2")
    assert client.get(assessment_url("profile_pdf", positioning)).status_code == 200
    assert not StoredFiche.objects.exists()

    client.post(assessment_url("submit", positioning))
    client.get(assessment_url("profile_pdf", positioning))
    assert StoredFiche.objects.filter(assessment=positioning).exists()
    client.post(assessment_url("delete", positioning))
    assert not StoredFiche.objects.exists()


def test_a_submitted_profile_is_the_same_with_and_without_the_fragment_cache(client, positioning, settings):
    clear_fragment_cache()
    answer(positioning, "1.1", level="2", wish="oui", comment="<b>gras</b> & « guillemets »")
    answer(positioning, "2.1", level="3")
    client.post(assessment_url("submit", positioning))
    url = assessment_url("profile", positioning)
    client.get(url)  # the message shown once after submitting

    settings.GRILLE_FRAGMENT_CACHE = False
    plain = CSRF.sub("", client.get(url).content.decode())
    settings.GRILLE_FRAGMENT_CACHE = True
    first = CSRF.sub("", client.get(url).content.decode())
    again = CSRF.sub("", client.get(url).content.decode())

    assert first == plain
    assert again == plain
    assert "&lt;b&gt;gras&lt;/b&gt; &amp; « guillemets »" in again
    assert len(_fragments) == 1


def test_a_changed_resource_or_a_draft_is_never_shown_from_the_cache(client, positioning, grid):
    clear_fragment_cache()
    code, links = next((code, links) for code, links in resources_by_practice(grid).items() if links)
    answer(positioning, code, level="0", wish="oui")
    assert client.get(assessment_url("profile", positioning)).status_code == 200
    assert _fragments == {}  # a draft's answers still change: never cached

    client.post(assessment_url("submit", positioning))
    url = assessment_url("profile", positioning)
    assert escape(links[0].title) in client.get(url).content.decode()
    assert len(_fragments) == 1
    Resource.objects.filter(pk=links[0].pk).update(title="Titre changé depuis")

    assert "Titre changé depuis" in client.get(url).content.decode()
    assert len(_fragments) == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_autosaves_of_one_answer_keep_the_latest_edit(version):
    browser = Client()
    positioning = start_positioning(browser)
    answer(positioning, "1.1", level="0")
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    base = now_ms()
    levels = ["1", "2", "3", "nc", "1", "2", "3", "0"]
    replies: list[dict] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(levels))

    def save(i: int, level: str) -> None:
        tab = Client()
        tab.cookies[settings.SESSION_COOKIE_NAME] = cookie
        try:
            barrier.wait()
            response = tab.post(assessment_url("autosave", positioning, "1.1"),
                                {"1.1-niveau": level, "edited_at": str(base + i)})
            with lock:
                replies.append(response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i, level)) for i, level in enumerate(levels)]
    for thread in reversed(threads):
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(replies) == len(levels)
    assert all(r["ok"] for r in replies), replies
    # Whatever the order they arrived in, the latest edit is the one kept.
    assert stored_answers(positioning)["1.1"][0] == levels[-1]
    assert Answer.objects.filter(assessment=positioning).count() == 1
