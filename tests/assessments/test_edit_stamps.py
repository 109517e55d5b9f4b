"""Issue 13, finding 2: the later edit wins on every write path (step form, autosave, API).

A step form left open in an older tab must not overwrite an answer saved since from another tab:
it keeps the newer answer, says which practices were kept, and saves the others.
"""

import re

import pytest
from django.contrib.messages import get_messages

from grille.assessments.models import Answer
from grille.assessments.services import AnswerInput, save_answers
from tests.factories import assessment_url, now_ms, stored_answers


def rendered_version(html: str, code: str) -> str:
    match = re.search(rf'name="{re.escape(code)}-version" value="(\d*)"', html)
    assert match, f"no edit stamp for {code} in the step form"
    return match.group(1)


def test_a_stale_step_form_does_not_overwrite_a_newer_autosaved_answer(client, positioning):
    # Tab 1 opens step 1 (its form carries the stamps it was rendered with).
    page = client.get(assessment_url("step", positioning, 1)).content.decode()
    # Tab 2 autosaves a newer answer to 1.1.
    client.post(assessment_url("autosave", positioning, "1.1"), {"1.1-niveau": "3", "edited_at": str(now_ms())})

    # Tab 1 sends its stale form: another level for 1.1, and an answer to 1.2.
    response = client.post(assessment_url("step", positioning, 1), {
        "1.1-niveau": "1", "1.1-version": rendered_version(page, "1.1"),
        "1.2-niveau": "2", "1.2-version": rendered_version(page, "1.2"),
        "aller": "2",
    })

    assert stored_answers(positioning)["1.1"] == ("3", None, None, "")  # the newer answer is kept
    assert stored_answers(positioning)["1.2"] == ("2", None, None, "")  # the other practice is saved
    # The same step is shown again, with the newer answer, and says what was kept.
    assert response.status_code == 302
    assert response.url == assessment_url("step", positioning, 1)
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "1.1" in text and "1.2" not in text
    assert "plus récente" in text
    shown = client.get(response.url).content.decode()
    assert re.search(r'name="1\.1-niveau" value="3"[^>]*checked', shown)


@pytest.mark.parametrize(
    ("autosaved_before_loading", "sent", "stored"),
    [
        (True, "1", "1"),  # the form was loaded after the autosave: it is fresh, and overwrites
        (False, "3", "3"),  # the same tab autosaved its change before sending the form: nothing lost
    ],
)
def test_a_form_that_loses_nothing_saves_and_moves_on(client, positioning, autosaved_before_loading, sent, stored):
    def autosave():
        client.post(assessment_url("autosave", positioning, "1.1"), {"1.1-niveau": "3", "edited_at": str(now_ms())})

    if autosaved_before_loading:
        autosave()
    page = client.get(assessment_url("step", positioning, 1)).content.decode()
    if not autosaved_before_loading:
        autosave()

    response = client.post(assessment_url("step", positioning, 1), {
        "1.1-niveau": sent, "1.1-version": rendered_version(page, "1.1"), "aller": "2",
    })

    assert response.url == assessment_url("step", positioning, 2)
    assert stored_answers(positioning)["1.1"] == (stored, None, None, "")


def test_two_stale_step_forms_the_second_one_loses(client, positioning):
    page = client.get(assessment_url("step", positioning, 1)).content.decode()
    version = rendered_version(page, "1.1")
    client.post(assessment_url("step", positioning, 1), {"1.1-niveau": "2", "1.1-version": version})

    client.post(assessment_url("step", positioning, 1), {"1.1-niveau": "0", "1.1-version": version})

    assert stored_answers(positioning)["1.1"] == ("2", None, None, "")


def test_an_autosave_made_before_a_step_form_was_sent_loses_to_it(client, positioning):
    page = client.get(assessment_url("step", positioning, 1)).content.decode()
    earlier = now_ms() - 60_000
    client.post(assessment_url("step", positioning, 1), {"1.1-niveau": "2", "1.1-version": rendered_version(page, "1.1")})

    late = client.post(assessment_url("autosave", positioning, "1.1"), {"1.1-niveau": "0", "edited_at": str(earlier)})

    assert late.json()["stale"] is True
    assert stored_answers(positioning)["1.1"] == ("2", None, None, "")


@pytest.mark.parametrize("stamp", ["-1", "soon", "1" * 16])
def test_a_malformed_edit_stamp_in_the_step_form_is_400_and_saves_nothing(client, positioning, stamp):
    response = client.post(assessment_url("step", positioning, 1), {"1.1-niveau": "2", "1.1-version": stamp})

    assert response.status_code == 400
    assert stored_answers(positioning) == {}


@pytest.mark.django_db
def test_every_write_stores_an_edit_stamp(version):
    from grille.assessments.services import start_assessment

    assessment, _raw = start_assessment(version=version)
    before = now_ms()
    save_answers(assessment=assessment, items=[AnswerInput("1.1", level="2")])

    assert Answer.objects.get(assessment=assessment).edited_at_client >= before


def test_practices_another_tab_sent_untouched_do_not_block_this_one(client, positioning):
    # Two tabs without JavaScript: each sends the whole step, blanks included.
    page = client.get(assessment_url("step", positioning, 1)).content.decode()
    versions = {code: rendered_version(page, code) for code in ("1.1", "1.2", "1.3")}
    client.post(assessment_url("step", positioning, 1), {
        "1.1-niveau": "3", **{f"{code}-version": v for code, v in versions.items()},
    })

    response = client.post(assessment_url("step", positioning, 1), {
        "1.1-niveau": "3", "1.2-niveau": "2", **{f"{code}-version": v for code, v in versions.items()}, "aller": "2",
    })

    assert response.url == assessment_url("step", positioning, 2)
    assert stored_answers(positioning)["1.2"] == ("2", None, None, "")
