"""Study pages for analysts and respondents: access, bad input, suppression, closing, withdrawal."""

from __future__ import annotations

import re
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


def test_invitations_are_sent_once_and_reminders_skip_those_who_answered(
    campaign, analyst, mailoutbox, django_capture_on_commit_callbacks
):
    services.import_invitees(campaign=campaign, raw=b"a@exemple.fr\nb@exemple.fr\n")
    client = logged_in(analyst)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("studies:send", args=[campaign.uuid]), {"what": "invitations"})
        client.post(reverse("studies:send", args=[campaign.uuid]), {"what": "invitations"})
    link = next(m for m in mailoutbox if m.to == ["a@exemple.fr"]).body.split("/etude/i/")[1].split("/")[0]
    invitee = services.find_invitee(link)
    respondent = services.start_response(campaign=campaign, link_key=invitee.link_key, consent_version=1)
    save_answers(assessment=respondent.assessment, items=[AnswerInput(practice_code="1.1", level="2")])
    from grille.assessments.services import submit_assessment

    submit_assessment(assessment=respondent.assessment)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("studies:send", args=[campaign.uuid]), {"what": "reminders"})

    assert sorted(m.to[0] for m in mailoutbox) == ["a@exemple.fr", "b@exemple.fr", "b@exemple.fr"]
    assert "Rappel" in mailoutbox[-1].subject


def test_study_invitation_link_is_on_the_site_address(campaign, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://grille.exemple.fr"
    services.import_invitees(campaign=campaign, raw=b"a@exemple.fr\n")

    with django_capture_on_commit_callbacks(execute=True):
        services.send_invitations(campaign=campaign)

    assert re.search(r"https://grille\.exemple\.fr/etude/i/[\w-]+/\n", mailoutbox[0].body)


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


def _published(campaign) -> set[int]:
    return set(Respondent.objects.filter(campaign=campaign, released=True).values_list("pk", flat=True))


def _complete_count(page: str) -> int:
    match = re.search(r"≈ (\d+) questionnaires complets", page)
    assert match, "no respondent count on the page"
    return int(match.group(1))


def test_withdrawal_removes_the_answers_from_results(campaign, analyst, respondents):
    people = respondents(12)  # two batches of 5 published, 2 waiting
    before = _published(campaign)
    client = Client()
    from grille.assessments.grants import SESSION_KEY

    session = client.session
    session[SESSION_KEY] = [str(people[0].assessment.uuid)]
    session.save()

    response = client.post(reverse("studies:withdraw", args=[people[0].assessment.uuid]))

    assert response.status_code == 302
    assert Respondent.objects.count() == 11
    # The results minus one person would show who left: nothing is shown until the next batch.
    page = logged_in(analyst).get(url("dashboard", campaign)).content.decode()
    assert "Une personne a retiré sa participation" in page
    assert re.search(r"≈ \d+ questionnaires? complets?", page) is None
    respondents(3)  # with the 2 waiting, 5 new questionnaires: a batch
    after = _published(campaign)
    assert people[0].pk in before and people[0].pk not in after
    assert len(before ^ after) >= 5
    page = logged_in(analyst).get(url("dashboard", campaign)).content.decode()
    assert abs(_complete_count(page) - len(after)) <= 2


def test_small_groups_are_suppressed_on_the_dashboard(campaign, analyst, respondents):
    respondents(8, structure="association")
    respondents(2, structure="commune")

    page = logged_in(analyst).get(url("dashboard", campaign) + "?comparer=structure").content.decode()
    filtered = logged_in(analyst).get(url("dashboard", campaign) + "?f_structure=commune").content.decode()

    assert 8 <= _complete_count(page) <= 12
    assert "Commune</span> <span class=\"suppressed\">(s)</span>" in page
    assert "Moins de 5 répondants : aucun chiffre n&#x27;est diffusé." in filtered


def test_unknown_filter_is_a_clear_400(campaign, analyst):
    response = logged_in(analyst).get(url("dashboard", campaign) + "?f_structure=pirates")

    assert response.status_code == 400
    assert "Filtre inconnu" in response.content.decode()


def test_dashboard_queries_do_not_grow_with_respondents(campaign, analyst, respondents):
    get_grid(campaign.version_id)
    client = logged_in(analyst)
    counts = []
    for n in (15, 40):
        respondents(n - sum(1 for _ in Respondent.objects.all()) if counts else n)
        client.get(url("dashboard", campaign) + "?comparer=structure")
        with CaptureQueriesContext(connection) as queries:
            client.get(url("dashboard", campaign) + "?comparer=structure")
        counts.append(len(queries))

    assert Respondent.objects.count() == 40
    assert counts[0] == counts[1]


def test_a_filter_that_leaves_out_a_small_group_shows_nothing(campaign, analyst, respondents):
    respondents(8, structure="association")
    respondents(2, structure="commune")

    # 10 in all minus 8 associations = 2 others: publishing the associations' figures would reveal them.
    page = logged_in(analyst).get(url("dashboard", campaign) + "?f_structure=association").content.decode()

    assert "Ces filtres écartent entre 1 et 4 personnes" in page
    assert "questionnaires complets" not in page


def test_a_view_crossing_three_questions_is_refused(campaign, analyst, respondents):
    respondents(10)

    response = logged_in(analyst).get(
        url("dashboard", campaign) + "?f_structure=association&f_territoire=rural&comparer=region"
    )

    assert response.status_code == 400
    assert "Au plus 2 questions de profil à la fois" in response.content.decode()


def test_results_wait_for_a_whole_batch(campaign, analyst, respondents):
    respondents(5)
    first = _published(campaign)
    respondents(4)

    assert _published(campaign) == first
    respondents(1)
    assert len(_published(campaign)) == 10


def test_only_the_study_lead_downloads_microdata_and_each_download_is_recorded(
    campaign, analyst, respondents, django_capture_on_commit_callbacks,
):
    from django.contrib.auth.models import Permission

    from grille.files.models import GeneratedFile
    from grille.studies.models import MicrodataDownload

    respondents(3)
    second = User.objects.create_user(email="second@exemple.fr")
    second.user_permissions.add(Permission.objects.get(codename="run_studies"))
    campaign.analysts.add(second)

    refused = logged_in(second).get(reverse("studies:export_microdata", args=[campaign.uuid, "csv"]))
    refused_post = logged_in(second).post(reverse("studies:export_microdata", args=[campaign.uuid, "csv"]))
    page = logged_in(second).get(url("exports", campaign)).content.decode()
    # The file is built by a task (here at once, the tests' immediate backend), then downloaded.
    with django_capture_on_commit_callbacks(execute=True):
        logged_in(analyst).post(reverse("studies:export_microdata", args=[campaign.uuid, "csv"]))
    recorded_before_download = MicrodataDownload.objects.count()
    job = GeneratedFile.objects.get()
    allowed = logged_in(analyst).get(reverse("files:download", args=[job.uuid]))
    lines = b"".join(allowed.streaming_content).decode("utf-8-sig").splitlines()

    assert refused.status_code == refused_post.status_code == 403
    assert recorded_before_download == 0
    assert len(lines) == 4
    assert "Seul·e la ou le responsable de l&#x27;étude" in refused.content.decode()
    assert "microdonnees." not in page
    assert allowed.status_code == 200
    assert list(MicrodataDownload.objects.values_list("user_email", "fmt", "via", "rows")) == [
        (analyst.email, "csv", "web", 3)
    ]


def test_profile_answers_no_longer_change_once_the_questionnaire_is_sent(campaign, respondents):
    person = respondents(1)[0]

    with pytest.raises(services.StudyError, match="ne peut plus changer"):
        services.save_profile_answers(respondent=person, answers={"structure": ["commune"]})

    assert list(person.profile_answers.filter(question__code="structure").values_list("option", flat=True)) == ["association"]


def test_the_threshold_no_longer_changes_once_results_are_published(campaign, respondents):
    respondents(5)

    with pytest.raises(services.StudyError, match="ne change plus"):
        services.update_campaign(
            campaign=campaign, name=campaign.name, opens_at=campaign.opens_at, closes_at=campaign.closes_at,
            introduction="", consent_text="", threshold=7,
        )

    campaign.refresh_from_db()
    assert campaign.threshold == 5
