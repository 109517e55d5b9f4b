"""The « se situer » journey through the Django test client: happy paths, outsiders, bad input."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from grille.assessments import services
from grille.assessments.enums import AssessmentStatus
from grille.assessments.grants import SESSION_KEY
from grille.assessments.models import Answer, Assessment, ResumeLink
from grille.frameworks.services import load_framework_version, validate_framework_data
from tests.factories import (
    answer,
    answer_all,
    assessment_url,
    load_small_framework,
    make_user,
    small_framework_data,
    start_positioning,
    step_data,
    stored_answers,
)

STEP_1 = ["1.1", "1.2", "1.3"]
HOSTILE_COMMENT = '<script>alert("x")</script><b>gras</b>'


def text(response) -> str:
    """The page as a person reads it: entities decoded (use response.content to check escaping)."""
    return html.unescape(response.content.decode())


def squeeze(value: str) -> str:
    # PDF text extraction breaks lines anywhere, even inside words.
    return re.sub(r"\s+", "", value)


def resume_url_on_page(response) -> str:
    links = set(re.findall(r"http://testserver/reprendre/[A-Za-z0-9_-]+/", text(response)))
    assert len(links) == 1, links
    return links.pop()


def token_of(resume_url: str) -> str:
    return resume_url.rstrip("/").rsplit("/", 1)[-1]


def submitted(assessment: Assessment) -> Assessment:
    answer(assessment, "1.1", level="2")
    return services.submit_assessment(assessment=assessment)


# --- Starting and the resume link ------------------------------------------------------------


def test_start_creates_a_draft_and_shows_its_resume_link_once(client, version):
    response = client.post(reverse("assessments:start"), follow=True)

    assessment = Assessment.objects.get()
    link = resume_url_on_page(response)
    assert response.redirect_chain == [(assessment_url("resume_link", assessment), 302)]
    assert (assessment.status, assessment.version_id, assessment.owner) == (AssessmentStatus.DRAFT, version.pk, None)
    assert link.startswith("http://testserver/reprendre/")
    assert services.resolve_resume_token(token_of(link)) == assessment
    assert client.session[SESSION_KEY] == [str(assessment.uuid)]

    again = client.get(assessment_url("resume_link", assessment))

    assert again.status_code == 200
    assert token_of(link) not in text(again)
    assert "Créer un nouveau lien de reprise" in text(again)


def test_start_by_a_signed_in_person_makes_them_the_owner(client, version):
    user = make_user()
    client.force_login(user)

    start_positioning(client)

    assert Assessment.objects.get().owner == user


def test_start_without_a_published_grid_says_so(client, db):
    response = client.post(reverse("assessments:start"))

    assert response.status_code == 503
    assert Assessment.objects.count() == 0


def test_start_refuses_get(client, version):
    response = client.get(reverse("assessments:start"))

    assert response.status_code == 405
    assert Assessment.objects.count() == 0


def test_renew_link_revokes_the_old_link_and_shows_a_new_one(client, version):
    first = client.post(reverse("assessments:start"), follow=True)
    assessment = Assessment.objects.get()
    old = token_of(resume_url_on_page(first))

    response = client.post(assessment_url("renew_link", assessment), follow=True)

    new = token_of(resume_url_on_page(response))
    assert new != old
    assert "Un nouveau lien de reprise a été créé ; l'ancien ne fonctionne plus." in text(response)
    assert Client().get(reverse("assessments:resume", args=[old])).status_code == 410
    assert Client().get(reverse("assessments:resume", args=[new])).status_code == 302


def test_send_link_mails_the_resume_link(client, version, mailoutbox, django_capture_on_commit_callbacks):
    page = client.post(reverse("assessments:start"), follow=True)
    assessment = Assessment.objects.get()
    link = resume_url_on_page(page)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            assessment_url("send_link", assessment), {"token": token_of(link), "email": "camille@exemple.fr"}
        )

    assert response.status_code == 302
    assert response.url == assessment_url("step", assessment, 1)
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["camille@exemple.fr"], "Votre lien pour reprendre votre positionnement")
    ]
    assert link in mailoutbox[0].body


def test_send_link_with_an_invalid_address_says_so_and_sends_nothing(client, version, mailoutbox,
                                                                     django_capture_on_commit_callbacks):
    page = client.post(reverse("assessments:start"), follow=True)
    assessment = Assessment.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            assessment_url("send_link", assessment), {"token": token_of(resume_url_on_page(page)), "email": "camille"}
        )

    assert response.status_code == 400
    assert "Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr." in text(response)
    assert mailoutbox == []


def test_send_link_with_a_replaced_token_is_refused(client, version, mailoutbox, django_capture_on_commit_callbacks):
    page = client.post(reverse("assessments:start"), follow=True)
    assessment = Assessment.objects.get()
    old = token_of(resume_url_on_page(page))
    services.renew_resume_link(assessment=assessment)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(assessment_url("send_link", assessment), {"token": old, "email": "camille@exemple.fr"})

    assert response.status_code == 400
    assert "Ce lien de reprise n'est plus valable pour ce positionnement." in text(response)
    assert mailoutbox == []


# --- Resuming by link -----------------------------------------------------------------------


def test_resume_link_opens_the_positioning_in_another_browser(positioning):
    answer_all(positioning, STEP_1 + ["2.1"], level="1")
    raw = services.renew_resume_link(assessment=positioning)
    elsewhere = Client()

    response = elsewhere.get(reverse("assessments:resume", args=[raw]), follow=True)

    assert response.redirect_chain == [(assessment_url("step", positioning, 2), 302)]
    assert "Bon retour ! Vos réponses enregistrées sont là." in text(response)
    assert elsewhere.get(assessment_url("profile", positioning)).status_code == 200


def test_resume_link_goes_to_the_first_step_with_a_practice_left_without_level(client, positioning):
    client.post(assessment_url("step", positioning, 1), step_data(STEP_1, go="2"))
    answer_all(positioning, ["2.1", "2.2", "2.3"], level="3")
    raw = services.renew_resume_link(assessment=positioning)

    response = Client().get(reverse("assessments:resume", args=[raw]))

    assert response.url == assessment_url("step", positioning, 1)


def test_resume_link_of_a_submitted_positioning_opens_its_profile(positioning):
    submitted(positioning)
    raw = services.renew_resume_link(assessment=positioning)

    response = Client().get(reverse("assessments:resume", args=[raw]))

    assert response.url == assessment_url("profile", positioning)


def test_forged_resume_link_gets_a_clear_404_page(client, positioning):
    response = client.get(reverse("assessments:resume", args=["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]))

    assert response.status_code == 404
    assert "Ce lien de reprise ne fonctionne pas" in text(response)
    assert "Ce lien est inconnu : vérifiez qu'il a été copié en entier." in text(response)


def test_revoked_resume_link_gets_a_clear_410_page(positioning):
    old = services.renew_resume_link(assessment=positioning)
    services.renew_resume_link(assessment=positioning)
    elsewhere = Client()

    response = elsewhere.get(reverse("assessments:resume", args=[old]))

    assert response.status_code == 410
    assert "Ce lien a été remplacé par un lien plus récent" in text(response)
    assert elsewhere.get(assessment_url("profile", positioning)).status_code == 404


def test_resume_link_of_a_deleted_positioning_is_unknown(client, positioning):
    raw = services.renew_resume_link(assessment=positioning)
    services.delete_assessment(assessment=positioning)

    response = Client().get(reverse("assessments:resume", args=[raw]))

    assert response.status_code == 404


# --- Questionnaire steps --------------------------------------------------------------------


def test_step_shows_the_situation_and_its_practices(client, positioning):
    response = client.get(assessment_url("step", positioning, 4))

    assert response.status_code == 200
    page = text(response)
    assert "Étape 4 sur 8" in page
    assert "Être à l'écoute de son écosystème" in page
    assert "(Besoins, enjeux, difficultés, risques, contributions)" in page
    for label in ("Ecouter son équipe", "Ecouter son organisation", "Ecouter les acteurs de mon territoire"):
        assert label in page
    assert 'name="4.1-niveau" value="nc"' in page


def test_step_shows_saved_answers_checked(client, positioning):
    answer(positioning, "1.2", level="3", wish="oui", comment="Mon commentaire")

    page = text(client.get(assessment_url("step", positioning, 1)))

    assert 'name="1.2-niveau" value="3" checked' in page
    assert 'name="1.2-souhait" value="oui" checked' in page
    assert ">Mon commentaire</textarea>" in page


def test_step_post_saves_the_step_and_goes_where_asked(client, positioning):
    data = step_data(STEP_1, go="2", p1_1={"niveau": "3", "souhait": "priorite", "portage": "partenariat",
                                           "commentaire": "  Avec le département  "}, p1_3={"niveau": "nc"})

    response = client.post(assessment_url("step", positioning, 1), data)

    assert response.status_code == 302
    assert response.url == assessment_url("step", positioning, 2)
    assert stored_answers(positioning) == {
        "1.1": ("3", "priorite", "partenariat", "Avec le département"),
        "1.2": (None, None, None, ""),
        "1.3": ("nc", None, None, ""),
    }


def test_step_post_on_the_last_step_can_go_to_the_recap(client, positioning):
    data = step_data(["8.1", "8.2", "8.3"], go="recapitulatif", p8_2={"niveau": "1"})

    response = client.post(assessment_url("step", positioning, 8), data)

    assert response.url == assessment_url("recap", positioning)
    assert stored_answers(positioning)["8.2"] == ("1", None, None, "")


def test_step_post_without_a_target_stays_on_the_step(client, positioning):
    data = step_data(["3.1", "3.2", "3.3"], p3_1={"niveau": "0"})

    response = client.post(assessment_url("step", positioning, 3), data, follow=True)

    assert response.redirect_chain == [(assessment_url("step", positioning, 3), 302)]
    assert "Étape 3 enregistrée." in text(response)


@pytest.mark.parametrize("number", [0, 9, 99])
def test_step_outside_the_grid_is_404(client, positioning, number):
    response = client.get(assessment_url("step", positioning, number))

    assert response.status_code == 404
    assert "Page introuvable" in text(response)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("4", "Choisissez l'une des réponses proposées (« 4 » n'en fait pas partie)."),
        ("-1", "Choisissez l'une des réponses proposées (« -1 » n'en fait pas partie)."),
        ("beaucoup", "Choisissez l'une des réponses proposées (« beaucoup » n'en fait pas partie)."),
    ],
)
def test_step_post_with_an_unknown_level_says_so_and_keeps_saved_answers(client, positioning, value, message):
    answer(positioning, "1.1", level="1", comment="Déjà là")
    data = step_data(STEP_1, go="2", p1_1={"niveau": "3"}, p1_2={"niveau": value})

    response = client.post(assessment_url("step", positioning, 1), data)

    assert response.status_code == 400
    assert message in text(response)
    assert "Cette étape n'a pas été enregistrée" in text(response)
    assert stored_answers(positioning) == {"1.1": ("1", None, None, "Déjà là")}


def test_step_post_with_an_unknown_wish_says_so(client, positioning):
    response = client.post(assessment_url("step", positioning, 1), step_data(STEP_1, p1_1={"souhait": "3"}))

    assert response.status_code == 400
    assert "(« 3 » n'en fait pas partie)" in text(response)
    assert stored_answers(positioning) == {}


def test_step_post_with_a_too_long_comment_is_400_and_keeps_saved_answers(client, positioning):
    answer(positioning, "1.3", level="2")

    data = step_data(STEP_1, p1_3={"niveau": "0", "commentaire": "x" * 2001})

    response = client.post(assessment_url("step", positioning, 1), data)

    assert response.status_code == 400
    assert "Le commentaire est trop long : 2000 caractères au plus (vous en avez saisi 2001)." in text(response)
    assert stored_answers(positioning) == {"1.3": ("2", None, None, "")}


def test_step_post_with_a_comment_of_2000_characters_is_saved(client, positioning):
    data = step_data(STEP_1, p1_1={"commentaire": "é" * 2000})

    response = client.post(assessment_url("step", positioning, 1), data)

    assert response.status_code == 302
    assert stored_answers(positioning)["1.1"][3] == "é" * 2000


def test_step_post_with_a_nul_character_is_400(client, positioning):
    answer(positioning, "1.1", level="3")

    data = step_data(STEP_1, p1_1={"niveau": "0", "commentaire": "a\x00b"})

    response = client.post(assessment_url("step", positioning, 1), data)

    assert response.status_code == 400
    assert "Le caractère nul n’est pas autorisé." in text(response)
    assert stored_answers(positioning) == {"1.1": ("3", None, None, "")}


def test_step_of_a_submitted_positioning_opens_the_profile(client, positioning):
    submitted(positioning)

    response = client.get(assessment_url("step", positioning, 1))

    assert response.url == assessment_url("profile", positioning)


def test_step_post_on_a_submitted_positioning_is_409_and_changes_nothing(client, positioning):
    submitted(positioning)

    response = client.post(assessment_url("step", positioning, 1), step_data(STEP_1, p1_1={"niveau": "0"}))

    assert response.status_code == 409
    assert "Ce positionnement a déjà été envoyé : il ne peut plus être modifié." in text(response)
    assert stored_answers(positioning) == {"1.1": ("2", None, None, "")}


# --- Autosave -------------------------------------------------------------------------------


def test_autosave_saves_one_practice_and_reports_progress(client, positioning):
    answer(positioning, "3.3", level="2")

    data = {"5.2-niveau": "1", "5.2-portage": "interne", "5.2-commentaire": "Réseau local"}

    response = client.post(assessment_url("autosave", positioning, "5.2"), data)

    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": "Enregistré", "answered": 2, "total": 24}
    assert stored_answers(positioning)["5.2"] == ("1", None, "interne", "Réseau local")


def test_autosave_of_an_unknown_practice_is_404_json(client, positioning):
    response = client.post(assessment_url("autosave", positioning, "9.1"), {"9.1-niveau": "1"})

    assert response.status_code == 404
    assert response.json() == {"ok": False, "message": "Cette pratique n'existe pas dans la grille."}
    assert stored_answers(positioning) == {}


def test_autosave_with_an_unknown_level_is_400_json_and_keeps_the_saved_answer(client, positioning):
    answer(positioning, "5.2", level="2")

    response = client.post(assessment_url("autosave", positioning, "5.2"), {"5.2-niveau": "7"})

    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "message": "Non enregistré : corrigez la saisie.",
        "errors": {"niveau": ["Choisissez l'une des réponses proposées (« 7 » n'en fait pas partie)."]},
    }
    assert stored_answers(positioning) == {"5.2": ("2", None, None, "")}


def test_autosave_with_a_too_long_comment_is_400_json(client, positioning):
    response = client.post(assessment_url("autosave", positioning, "5.2"), {"5.2-commentaire": "x" * 2001})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "commentaire": ["Le commentaire est trop long : 2000 caractères au plus (vous en avez saisi 2001)."]
    }


def test_autosave_on_a_submitted_positioning_is_409_json(client, positioning):
    submitted(positioning)

    response = client.post(assessment_url("autosave", positioning, "1.1"), {"1.1-niveau": "0"})

    assert response.status_code == 409
    assert response.json()["ok"] is False
    assert response.json()["message"].startswith("Ce positionnement a déjà été envoyé")
    assert stored_answers(positioning) == {"1.1": ("2", None, None, "")}


def test_autosave_refuses_get(client, positioning):
    response = client.get(assessment_url("autosave", positioning, "1.1"))

    assert response.status_code == 405


# --- Recap and submission -------------------------------------------------------------------


def test_recap_lists_the_practices_left_with_links_to_their_step(client, positioning):
    answer_all(positioning, ["1.1", "1.2", "1.3", "2.1"], level="2")

    response = client.get(assessment_url("recap", positioning))

    page = text(response)
    assert response.status_code == 200
    assert "4 pratiques renseignées sur 24." in page
    step_2 = assessment_url("step", positioning, 2)
    assert f'<a href="{step_2}">2.2 Définir les indicateurs de performance</a>' in page
    assert f'<a href="{assessment_url("step", positioning, 8)}">8.3 Evaluer l\'impact territorial</a>' in page
    assert "1.1 Financer les projets</a>" not in page


def test_recap_of_a_submitted_positioning_opens_the_profile(client, positioning):
    submitted(positioning)

    assert client.get(assessment_url("recap", positioning)).url == assessment_url("profile", positioning)


def test_submit_sends_the_positioning_and_opens_its_profile(client, positioning):
    answer(positioning, "4.1", level="3")

    response = client.post(assessment_url("submit", positioning), follow=True)

    positioning.refresh_from_db()
    assert response.redirect_chain == [(assessment_url("profile", positioning), 302)]
    assert "Votre positionnement est envoyé. Voici votre profil." in text(response)
    assert positioning.status == AssessmentStatus.SUBMITTED


def test_submit_without_answers_is_400_with_a_message(client, positioning):
    response = client.post(assessment_url("submit", positioning))

    positioning.refresh_from_db()
    assert response.status_code == 400
    assert "Renseignez au moins une pratique avant d'envoyer votre positionnement." in text(response)
    assert positioning.status == AssessmentStatus.DRAFT


def test_replayed_submission_is_409_and_leaves_one_submitted_positioning(client, positioning):
    answer(positioning, "4.1", level="3")
    client.post(assessment_url("submit", positioning))
    first_date = Assessment.objects.get(pk=positioning.pk).submitted_at

    response = client.post(assessment_url("submit", positioning))

    assert response.status_code == 409
    assert "Positionnement déjà envoyé" in text(response)
    assert list(Assessment.objects.filter(status=AssessmentStatus.SUBMITTED).values_list("pk", "submitted_at")) == [
        (positioning.pk, first_date)
    ]


def test_submit_refuses_get(client, positioning):
    answer(positioning, "4.1", level="3")

    response = client.get(assessment_url("submit", positioning))

    positioning.refresh_from_db()
    assert response.status_code == 405
    assert positioning.status == AssessmentStatus.DRAFT


# --- Profile, PDF and JSON ------------------------------------------------------------------


def test_profile_shows_scope_strengths_and_practices_to_develop(client, positioning):
    answer(positioning, "1.1", level="3", wish="oui", carrying="interne")
    answer(positioning, "4.3", level="2", wish="priorite", carrying="partenariat")
    answer(positioning, "7.1", level="nc")
    submitted_at = services.submit_assessment(assessment=positioning).submitted_at

    response = client.get(assessment_url("profile", positioning))

    page = text(response)
    assert response.status_code == 200
    assert f"Positionnement envoyé le {timezone.localtime(submitted_at).day}" in page
    assert "Votre pratique est la plus affirmée dans l'axe « Expertises de Gestion » (moyenne 3,0 sur 3)" in page
    assert "3 pratiques renseignées sur 24." in page
    assert (
        '<span class="code">1.1</span> Financer les projets <span class="tag">C\'est le cœur de mon activité</span>'
    ) in page
    assert '<span class="tag tag-priority">Oui, en priorité</span>' in page
    assert '<svg' in page


def test_profile_of_a_draft_is_a_preview(client, positioning):
    response = client.get(assessment_url("profile", positioning))

    assert response.status_code == 200
    assert "ce positionnement est en cours : le profil évoluera avec vos réponses." in text(response)
    assert "Aucune pratique n'est encore renseignée" in text(response)


def test_profile_escapes_html_in_comments(client, positioning):
    answer(positioning, "1.1", level="2", comment=HOSTILE_COMMENT)

    page = client.get(assessment_url("profile", positioning)).content.decode()

    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;gras&lt;/b&gt;" in page
    assert "<script>alert" not in page
    assert "<b>gras" not in page


def test_profile_compares_with_the_previous_submitted_positioning(client, positioning):
    answer(positioning, "1.1", level="1")
    services.submit_assessment(assessment=positioning)
    later = start_positioning(client)
    answer(later, "1.1", level="3")

    page = text(client.get(assessment_url("profile", later)))

    assert "Comparaison avec votre positionnement du" in page
    assert '<td class="num">1,0</td><td class="num">+2,0</td>' in page


def test_profile_pdf_prints_the_fiche_with_escaped_comments(client, positioning):
    answer(positioning, "1.1", level="3", wish="priorite", comment=HOSTILE_COMMENT)
    answer(positioning, "8.2", level="2")
    services.submit_assessment(assessment=positioning)

    response = client.get(assessment_url("profile_pdf", positioning))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert re.fullmatch(r'attachment; filename="fiche-positionnement-\d{4}-\d{2}-\d{2}\.pdf"',
                        response["Content-Disposition"])
    assert response.content.startswith(b"%PDF")
    pdf_text = squeeze("".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages))
    for expected in (
        "Fiche de positionnement", "Financer les projets", "Accompagner le pilotage (instances et suivi)",
        "« Trouver et diversifier des financements »", "Oui, en priorité",
    ):
        assert squeeze(expected) in pdf_text
    assert squeeze(f"« {HOSTILE_COMMENT} »") in pdf_text


def test_export_json_gives_every_answer_and_the_profile(client, positioning):
    answer(positioning, "1.1", level="3", wish="oui", carrying="les-deux", comment=HOSTILE_COMMENT)
    answer(positioning, "2.2", level="nc")
    answer(positioning, "2.3", level="1")

    response = client.get(assessment_url("export_json", positioning))

    data = json.loads(response.content)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    filename = f"positionnement-{str(positioning.uuid)[:8]}.json"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert data["format"] == "grille-positionnement/1"
    assert data["referentiel"] == {
        "nom": "Grille des pratiques d'ingénierie territoriale",
        "version": "2024",
        "titre": "Grille de qualification des pratiques d'ingénierie territoriale",
    }
    assert (data["positionnement"]["id"], data["positionnement"]["statut"]) == (str(positioning.uuid), "draft")
    assert len(data["reponses"]) == 24
    assert [r["pratique"] for r in data["reponses"]][:4] == ["1.1", "1.2", "1.3", "2.1"]
    assert data["reponses"][0] == {
        "pratique": "1.1",
        "libelle": "Financer les projets",
        "situation": "1",
        "niveau": {"code": "3", "libelle": "C'est le cœur de mon activité", "valeur": 3},
        "souhait": {"code": "oui", "libelle": "Oui", "valeur": 1},
        "portage": {"code": "les-deux", "libelle": "Les deux", "valeur": None},
        "commentaire": HOSTILE_COMMENT,
    }
    assert data["reponses"][1]["niveau"] is None
    profile = data["profil"]
    assert (profile["pratiques_renseignees"], profile["pratiques_total"], profile["moyenne"]) == (3, 24, 2.0)
    assert profile["situations"][1] == {
        "code": "2", "libelle": "Contractualiser", "moyenne": 1.0, "renseignees": 2, "comptees": 1, "total": 3,
    }
    assert [a["code"] for a in profile["axes"]] == ["gestion", "relations", "strategie"]
    assert (profile["forces"], profile["a_developper"]) == (["1.1"], ["1.1"])
    assert profile["portage"] == {"interne": 0, "partenariat": 0, "les-deux": 1, "a-definir": 0}
    assert profile["perimetre_d_actions"].startswith(
        "Votre pratique est la plus affirmée dans l'axe « Expertises de Gestion »"
    )


# --- Deleting and listing -------------------------------------------------------------------


def test_delete_asks_for_confirmation_first(client, positioning):
    response = client.get(assessment_url("delete", positioning))

    assert response.status_code == 200
    assert "Supprimer définitivement" in text(response)
    assert Assessment.objects.filter(pk=positioning.pk).exists()


def test_delete_erases_the_positioning_its_answers_and_links(client, positioning):
    answer(positioning, "1.1", level="2")
    raw = services.renew_resume_link(assessment=positioning)

    response = client.post(assessment_url("delete", positioning), follow=True)

    assert response.redirect_chain == [(reverse("assessments:list"), 302)]
    assert "Le positionnement a été supprimé définitivement." in text(response)
    assert (Answer.objects.count(), ResumeLink.objects.filter(assessment_id=positioning.pk).count()) == (0, 0)
    assert not Assessment.objects.filter(pk=positioning.pk).exists()
    assert str(positioning.uuid) not in client.session[SESSION_KEY]
    assert client.get(reverse("assessments:resume", args=[raw])).status_code == 404


def test_list_shows_the_positionings_of_this_browser(client, positioning):
    answer_all(positioning, STEP_1, level="1")
    other = start_positioning(client)
    submitted(other)

    response = client.get(reverse("assessments:list"))

    page = text(response)
    assert response.status_code == 200
    assert page.count(f'href="{assessment_url("profile", positioning)}"') == 1
    assert page.count(f'href="{assessment_url("profile", other)}"') == 1
    assert f'href="{assessment_url("step", positioning, 1)}"' in page
    assert re.search(r"<td class=\"num\"[^>]*>3</td>", page)


def test_list_of_a_new_browser_is_empty(client, positioning):
    response = Client().get(reverse("assessments:list"))

    assert response.status_code == 200
    assert "Aucun positionnement pour l'instant." in text(response)


# --- Outsiders ------------------------------------------------------------------------------

OUTSIDER_REQUESTS = [
    ("get", "step", (1,)),
    ("post", "step", (1,)),
    ("post", "autosave", ("1.1",)),
    ("get", "recap", ()),
    ("post", "submit", ()),
    ("get", "profile", ()),
    ("get", "profile_pdf", ()),
    ("get", "export_json", ()),
    ("get", "delete", ()),
    ("post", "delete", ()),
    ("get", "resume_link", ()),
    ("post", "renew_link", ()),
    ("post", "send_link", ()),
]


@pytest.mark.parametrize(("method", "name", "args"), OUTSIDER_REQUESTS, ids=lambda v: v if isinstance(v, str) else "")
def test_outsider_gets_404_on_someone_elses_positioning(client, positioning, outsider, mailoutbox,
                                                        django_capture_on_commit_callbacks, method, name, args):
    page = client.post(assessment_url("renew_link", positioning), follow=True)
    raw = token_of(resume_url_on_page(page))
    answer(positioning, "1.1", level="2", comment="Privé")
    data = {"1.1-niveau": "0", "token": raw, "email": "intrus@exemple.fr", **step_data(STEP_1, p1_1={"niveau": "0"})}

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(outsider, method)(assessment_url(name, positioning, *args), data)

    assert response.status_code == 404
    assert "Page introuvable" in text(response)
    assert mailoutbox == []
    assert "Privé" not in text(response)
    assert stored_answers(positioning) == {"1.1": ("2", None, None, "Privé")}
    assert Assessment.objects.get(pk=positioning.pk).status == AssessmentStatus.DRAFT
    assert services.resolve_resume_token(raw) == positioning


def test_signed_in_outsider_gets_404_on_someone_elses_positioning(client, positioning):
    owner, intruder = make_user("owner@exemple.fr"), make_user("intrus@exemple.fr")
    client.force_login(owner)
    mine = start_positioning(client)
    other = Client()
    other.force_login(intruder)

    assert other.get(assessment_url("profile", mine)).status_code == 404
    assert other.get(assessment_url("profile", positioning)).status_code == 404
    assert assessment_url("profile", mine) not in text(other.get(reverse("assessments:list")))


def test_malformed_positioning_id_is_404(client, version):
    response = client.get("/positionnements/pas-un-uuid/profil/")

    assert response.status_code == 404


# --- Another framework ----------------------------------------------------------------------


def test_questionnaire_follows_the_shape_of_another_framework(client, db):
    load_small_framework()
    positioning = start_positioning(client)

    last = client.get(assessment_url("step", positioning, 3))
    beyond = client.get(assessment_url("step", positioning, 4))
    client.post(
        assessment_url("step", positioning, 1), step_data(["A.1", "A.2"], pA_1={"niveau": "souvent", "envie": "oui"})
    )
    client.post(assessment_url("autosave", positioning, "C.2"), {"C.2-niveau": "parfois", "C.2-porteur": "autres"})
    profile = client.get(assessment_url("profile", positioning))
    data = json.loads(client.get(assessment_url("export_json", positioning)).content)

    assert "Étape 3 sur 3" in text(last)
    assert "Vérifier et envoyer" in text(last)
    assert beyond.status_code == 404
    assert profile.status_code == 200
    assert "2 pratiques renseignées sur 5." in text(profile)
    assert "(moyenne 2,0 sur 2)" in text(profile)
    assert [r["pratique"] for r in data["reponses"]] == ["A.1", "A.2", "B.1", "C.1", "C.2"]
    assert data["reponses"][0]["envie"] == {"code": "oui", "libelle": "Oui", "valeur": 1}
    assert data["profil"]["forces"] == ["A.1", "C.2"]


def test_profile_of_a_framework_with_two_situations_still_shows_its_scores(client, db):
    data = small_framework_data()
    data["axes"] = data["axes"][:1]
    load_framework_version(data=validate_framework_data(data))
    positioning = start_positioning(client)
    answer(positioning, "B.1", level="souvent")

    response = client.get(assessment_url("profile", positioning))

    assert response.status_code == 200
    assert '<th scope="row">B. Agir</th><td class="num">2,0</td><td class="num">1/1</td>' in text(response)
