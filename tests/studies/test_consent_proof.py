"""Withdrawing from a study keeps the proof of the consent (issue 13, finding 8): who, which
wording, when given, when withdrawn; the answers leave the results at once."""

from __future__ import annotations

from grille.assessments.models import ConsentRecord
from grille.studies import services
from grille.studies.models import Respondent
from tests.factories import make_user

from .conftest import make_respondent


def test_withdrawing_keeps_the_proof_of_consent(campaign):
    owner = make_user("etude@exemple.fr")
    respondent = services.start_response(
        campaign=campaign, link_key=services.open_link_key(), consent_version=1, owner=owner
    )
    services.withdraw_response(respondent=respondent)
    assert not Respondent.objects.filter(pk=respondent.pk).exists()
    (proof,) = ConsentRecord.objects.filter(kind="etude", scope=str(campaign.uuid))
    assert (proof.user, proof.pseudonym, proof.text_version) == (owner, respondent.pseudonym, "1")
    assert proof.withdrawn_at is not None and proof.given_at <= proof.withdrawn_at


def test_an_anonymous_respondent_is_proven_by_their_pseudonym_and_the_wording_they_read(campaign):
    respondent = make_respondent(campaign, profile={"structure": ["association"]}, levels={"1.1": "2"})
    (proof,) = ConsentRecord.objects.filter(kind="etude")
    assert proof.user is None and proof.pseudonym == respondent.pseudonym and proof.withdrawn_at is None
    assert proof.text_version == str(respondent.consent.version)
