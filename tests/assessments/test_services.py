"""Every change to a positioning goes through one service function."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.db import IntegrityError, transaction

from grille.assessments import services
from grille.assessments.enums import AssessmentStatus
from grille.assessments.models import Answer, Assessment, ResumeLink
from grille.assessments.selectors import get_answers
from grille.assessments.services import AnswerInput
from tests.factories import answer, make_user, stored_answers


@pytest.fixture
def assessment(version):
    assessment, _raw = services.start_assessment(version=version)
    return assessment


def test_start_assessment_creates_a_draft_on_the_version_with_one_resume_link(version):
    assessment, raw = services.start_assessment(version=version)

    assert (assessment.version_id, assessment.status, assessment.submitted_at, assessment.owner) == (
        version.pk, AssessmentStatus.DRAFT, None, None,
    )
    assert list(ResumeLink.objects.filter(assessment=assessment).values_list("token_hash", flat=True)) == [
        hashlib.sha256(raw.encode()).hexdigest()
    ]


def test_start_assessment_for_a_person_makes_them_the_owner(version):
    user = make_user()

    assessment, _raw = services.start_assessment(version=version, owner=user)

    assert assessment.owner == user


def test_save_answers_stores_the_chosen_options(assessment):
    result = services.save_answers(assessment=assessment, items=[
        AnswerInput("1.1", level="3", wish="priorite", carrying="partenariat", comment="Fonds européens"),
        AnswerInput("4.2", level="nc"),
        AnswerInput("6.1", wish="oui"),
    ])

    assert stored_answers(assessment) == {
        "1.1": ("3", "priorite", "partenariat", "Fonds européens"),
        "4.2": ("nc", None, None, ""),
        "6.1": (None, "oui", None, ""),
    }
    assert result.answered == 2


def test_save_answers_twice_updates_the_single_answer_of_the_practice(assessment):
    answer(assessment, "2.3", level="1", wish="oui", comment="Premier jet")

    answer(assessment, "2.3", level="2", comment="")

    assert Answer.objects.filter(assessment=assessment).count() == 1
    assert stored_answers(assessment) == {"2.3": ("2", None, None, "")}


def test_database_refuses_a_second_answer_to_the_same_practice(assessment):
    answer(assessment, "2.3", level="1")
    practice_id = Answer.objects.get().practice_id

    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.create(assessment=assessment, practice_id=practice_id)

    assert Answer.objects.count() == 1


def test_save_answers_with_an_unknown_option_saves_nothing_of_the_batch(assessment):
    answer(assessment, "1.1", level="1")

    with pytest.raises(services.AssessmentError) as excinfo:
        services.save_answers(assessment=assessment, items=[
            AnswerInput("1.1", level="3"),
            AnswerInput("1.2", level="2"),
            AnswerInput("1.3", level="4"),
        ])

    assert str(excinfo.value) == "« 4 » n'est pas une réponse possible pour « Niveau de pratique »."
    assert stored_answers(assessment) == {"1.1": ("1", None, None, "")}


def test_save_answers_with_an_unknown_practice_saves_nothing(assessment):
    with pytest.raises(services.AssessmentError) as excinfo:
        services.save_answers(
            assessment=assessment, items=[AnswerInput("1.1", level="2"), AnswerInput("9.1", level="2")]
        )

    assert str(excinfo.value) == "La pratique « 9.1 » n'existe pas dans cette grille."
    assert stored_answers(assessment) == {}


def test_save_answers_with_a_nul_character_in_a_comment_saves_nothing(assessment):
    with pytest.raises(services.AssessmentError, match="caractère non autorisé"):
        services.save_answers(assessment=assessment, items=[
            AnswerInput("1.1", level="2"), AnswerInput("1.2", level="2", comment="a\x00b"),
        ])

    assert stored_answers(assessment) == {}


def test_save_answers_refuses_an_option_of_another_dimension(assessment):
    with pytest.raises(services.AssessmentError, match="« priorite » n'est pas une réponse possible pour « Niveau"):
        answer(assessment, "1.1", level="priorite")


def test_save_answers_returns_the_number_of_practices_with_a_level(assessment):
    answer(assessment, "1.1", level="0")
    answer(assessment, "1.2", wish="oui")

    result = services.save_answers(assessment=assessment, items=[AnswerInput("8.3", level="nc")])

    assert result.answered == 2


def test_submitted_assessment_refuses_saves(assessment):
    answer(assessment, "1.1", level="2")
    services.submit_assessment(assessment=assessment)

    with pytest.raises(services.AssessmentLocked) as excinfo:
        answer(assessment, "1.1", level="3")

    assert excinfo.value.status == 409
    assert str(excinfo.value).startswith("Ce positionnement a déjà été envoyé : il ne peut plus être modifié.")
    assert stored_answers(assessment) == {"1.1": ("2", None, None, "")}


def test_submit_assessment_marks_it_submitted_with_a_date(assessment):
    answer(assessment, "1.1", level="2")

    submitted = services.submit_assessment(assessment=assessment)

    assessment.refresh_from_db()
    assert (assessment.status, assessment.submitted_at) == (AssessmentStatus.SUBMITTED, submitted.submitted_at)
    assert assessment.submitted_at is not None


def test_second_submit_is_refused_and_keeps_the_first_date(assessment):
    answer(assessment, "1.1", level="2")
    first = services.submit_assessment(assessment=assessment)

    with pytest.raises(services.AssessmentLocked):
        services.submit_assessment(assessment=assessment)

    assert list(Assessment.objects.filter(status=AssessmentStatus.SUBMITTED).values_list("pk", "submitted_at")) == [
        (assessment.pk, first.submitted_at)
    ]


def test_submit_with_a_stale_object_is_still_refused(assessment):
    answer(assessment, "1.1", level="2")
    stale = Assessment.objects.get(pk=assessment.pk)
    services.submit_assessment(assessment=assessment)

    with pytest.raises(services.AssessmentLocked):
        services.submit_assessment(assessment=stale)

    assert Assessment.objects.filter(status=AssessmentStatus.SUBMITTED).count() == 1


def test_submit_without_answers_is_refused(assessment):
    with pytest.raises(services.AssessmentError) as excinfo:
        services.submit_assessment(assessment=assessment)

    assert str(excinfo.value) == "Renseignez au moins une pratique avant d'envoyer votre positionnement."
    assessment.refresh_from_db()
    assert (assessment.status, assessment.submitted_at) == (AssessmentStatus.DRAFT, None)


def test_submit_with_only_wishes_is_refused(assessment):
    answer(assessment, "1.1", wish="oui")

    with pytest.raises(services.AssessmentError, match="Renseignez au moins une pratique"):
        services.submit_assessment(assessment=assessment)


def test_submit_with_only_not_concerned_answers_is_accepted(assessment):
    answer(assessment, "1.1", level="nc")

    services.submit_assessment(assessment=assessment)

    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_resume_token_is_stored_only_as_its_sha256(version):
    assessment, raw = services.start_assessment(version=version)

    link = ResumeLink.objects.get(assessment=assessment)
    assert link.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored_values = [str(v) for v in ResumeLink.objects.values_list("id", "token_hash", "assessment__uuid").get()]
    assert all(raw not in value for value in stored_values)


def test_resume_token_carries_at_least_128_random_bits(version):
    tokens = {services.start_assessment(version=version)[1] for _ in range(5)}

    decoded = [base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)) for t in tokens]
    assert len(tokens) == 5
    assert min(len(d) for d in decoded) * 8 >= 128


def test_resume_token_opens_its_assessment(version):
    assessment, raw = services.start_assessment(version=version)

    assert services.resolve_resume_token(raw) == assessment


def test_forged_resume_token_is_unknown(assessment):
    with pytest.raises(services.ResumeLinkError) as excinfo:
        services.resolve_resume_token("pas-un-vrai-jeton")

    assert excinfo.value.reason == "unknown"


def test_renew_resume_link_revokes_the_old_token(version):
    assessment, old = services.start_assessment(version=version)

    new = services.renew_resume_link(assessment=assessment)

    with pytest.raises(services.ResumeLinkError) as excinfo:
        services.resolve_resume_token(old)
    assert excinfo.value.reason == "revoked"
    assert services.resolve_resume_token(new) == assessment
    assert new != old
    assert services.resume_token_matches(assessment=assessment, raw=new) is True
    assert services.resume_token_matches(assessment=assessment, raw=old) is False
    assert ResumeLink.objects.filter(assessment=assessment, revoked_at__isnull=True).count() == 1


def test_renewing_one_assessment_keeps_the_links_of_others(version):
    first, first_raw = services.start_assessment(version=version)
    second, _ = services.start_assessment(version=version)

    services.renew_resume_link(assessment=second)

    assert services.resolve_resume_token(first_raw) == first


def test_resume_token_of_one_assessment_does_not_match_another(version):
    first, first_raw = services.start_assessment(version=version)
    second, _ = services.start_assessment(version=version)

    assert services.resume_token_matches(assessment=second, raw=first_raw) is False


def test_delete_assessment_removes_its_answers_and_links(version):
    kept, _ = services.start_assessment(version=version)
    answer(kept, "1.1", level="1")
    gone, raw = services.start_assessment(version=version)
    answer(gone, "1.1", level="3", comment="À effacer")
    services.renew_resume_link(assessment=gone)

    services.delete_assessment(assessment=gone)

    assert list(Assessment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(Answer.objects.values_list("assessment_id", flat=True)) == [kept.pk]
    assert list(ResumeLink.objects.values_list("assessment_id", flat=True)) == [kept.pk]
    with pytest.raises(services.ResumeLinkError):
        services.resolve_resume_token(raw)


def test_claim_assessments_gives_only_anonymous_ones_to_the_person(version):
    user, other = make_user("a@exemple.fr"), make_user("b@exemple.fr")
    anonymous, _ = services.start_assessment(version=version)
    someone_elses, _ = services.start_assessment(version=version, owner=other)

    claimed = services.claim_assessments(user=user, uuids=[str(anonymous.uuid), str(someone_elses.uuid)])

    assert claimed == 1
    assert dict(Assessment.objects.values_list("pk", "owner__email")) == {
        anonymous.pk: "a@exemple.fr", someone_elses.pk: "b@exemple.fr",
    }


def test_get_answers_reads_back_what_was_saved(assessment, grid):
    answer(assessment, "5.2", level="2", wish="oui", carrying="les-deux", comment="Réseau")

    answers = get_answers(assessment)

    saved = answers["5.2"]
    assert list(answers) == ["5.2"]
    assert (
        grid.level.option_by_id(saved.level_id).code,
        grid.wish.option_by_id(saved.wish_id).code,
        grid.carrying.option_by_id(saved.carrying_id).code,
        saved.comment,
    ) == ("2", "oui", "les-deux", "Réseau")
