"""Two tabs saving the same answer at once: one row, no error, a value that was sent."""

import threading

import pytest
from django.db import connection

from grille.assessments.models import Answer, Assessment
from grille.assessments.services import (
    AnswerInput,
    save_answers,
    start_assessment,
    submit_assessment,
)


def run_at_once(functions):
    barrier = threading.Barrier(len(functions))
    errors: list[BaseException] = []

    def wrap(function):
        try:
            barrier.wait()
            function()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_of_one_answer_leave_one_row_and_no_error(version):
    assessment, _raw = start_assessment(version=version)
    levels = ["0", "1", "2", "3", "nc", "1", "2", "3"]
    acknowledged: list[str] = []
    lock = threading.Lock()

    def save(level):
        def run():
            save_answers(assessment=assessment, items=[AnswerInput(practice_code="1.1", level=level)])
            with lock:
                acknowledged.append(level)
        return run

    errors = run_at_once([save(level) for level in levels])

    assert errors == []
    assert sorted(acknowledged) == sorted(levels)
    rows = Answer.objects.filter(assessment=assessment)
    assert rows.count() == 1
    assert rows.get().level.code in levels


@pytest.mark.django_db(transaction=True)
def test_sequential_saves_keep_the_last_value(version):
    assessment, _raw = start_assessment(version=version)
    for level in ["0", "3", "1"]:
        save_answers(assessment=assessment, items=[AnswerInput(practice_code="2.2", level=level)])

    assert Answer.objects.get(assessment=assessment).level.code == "1"


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_make_one_submitted_positioning(version):
    assessment, _raw = start_assessment(version=version)
    save_answers(assessment=assessment, items=[AnswerInput(practice_code="1.1", level="2")])

    errors = run_at_once([lambda: submit_assessment(assessment=assessment)] * 4)

    assert len(errors) == 3
    assert {type(e).__name__ for e in errors} == {"AssessmentLocked"}
    assert Assessment.objects.filter(status="submitted").count() == 1
