"""Two tabs saving the same answer, their saves arriving out of order: the value the person
set later wins, and the tab whose save came too late is told the value now stored."""

import time

import pytest

from grille.assessments.models import Answer
from grille.assessments.services import AnswerInput, autosave_answer, save_answers, start_assessment
from tests.factories import assessment_url, stored_answers

from .burst import at_once
from .server import Visitor

T0 = 1_760_000_000_000  # milliseconds since the epoch, as autosave.js sends them


def autosave(client, positioning, code, *, edited_at=None, **fields):
    data = {f"{code}-{name}": value for name, value in fields.items()}
    if edited_at is not None:
        data["edited_at"] = str(edited_at)
    return client.post(assessment_url("autosave", positioning, code), data)


# --- The service ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_earlier_edit_arriving_later_is_not_applied_and_the_stored_answer_is_returned(version):
    assessment, _raw = start_assessment(version=version)
    later = autosave_answer(assessment=assessment, item=AnswerInput("1.1", level="3"), edited_at=T0 + 500)

    earlier = autosave_answer(assessment=assessment, item=AnswerInput("1.1", level="1"), edited_at=T0)

    assert (later.applied, later.stored) == (True, None)
    assert earlier.applied is False
    assert earlier.stored.level.code == "3"
    assert earlier.answered == 1
    assert stored_answers(assessment) == {"1.1": ("3", None, None, "")}
    assert Answer.objects.get(assessment=assessment).edited_at_client == T0 + 500


@pytest.mark.django_db
def test_a_retried_save_with_the_same_stamp_is_applied(version):
    assessment, _raw = start_assessment(version=version)
    autosave_answer(assessment=assessment, item=AnswerInput("1.1", level="3"), edited_at=T0)

    retried = autosave_answer(assessment=assessment, item=AnswerInput("1.1", level="3", comment="x"), edited_at=T0)

    assert retried.applied is True
    assert stored_answers(assessment) == {"1.1": ("3", None, None, "x")}


@pytest.mark.django_db
def test_a_save_without_a_stamp_is_applied_and_stamped_with_the_server_time(version):
    assessment, _raw = start_assessment(version=version)
    autosave_answer(assessment=assessment, item=AnswerInput("1.1", level="3"), edited_at=T0)

    # An API call without edited_at (or an old step form without its stamps): the server's time (issue 13).
    before = int(time.time() * 1000)
    save_answers(assessment=assessment, items=[AnswerInput("1.1", level="0")])
    stale = autosave_answer(assessment=assessment, item=AnswerInput("1.1", level="2"), edited_at=T0 - 1)

    assert stale.applied is False
    assert stored_answers(assessment) == {"1.1": ("0", None, None, "")}
    assert Answer.objects.get(assessment=assessment).edited_at_client >= before


# --- The autosave view ------------------------------------------------------------------------


def test_autosave_of_an_earlier_edit_answers_stale_with_the_stored_values(client, positioning):
    first = autosave(client, positioning, "5.2", edited_at=T0 + 900, niveau="2", portage="interne", commentaire="Plus tard")

    late = autosave(client, positioning, "5.2", edited_at=T0, niveau="0", commentaire="Plus tôt")

    assert first.json() == {"ok": True, "message": "Enregistré", "answered": 1, "total": 24}
    assert late.status_code == 200
    assert late.json() == {
        "ok": True,
        "stale": True,
        "message": "Une valeur plus récente a été enregistrée depuis un autre onglet : elle est affichée ici.",
        # With the stored answer's edit stamp, for the step form's hidden field (issue 13).
        "values": {
            "5.2-niveau": "2", "5.2-souhait": "", "5.2-portage": "interne", "5.2-commentaire": "Plus tard",
            "5.2-version": T0 + 900,
        },
        "answered": 1,
        "total": 24,
    }
    assert stored_answers(positioning) == {"5.2": ("2", None, "interne", "Plus tard")}


def test_autosave_of_a_later_edit_arriving_first_then_an_earlier_one_keeps_the_later(client, positioning):
    autosave(client, positioning, "1.1", edited_at=T0 + 2, niveau="3")
    autosave(client, positioning, "1.1", edited_at=T0 + 1, niveau="2")
    autosave(client, positioning, "1.1", edited_at=T0 + 3, niveau="1")
    autosave(client, positioning, "1.1", edited_at=T0, niveau="0")

    assert stored_answers(positioning) == {"1.1": ("1", None, None, "")}


@pytest.mark.parametrize("stamp", ["-5", "1.5", "soon", "1" * 16, "١٢٣"])
def test_autosave_with_a_malformed_stamp_is_400_and_keeps_the_saved_answer(client, positioning, stamp):
    autosave(client, positioning, "1.1", edited_at=T0, niveau="2")

    response = client.post(assessment_url("autosave", positioning, "1.1"), {"1.1-niveau": "0", "edited_at": stamp})

    assert response.status_code == 400
    assert response.json() == {"ok": False, "message": "Non enregistré : corrigez la saisie."}
    assert stored_answers(positioning) == {"1.1": ("2", None, None, "")}


def test_autosave_from_a_clock_days_ahead_is_applied_without_blocking_later_edits(client, positioning):
    days_ahead = int(time.time() * 1000) + 3 * 24 * 60 * 60 * 1000

    autosave(client, positioning, "1.1", edited_at=days_ahead, niveau="3")
    now = autosave(client, positioning, "1.1", edited_at=int(time.time() * 1000), niveau="1")

    assert now.json()["message"] == "Enregistré"
    assert stored_answers(positioning) == {"1.1": ("1", None, None, "")}


def test_step_form_without_a_stamp_still_overwrites_an_autosaved_answer(client, positioning):
    autosave(client, positioning, "1.1", edited_at=T0, niveau="3")

    client.post(assessment_url("step", positioning, 1), {"1.1-niveau": "1"})

    assert stored_answers(positioning)["1.1"] == ("1", None, None, "")


# --- Through gunicorn: many tabs at once ------------------------------------------------------


def test_tabs_saving_at_once_in_any_order_keep_the_latest_edit(gunicorn):
    server = gunicorn(workers=3)
    first = Visitor(server)
    uuid = first.start_positioning()
    levels = ["0", "1", "2", "3", "nc", "1", "2", "3"]
    url = f"/positionnements/{uuid}/reponses/2.2/"

    for round_ in range(4):
        # Tabs of one browser share its cookies; tab n made its change at T0 + n, in reverse order of sending.
        tabs = [Visitor(server, cookies=dict(first.cookies)) for _ in levels]
        stamps = [T0 + 100 * round_ + len(levels) - n for n in range(len(levels))]
        answers = at_once([
            lambda n=n, tab=tab, stamp=stamp: tab.post(
                url, {"2.2-niveau": levels[n], "2.2-commentaire": f"tab {n}", "edited_at": str(stamp)}
            )
            for n, (tab, stamp) in enumerate(zip(tabs, stamps, strict=True))
        ])

        latest = stamps.index(max(stamps))
        assert [a.status for a in answers] == [200] * len(tabs)
        assert answers[latest].json()["message"] == "Enregistré"
        for n, answer in enumerate(answers):
            body = answer.json()
            # A tab told its save came too late is shown a value set later than its own.
            if body.get("stale"):
                shown = int(body["values"]["2.2-commentaire"].split()[1])
                assert stamps[shown] > stamps[n]
        row = Answer.objects.get(assessment__uuid=uuid)
        assert (row.level.code, row.comment, row.edited_at_client) == (levels[latest], f"tab {latest}", max(stamps))
