"""Study pages for analysts and respondents: access, bad input, suppression, closing, withdrawal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grille.accounts.models import User
from grille.assessments.services import AnswerInput, AssessmentLocked, save_answers
from grille.frameworks.selectors import get_grid
from grille.studies import services
from grille.studies.models import Campaign, Invitee, ProfileAnswer, Respondent

from .conftest import make_respondent

ANALYST_PAGES = ["home", "edit", "questions", "invitees", "tracking", "dashboard", "waves", "exports", "export_aggregates", "report_pdf"]


def logged_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def url(name: str, campaign: Campaign) -> str:
    return reverse(f"studies:{name}", args=[campaign.uuid])


@pytest.mark.parametrize("name", ANALYST_PAGES)
def test_analyst_pages_open_for_the_campaigns_analyst(campaign, analyst, name):
    assert logged_in(analyst).get(url(name, campaign)).status_code == 200


@pytest.mark.parametrize("name", ANALYST_PAGES)
def test_analyst_pages_are_404_for_anyone_else(campaign, name):
    other = User.objects.create_user("autre@exemple.fr")

    assert logged_in(other).get(url(name, campaign)).status_code == 404


@pytest.mark.parametrize("name", ANALYST_PAGES)
def test_analyst_pages_send_anonymous_visitors_to_sign_in(campaign, name):
    response = Client().get(url(name, campaign))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_microdata_exports_are_404_for_anyone_else(campaign):
    other = logged_in(User.objects.create_user("autre@exemple.fr"))
    for fmt in ("csv", "xlsx"):
        assert other.get(reverse("studies:export_microdata", args=[campaign.uuid, fmt])).status_code == 404


def test_only_enabled_analysts_create_campaigns(db, version):
    someone = logged_in(User.objects.create_user("x@exemple.fr"))

    response = someone.get(reverse("studies:create"))

    assert response.status_code == 403
    assert Campaign.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"threshold": "2"}, "2"),
        ({"closes_at": "2023-01-01T10:00"}, "clôture"),
        ({"consent_text": ""}, "obligatoire"),
    ],
)
def test_campaign_form_refuses_bad_input(analyst, version, change, message):
    data = {
        "name": "Vague", "wave_year": "2024", "version": str(version.pk), "opens_at": "2024-01-01T09:00",
        "closes_at": "2024-03-01T18:00", "consent_text": "J'accepte.", "threshold": "5", **change,
    }

    response = logged_in(analyst).post(reverse("studies:create"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Campaign.objects.count() == 0


def test_messy_list_with_an_error_imports_nothing_and_names_the_line(campaign, analyst):
    from django.core.files.uploadedfile import SimpleUploadedFile

    raw = "Courriel;Nom\r\nélise@exemple.fr;Élise\r\n=HYPERLINK(\"x\");X\r\n".encode("cp1252")
    response = logged_in(analyst).post(url("invitees", campaign), {"file": SimpleUploadedFile("l.csv", raw)})

    assert response.status_code == 400
    assert Invitee.objects.count() == 0
    content = response.content.decode()
    assert "=HYPERLINK(&quot;x&quot;)" in content
    assert "<td>3</td>" in content


def test_invitations_are_sent_once_and_reminders_skip_those_who_answered(campaign, analyst, mailoutbox):
    services.import_invitees(campaign=campaign, raw=b"a@exemple.fr\nb@exemple.fr\n")
    client = logged_in(analyst)

    client.post(reverse("studies:send", args=[campaign.uuid]), {"what": "invitations"})
    client.post(reverse("studies:send", args=[campaign.uuid]), {"what": "invitations"})
    link = next(m for m in mailoutbox if m.to == ["a@exemple.fr"]).body.split("/etude/i/")[1].split("/")[0]
    invitee = services.find_invitee(link)
    respondent = services.start_response(campaign=campaign, link_key=invitee.link_key, consent_version=1)
    save_answers(assessment=respondent.assessment, items=[AnswerInput(practice_code="1.1", level="2")])
    from grille.assessments.services import submit_assessment

    submit_assessment(assessment=respondent.assessment)
    client.post(reverse("studies:send", args=[campaign.uuid]), {"what": "reminders"})

    assert sorted(m.to[0] for m in mailoutbox) == ["a@exemple.fr", "b@exemple.fr", "b@exemple.fr"]
    assert "Rappel" in mailoutbox[-1].subject


def test_a_failed_sending_is_reported_and_can_be_retried(campaign, analyst, settings, mailoutbox):
    services.import_invitees(campaign=campaign, raw=b"a@exemple.fr\n")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there

    response = logged_in(analyst).post(reverse("studies:send", args=[campaign.uuid]), {"what": "invitations"}, follow=True)

    assert "en échec" in response.content.decode()
    invitee = Invitee.objects.get()
    assert invitee.sent_at is None and invitee.send_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    logged_in(analyst).post(reverse("studies:send", args=[campaign.uuid]), {"what": "invitations"})
    invitee.refresh_from_db()
    assert invitee.sent_at is not None and invitee.send_error == ""
    assert len(mailoutbox) == 1


def test_respondent_journey_through_a_personal_link(campaign, mailoutbox):
    services.import_invitees(campaign=campaign, raw=b"a@exemple.fr\n")
    invitee = Invitee.objects.get()
    token = services.invitee_token(invitee)
    client = Client()

    landing = client.get(reverse("studies:invited", args=[token]))
    no_consent = client.post(reverse("studies:invited", args=[token]), {"consent_version": "1"})
    started = client.post(reverse("studies:invited", args=[token]), {"consent_version": "1", "consent": "on"})
    respondent = Respondent.objects.get()
    bad_profile = client.post(reverse("studies:profile", args=[respondent.assessment.uuid]), {"structure": ["pirates"]})
    profile = client.post(reverse("studies:profile", args=[respondent.assessment.uuid]), {"structure": ["association"], "ingenieries": ["catalyse", "gestion-publique"]})

    assert landing.status_code == 200
    assert no_consent.status_code == 400
    assert started.status_code == 302
    assert bad_profile.status_code == 400
    assert profile.status_code == 302
    assert sorted(ProfileAnswer.objects.values_list("option", flat=True)) == ["association", "catalyse", "gestion-publique"]
    assert Respondent.objects.get().link_key == invitee.link_key
    # The respondent row carries no identity.
    assert "a@exemple.fr" not in str(Respondent.objects.values().get())


def test_unknown_link_gives_a_clear_page(db):
    response = Client().get(reverse("studies:invited", args=["inconnu"]))

    assert response.status_code == 404
    assert "Ce lien de participation ne fonctionne pas" in response.content.decode()


def test_answers_after_closing_are_refused(campaign):
    respondent = make_respondent(campaign, profile={"structure": ["commune"]}, levels={"1.1": "1"}, submit=False)
    Campaign.objects.filter(pk=campaign.pk).update(opens_at=timezone.now() - timedelta(days=9), closes_at=timezone.now() - timedelta(days=1))
    campaign.refresh_from_db()
    services.update_campaign(
        campaign=campaign, name=campaign.name, opens_at=campaign.opens_at, closes_at=campaign.closes_at,
        introduction="", consent_text=services.current_consent(campaign).text, threshold=5,
    )

    with pytest.raises(AssessmentLocked) as refused:
        save_answers(assessment=respondent.assessment, items=[AnswerInput(practice_code="1.1", level="3")])
    with pytest.raises(services.CampaignClosed):
        services.start_response(campaign=campaign, link_key="x" * 64, consent_version=1)

    assert "close" in str(refused.value)
    assert respondent.assessment.answers.get().level.code == "1"


def test_withdrawal_removes_the_answers_from_results(campaign, analyst, respondents):
    people = respondents(6)
    client = Client()
    from grille.assessments.selectors import SESSION_KEY

    session = client.session
    session[SESSION_KEY] = [str(people[0].assessment.uuid)]
    session.save()

    response = client.post(reverse("studies:withdraw", args=[people[0].assessment.uuid]))

    assert response.status_code == 302
    assert Respondent.objects.count() == 5
    board = logged_in(analyst).get(url("dashboard", campaign))
    assert "5 questionnaires complets" in board.content.decode()


def test_small_groups_are_suppressed_on_the_dashboard(campaign, analyst, respondents):
    respondents(6, structure="association")
    respondents(2, structure="commune")

    page = logged_in(analyst).get(url("dashboard", campaign) + "?comparer=structure").content.decode()
    filtered = logged_in(analyst).get(url("dashboard", campaign) + "?f_structure=commune").content.decode()

    assert "8 questionnaires complets" in page
    assert "Commune <span class=\"suppressed\">(s)</span>" in page
    assert "Moins de 5 répondants correspondent" in filtered


def test_unknown_filter_is_a_clear_400(campaign, analyst):
    response = logged_in(analyst).get(url("dashboard", campaign) + "?f_structure=pirates")

    assert response.status_code == 400
    assert "Filtre inconnu" in response.content.decode()


def test_dashboard_queries_do_not_grow_with_respondents(campaign, analyst, respondents):
    get_grid(campaign.version_id)
    client = logged_in(analyst)
    counts = []
    for n in (6, 30):
        respondents(n - sum(1 for _ in Respondent.objects.all()) if counts else n)
        client.get(url("dashboard", campaign) + "?comparer=structure")
        with CaptureQueriesContext(connection) as queries:
            client.get(url("dashboard", campaign) + "?comparer=structure")
        counts.append(len(queries))

    assert Respondent.objects.count() == 30
    assert counts[0] == counts[1]


def test_a_filter_that_leaves_out_a_small_group_shows_nothing(campaign, analyst, respondents):
    respondents(6, structure="association")
    respondents(2, structure="commune")

    # 8 in all minus 6 associations = 2 others: publishing the associations' figures would reveal them.
    page = logged_in(analyst).get(url("dashboard", campaign) + "?f_structure=association").content.decode()

    assert "Moins de 5 répondants correspondent à ces filtres, ou en sont exclus" in page
    assert "questionnaires complets" not in page


def test_filtered_cells_are_hidden_when_their_complement_is_small(campaign, analyst, respondents):
    from grille.studies.dashboard import build_dashboard

    respondents(6, structure="association", level="2")
    respondents(5, structure="commune", level="2")
    respondents(1, structure="commune", level="3")

    board = build_dashboard(campaign, filters={"structure": "association"})
    row = next(r for r in board.practices if r.practice.code == "1.1")
    shown = {option.code: cell for option, cell in row.levels}

    # Overall "3" = 1 and associations' "3" = 0: the complement cell is 1, so "2" may not betray it.
    assert shown["2"].suppressed
