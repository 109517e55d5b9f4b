"""A person's data, exported whole (erase_person / export_person commands and their services)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from grille.accounts.models import ApiToken, LoginLink, User
from grille.accounts.services import (
    ErasureRefused,
    create_api_token,
    erase_person,
    export_person,
    send_login_link,
)
from grille.assessments.models import Answer, Assessment, ConsentRecord, PeerShare, ResumeLink
from grille.assessments.services import start_assessment, submit_assessment
from grille.organisations import services as organisations
from grille.organisations.models import Invitation, Membership, PracticeComment, Share
from grille.studies import services as studies
from grille.studies.dashboard import completed_respondents
from grille.studies.models import Invitee, ProfileAnswer, Respondent
from tests.factories import answer, make_user

EMAIL = "camille@exemple.fr"
MODELS = (User, Assessment, Answer, ResumeLink, PeerShare, Membership, Share, Invitation, Respondent, ProfileAnswer, Invitee, LoginLink, ApiToken, PracticeComment)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def positioning(owner, version, levels: dict[str, str], comment: str = ""):
    assessment, _raw = start_assessment(version=version, owner=owner)
    for code, level in levels.items():
        answer(assessment, code, level=level, comment=comment if code == "1.1" else "")
    return submit_assessment(assessment=assessment)


def study_response(campaign, *, link_key: str, owner=None) -> Respondent:
    respondent = studies.start_response(campaign=campaign, link_key=link_key, consent_version=1, owner=owner)
    studies.save_profile_answers(respondent=respondent, answers={"structure": ["association"]})
    answer(respondent.assessment, "2.1", level="3")
    submit_assessment(assessment=respondent.assessment)
    return respondent


@pytest.fixture
def people(version):
    """Camille, with data of every kind, beside Dominique, who shares an organisation and a study with her."""
    camille, dominique = make_user(EMAIL), make_user("dominique@exemple.fr")
    camille.display_name = "Camille Martin"
    camille.save(update_fields=["display_name"])
    mine = positioning(camille, version, {"1.1": "2", "1.2": "nc", "4.1": "3"}, comment="Surtout des appels à projets")
    start_assessment(version=version, owner=camille)  # a draft, never submitted
    theirs = positioning(dominique, version, {"1.1": "1"})
    PeerShare.objects.create(assessment=mine, structure_type="association", consent_version="1")

    organisation = organisations.create_organisation(user=dominique, name="Pays des Trois Vallées", structure_type="association")
    facilitator = Membership.objects.get(user=dominique)
    organisations.create_invitation(membership=facilitator, email=EMAIL)
    member = Membership.objects.create(organisation=organisation, user=camille)
    organisations.share_assessment(membership=member, assessment=mine, mode="named")
    organisations.share_assessment(membership=facilitator, assessment=theirs, mode="named")
    organisations.add_comment(membership=member, practice_code="1.1", body="Un sujet pour le prochain atelier.")

    now = timezone.now()
    campaign = studies.create_campaign(
        user=None, name="Étude des catalyseurs", wave_year=2024, version=version,
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30), consent_text="J'accepte.",
    )
    study_response(campaign, link_key=studies.open_link_key(), owner=camille)
    studies.import_invitees(campaign=campaign, raw=f"{EMAIL}\ndominique@exemple.fr\n".encode())
    invited = Invitee.objects.get(email=EMAIL)
    study_response(campaign, link_key=invited.link_key)  # answered through her invitation, without signing in
    study_response(campaign, link_key=Invitee.objects.get(email="dominique@exemple.fr").link_key, owner=dominique)

    create_api_token(user=camille, name="Tableur")
    send_login_link(email=EMAIL)
    return camille, dominique, campaign


def erase_command(*args: str) -> str:
    out = io.StringIO()
    call_command("erase_person", *args, stdout=out)
    return out.getvalue()


# --- erase_person ----------------------------------------------------------------------------


def test_erase_person_removes_every_row_of_the_person_and_nothing_else(people):
    camille, dominique, campaign = people
    before = counts()

    erased = erase_person(user=camille)

    after = counts()
    assert erased == {
        "account": 1,
        "assessments": 4,  # two of her own, her signed-in study answer, her answer through the invitation
        "answers": 5,
        "resume_links": 4,
        "peer_shares": 1,
        "memberships": 1,
        "shares": 1,
        "organisation_invitations": 1,
        "study_respondents": 2,
        "study_profile_answers": 2,
        "study_invitations": 1,
        "login_links": 1,
        "api_tokens": 1,
    }
    removed = {name: before[name] - after[name] for name in before}
    assert removed == {
        "User": 1, "Assessment": 4, "Answer": 5, "ResumeLink": 4, "PeerShare": 1, "Membership": 1, "Share": 1,
        "Invitation": 1, "Respondent": 2, "ProfileAnswer": 2, "Invitee": 1, "LoginLink": 1, "ApiToken": 1,
        "PracticeComment": 0,
    }
    assert not User.objects.filter(email=EMAIL).exists()
    assert Assessment.objects.filter(owner=dominique).count() == 2
    assert Share.objects.filter(user=dominique).count() == 1


def test_erased_study_answers_leave_the_aggregates(people):
    camille, _dominique, campaign = people
    assert completed_respondents(campaign).count() == 3

    erase_person(user=camille)

    assert completed_respondents(campaign).count() == 1


def test_comments_stay_in_the_organisation_without_their_author(people):
    camille, _dominique, _campaign = people

    erase_person(user=camille)

    assert list(PracticeComment.objects.values_list("body", "author")) == [("Un sujet pour le prochain atelier.", None)]


def test_erase_person_command_with_yes_prints_what_was_erased(people):
    out = erase_command(EMAIL.upper(), "--yes")

    assert out.splitlines() == [
        f"{EMAIL} a été effacé·e :",
        "  compte : 1",
        "  positionnement(s) : 4",
        "  réponse(s) : 5",
        "  lien(s) de reprise : 4",
        "  participation(s) à la comparaison avec les pairs : 1",
        "  adhésion(s) à une structure : 1",
        "  partage(s) avec une structure : 1",
        "  invitation(s) à une structure : 1",
        "  participation(s) à une étude : 2",
        "  réponse(s) au profil d'une étude : 2",
        "  invitation(s) à une étude : 1",
        "  lien(s) de connexion : 1",
        "  jeton(s) d'API : 1",
    ]
    assert not User.objects.filter(email=EMAIL).exists()


def test_erase_person_command_asks_for_confirmation(people, monkeypatch):
    questions = []
    monkeypatch.setattr("builtins.input", lambda prompt: questions.append(prompt) or "oui")

    erase_command(EMAIL)

    assert questions == [f"Effacer définitivement {EMAIL} et toutes ses données ? Tapez « oui » pour confirmer : "]
    assert not User.objects.filter(email=EMAIL).exists()


def test_erase_person_command_erases_nothing_without_confirmation(people, monkeypatch):
    before = counts()
    monkeypatch.setattr("builtins.input", lambda prompt: "non")

    with pytest.raises(CommandError, match="Effacement annulé : rien n'a été effacé."):
        erase_command(EMAIL)

    assert counts() == before


def test_erase_person_command_refuses_an_unknown_address(db):
    with pytest.raises(CommandError, match="Aucune personne n'a l'adresse personne@exemple.fr."):
        erase_command("personne@exemple.fr", "--yes")


# --- export_person ---------------------------------------------------------------------------


def test_export_person_command_writes_all_the_person_data_as_json(people, tmp_path):
    output = tmp_path / "camille.json"

    out = io.StringIO()
    call_command("export_person", EMAIL, "--output", str(output), stdout=out)

    data = json.loads(output.read_text(encoding="utf-8"))
    assert out.getvalue() == f"Données de {EMAIL} exportées dans {output} : 4 positionnement(s), 1 structure(s), 1 partage(s).\n"
    assert data["format"] == "grille-donnees-personnelles/1"
    assert data["compte"]["email"] == EMAIL and data["compte"]["nom_affiche"] == "Camille Martin"
    first = data["positionnements"][0]
    answers = {r["pratique"]: r for r in first["reponses"] if r["niveau"]}
    assert {code: r["niveau"]["code"] for code, r in answers.items()} == {"1.1": "2", "1.2": "nc", "4.1": "3"}
    assert answers["1.1"]["commentaire"] == "Surtout des appels à projets"
    assert first["profil"]["pratiques_renseignees"] == 3
    assert first["comparaison_avec_les_pairs"]["type_de_structure"] == "association"
    assert [p["positionnement"]["statut"] for p in data["positionnements"]] == ["submitted", "draft", "submitted", "submitted"]
    studies_part = [p["etude"] for p in data["positionnements"] if "etude" in p]
    assert [(s["campagne"], s["profil"]) for s in studies_part] == [
        ("Étude des catalyseurs", [{"question": "Type de structure", "reponse": "Association"}])
    ] * 2
    assert [(m["structure"], m["role"]) for m in data["structures"]] == [("Pays des Trois Vallées", "member")]
    assert [(s["structure"], s["mode"], s["positionnement"]) for s in data["partages"]] == [
        ("Pays des Trois Vallées", "named", first["positionnement"]["id"])
    ]
    assert [c["texte"] for c in data["commentaires"]] == ["Un sujet pour le prochain atelier."]
    assert [i["campagne"] for i in data["invitations_a_une_etude"]] == ["Étude des catalyseurs"]
    assert [t["nom"] for t in data["jetons_api"]] == ["Tableur"]
    assert len(data["liens_de_connexion"]) == 1


def test_export_person_never_contains_someone_else_or_a_secret(people):
    camille, _dominique, _campaign = people

    text = json.dumps(export_person(user=camille), ensure_ascii=False)

    assert "dominique@exemple.fr" not in text
    assert ApiToken.objects.get().token_hash not in text
    assert LoginLink.objects.get().token_hash not in text


def test_export_person_command_refuses_an_unknown_address_or_no_output(db, tmp_path):
    with pytest.raises(CommandError, match="Aucune personne n'a l'adresse personne@exemple.fr."):
        call_command("export_person", "personne@exemple.fr", "--output", str(tmp_path / "x.json"))
    with pytest.raises(CommandError, match="the following arguments are required: --output"):
        call_command("export_person", EMAIL)


# --- consent proofs and facilitators (issue 13, findings 8 and 9) ----------------------------


def test_export_lists_the_proofs_of_study_consents_withdrawn_included(people):
    camille, _dominique, campaign = people
    given = Respondent.objects.filter(assessment__owner=camille).get()
    studies.withdraw_response(respondent=given)
    data = export_person(user=camille)
    (proof,) = [c for c in data["consentements"] if c["etude"] == campaign.name and c["retire_le"]]
    assert proof["version_du_texte"] == "1" and proof["donne_le"] and proof["pseudonyme"] == given.pseudonym


def test_erasure_keeps_the_proofs_of_consent_stamped_withdrawn_and_without_the_person(people):
    camille, _dominique, _campaign = people
    hers = set(ConsentRecord.objects.filter(user=camille).values_list("pk", flat=True))
    assert hers
    erase_person(user=camille)
    kept = ConsentRecord.objects.filter(pk__in=hers)
    assert kept.count() == len(hers)
    assert not kept.filter(withdrawn_at__isnull=True).exists()
    assert not kept.filter(user__isnull=False).exists() and not kept.filter(assessment__isnull=False).exists()


def test_erasure_refuses_to_leave_an_organisation_without_a_facilitator(people):
    _camille, dominique, _campaign = people
    before = counts()
    with pytest.raises(ErasureRefused, match="Pays des Trois Vallées"):
        erase_person(user=dominique)
    assert counts() == before
    with pytest.raises(CommandError, match="Pays des Trois Vallées.*--successeur"):
        erase_command("dominique@exemple.fr", "--yes")
    assert counts() == before


def test_erasure_with_a_successor_makes_them_facilitator(people):
    camille, _dominique, _campaign = people
    out = erase_command("dominique@exemple.fr", "--yes", "--successeur", EMAIL)
    assert "devient animateur·rice de : Pays des Trois Vallées" in out
    assert Membership.objects.get(user=camille).is_facilitator
    assert not User.objects.filter(email="dominique@exemple.fr").exists()
    with pytest.raises(CommandError, match="Aucune personne"):
        erase_command(EMAIL, "--yes", "--successeur", "personne@exemple.fr")
