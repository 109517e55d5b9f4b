"""Every page and action of an organisation space, for each kind of visitor."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grille.frameworks.selectors import get_grid
from grille.organisations import services
from grille.organisations.models import ActionItem, Decision, Membership, Organisation, Share

from .conftest import join, make_person

PAGES = [
    "home", "share", "members", "decisions", "actions", "workshop", "workshop_live", "report_pdf", "team_xlsx",
]


@pytest.fixture
def setting(facilitator, member):
    """An organisation with an invitation, an action and a decision, to aim every URL at."""
    invitation, _raw = services.create_invitation(membership=facilitator)
    action = services.create_action(membership=facilitator, title="Cartographier les financeurs", practice_codes=["1.1"])
    services.set_decision(membership=facilitator, practice_code="1.1", mode="in-house", partner_types=[])
    return {"org": facilitator.organisation, "invitation": invitation, "action": action, "member": member}


def client_for(membership: Membership | None) -> Client:
    client = Client()
    if membership is not None:
        client.force_login(membership.user)
    return client


def page_url(name: str, org: Organisation) -> str:
    return reverse(f"organisations:{name}", args=[org.uuid])


def post_targets(s: dict) -> list[tuple[str, dict, bool]]:
    """(url, data, facilitator only) for every state change of the organisation."""
    org = s["org"]
    u = org.uuid
    return [
        (reverse("organisations:invite", args=[u]), {"email": "", "days": "7"}, True),
        (reverse("organisations:revoke_invitation", args=[u, s["invitation"].pk]), {}, True),
        (reverse("organisations:role", args=[u, s["member"].pk]), {"role": "facilitator"}, True),
        (reverse("organisations:decision", args=[u, "1.2"]), {"mode": "partnership", "partner_types": ["association"]}, True),
        (reverse("organisations:actions", args=[u]), {"title": "Nouvelle action", "status": "todo"}, True),
        (reverse("organisations:action_edit", args=[u, s["action"].pk]), {"title": "Modifiée", "status": "todo"}, True),
        (reverse("organisations:action_delete", args=[u, s["action"].pk]), {}, True),
        (reverse("organisations:comment", args=[u, "1.2"]), {"body": "Un avis"}, False),
        (reverse("organisations:withdraw", args=[u]), {}, False),
    ]


@pytest.mark.parametrize("name", PAGES)
def test_pages_open_for_members_and_facilitators(setting, facilitator, name):
    for membership in (facilitator, setting["member"]):
        response = client_for(membership).get(page_url(name, setting["org"]))
        assert response.status_code == 200, (name, membership.role)


@pytest.mark.parametrize("name", PAGES)
def test_pages_are_404_for_a_member_of_another_organisation(setting, outsider, name):
    response = client_for(outsider).get(page_url(name, setting["org"]))

    assert response.status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_pages_send_anonymous_visitors_to_sign_in(setting, name):
    response = Client().get(page_url(name, setting["org"]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_decision_and_action_pages_are_404_for_outsiders(setting, outsider):
    u = setting["org"].uuid
    client = client_for(outsider)
    for url in (
        reverse("organisations:decision", args=[u, "1.1"]),
        reverse("organisations:action_edit", args=[u, setting["action"].pk]),
    ):
        assert client.get(url).status_code == 404


def test_every_change_is_404_for_outsiders_and_changes_nothing(setting, outsider):
    client = client_for(outsider)
    for url, data, _facilitator_only in post_targets(setting):
        assert client.post(url, data).status_code == 404, url
    assert ActionItem.objects.get().title == "Cartographier les financeurs"
    assert Decision.objects.count() == 1
    setting["invitation"].refresh_from_db()
    assert setting["invitation"].revoked_at is None


def test_facilitator_changes_are_403_for_members(setting):
    client = client_for(setting["member"])
    for url, data, facilitator_only in post_targets(setting):
        if facilitator_only:
            response = client.post(url, data)
            assert response.status_code == 403, url
            assert "Seul·e un·e animateur·rice".encode() in response.content
    setting["member"].refresh_from_db()
    assert setting["member"].role == "member"
    assert ActionItem.objects.get().title == "Cartographier les financeurs"


def test_member_comments_and_facilitator_decides(setting, facilitator):
    u = setting["org"].uuid
    comment = client_for(setting["member"]).post(reverse("organisations:comment", args=[u, "1.2"]), {"body": "<b>Avis</b>"})
    decide = client_for(facilitator).post(
        reverse("organisations:decision", args=[u, "1.2"]),
        {"mode": "partnership", "partner_types": ["association", "fondation"], "partners": "=HYPERLINK(\"x\")", "note": "<script>x</script>"},
    )
    page = client_for(setting["member"]).get(reverse("organisations:decision", args=[u, "1.2"]))

    assert comment.status_code == 302
    assert decide.status_code == 302
    decision = Decision.objects.get(practice__code="1.2")
    assert (decision.mode, decision.partner_types) == ("partnership", ["association", "fondation"])
    assert b"<script>x</script>" not in page.content
    assert b"&lt;script&gt;x&lt;/script&gt;" in page.content
    assert b"&lt;b&gt;Avis&lt;/b&gt;" in page.content
    assert decision.revisions.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "n-importe-quoi"}, "Sélectionnez un choix valide"),
        ({"mode": "partnership", "partner_types": ["pirates"]}, "Sélectionnez un choix valide"),
        ({"mode": "in-house", "note": "x" * 4001}, "4000"),
        ({"mode": "in-house", "note": "a\x00b"}, "caractère"),
    ],
)
def test_bad_decision_input_is_refused_and_keeps_the_previous_decision(setting, facilitator, data, message):
    response = client_for(facilitator).post(reverse("organisations:decision", args=[setting["org"].uuid, "1.1"]), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Decision.objects.get(practice__code="1.1").mode == "in-house"


def test_unknown_practice_is_404(setting, facilitator):
    response = client_for(facilitator).get(reverse("organisations:decision", args=[setting["org"].uuid, "9.9"]))

    assert response.status_code == 404


def test_creating_an_organisation_validates_its_input(db, version):
    client = client_for(None)
    client.force_login(make_person("nadia@exemple.fr"))

    empty = client.post(reverse("organisations:create"), {"name": "", "structure_type": "epci"})
    wrong_type = client.post(reverse("organisations:create"), {"name": "Réseau", "structure_type": "pirates"})
    good = client.post(reverse("organisations:create"), {"name": "=SUM(A1) <Réseau>", "structure_type": "association"})

    assert empty.status_code == 400
    assert wrong_type.status_code == 400
    assert good.status_code == 302
    organisation = Organisation.objects.get()
    assert organisation.name == "=SUM(A1) <Réseau>"
    page = client.get(reverse("organisations:home", args=[organisation.uuid]))
    assert "=SUM(A1) &lt;Réseau&gt;" in page.content.decode()


def test_action_owner_from_another_organisation_is_refused(setting, facilitator, outsider):
    response = client_for(facilitator).post(
        reverse("organisations:actions", args=[setting["org"].uuid]),
        {"title": "Action", "status": "todo", "owner": str(outsider.pk)},
    )

    assert response.status_code == 400
    assert ActionItem.objects.count() == 1


def test_sharing_needs_consent_and_a_submitted_positioning_of_ones_own(setting, positioning, facilitator):
    member = setting["member"]
    mine = positioning(member.user, {"1.1": "2"})
    theirs = positioning(facilitator.user, {"1.1": "3"})
    client = client_for(member)
    url = reverse("organisations:share", args=[setting["org"].uuid])

    no_consent = client.post(url, {"assessment": str(mine.uuid), "mode": "named"})
    not_mine = client.post(url, {"assessment": str(theirs.uuid), "mode": "named", "consent": "on"})
    shared = client.post(url, {"assessment": str(mine.uuid), "mode": "anonymous", "consent": "on"})

    assert no_consent.status_code == 400
    assert not_mine.status_code == 400
    assert shared.status_code == 302
    active = Share.objects.get(withdrawn_at__isnull=True)
    assert (active.assessment_id, active.mode, active.user_id) == (mine.pk, "anonymous", member.user_id)


def test_withdrawing_removes_the_answers_from_the_team_map_at_once(setting, share):
    member = setting["member"]
    share(member, {"1.1": "3"})
    client = client_for(member)
    home = reverse("organisations:home", args=[setting["org"].uuid])
    assert str(member.user).encode() in client.get(home).content

    client.post(reverse("organisations:withdraw", args=[setting["org"].uuid]))

    assert Share.objects.get().withdrawn_at is not None
    assert b"Bruno Membre</th>" not in client.get(home).content


def test_removed_member_loses_access_on_the_next_request(setting, facilitator):
    member = setting["member"]
    client = client_for(member)
    home = reverse("organisations:home", args=[setting["org"].uuid])
    assert client.get(home).status_code == 200

    client_for(facilitator).post(reverse("organisations:remove_member", args=[setting["org"].uuid, member.pk]))

    assert client.get(home).status_code == 404


def test_last_facilitator_cannot_leave(setting, facilitator):
    response = client_for(facilitator).post(
        reverse("organisations:remove_member", args=[setting["org"].uuid, facilitator.pk])
    )

    assert response.status_code == 400
    assert Membership.objects.filter(pk=facilitator.pk).exists()


def test_invitation_link_shows_a_sign_in_form_then_lets_the_person_join(setting, facilitator):
    _invitation, raw = services.create_invitation(membership=facilitator, max_uses=None)
    url = reverse("organisations:join", args=[raw])

    anonymous = Client().get(url)
    newcomer = client_for(None)
    newcomer.force_login(make_person("dora@exemple.fr"))
    confirm = newcomer.get(url)
    joined = newcomer.post(url)

    assert anonymous.status_code == 200
    assert b'name="next"' in anonymous.content
    assert confirm.status_code == 200
    assert joined.status_code == 302
    assert Membership.objects.filter(organisation=setting["org"], user__email="dora@exemple.fr", role="member").exists()


@pytest.mark.parametrize("state", ["unknown", "revoked", "used"])
def test_unusable_invitation_gives_a_clear_page(setting, facilitator, state):
    invitation, raw = services.create_invitation(membership=facilitator, max_uses=1)
    if state == "revoked":
        services.revoke_invitation(membership=facilitator, invitation=invitation)
    if state == "used":
        services.accept_invitation(raw=raw, user=make_person("eve@exemple.fr"))
    if state == "unknown":
        raw = raw[:-4] + "abcd"

    response = Client().get(reverse("organisations:join", args=[raw]))

    assert response.status_code == (404 if state == "unknown" else 410)
    assert "Cette invitation ne peut pas être utilisée" in response.content.decode()


def test_team_xlsx_and_pdf_are_real_files(setting, facilitator, share):
    share(facilitator, {"1.1": "3", "1.2": "1"})
    client = client_for(facilitator)

    pdf = client.get(reverse("organisations:report_pdf", args=[setting["org"].uuid]))
    xlsx = client.get(reverse("organisations:team_xlsx", args=[setting["org"].uuid]))

    assert pdf.content.startswith(b"%PDF")
    assert xlsx.content.startswith(b"PK")
    assert pdf["Cache-Control"] == "no-store"


def _add_sharing_members(facilitator, share, count: int, prefix: str) -> None:
    for i in range(count):
        membership = join(facilitator, make_person(f"{prefix}{i}@exemple.fr", f"Membre {prefix}{i}"))
        share(membership, {"1.1": str(i % 4), "2.1": "nc"})


@pytest.mark.parametrize("name", ["home", "decisions", "workshop_live"])
def test_team_pages_do_not_run_more_queries_for_a_bigger_team(version, facilitator, share, name):
    get_grid(version)
    client = client_for(facilitator)
    url = page_url(name, facilitator.organisation)
    share(facilitator, {"1.1": "2", "2.1": "3"})
    counts = []
    for count, prefix in ((2, "a"), (27, "b")):
        _add_sharing_members(facilitator, share, count, prefix)
        client.get(url)  # warm the session and the grid cache
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))

    assert Share.objects.filter(withdrawn_at__isnull=True).count() == 30
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    ("language", "protects", "cannot", "rules"),
    [
        (
            "fr", "Il vous protège des autres membres de la structure", "plusieurs comptes dans l'équipe",
            [
                "qu'à partir de 5 personnes",
                "par lots d'au moins 3 nouveaux partages anonymes",
                "ne sont plus montrés du tout après un retrait ou un départ jusqu'au lot suivant",
            ],
        ),
        (
            "en", "It protects you from the other members of the organisation", "controls several accounts in the team",
            [
                "from 5 people on",
                "in batches of at least 3 new anonymous shares",
                "are not shown at all after a withdrawal or a departure until the next batch",
            ],
        ),
    ],
)
def test_share_page_says_what_anonymity_protects_against_and_what_it_cannot(setting, language, protects, cannot, rules):
    response = client_for(setting["member"]).get(
        reverse("organisations:share", args=[setting["org"].uuid]), HTTP_ACCEPT_LANGUAGE=language
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert protects in text
    assert cannot in text
    paragraph = text.split(protects, 1)[1].split("</p>", 1)[0]
    for rule in rules:  # counted from five people, by batches of three new shares, hidden after a departure
        assert rule in paragraph


def test_share_page_option_says_anonymous_shares_count_from_five_by_batches_of_three(setting):
    text = client_for(setting["member"]).get(reverse("organisations:share", args=[setting["org"].uuid])).content.decode()

    assert (
        "Les partages anonymes n'y comptent qu'à partir de 5 personnes, et n'y entrent que par lots d'au moins 3 "
        "nouveaux partages." in text
    )
    assert "par lots d'au moins 5" not in text


def test_team_pages_say_waiting_anonymous_shares_count_from_five_by_batches_of_three(setting, facilitator, share):
    for i in range(2):
        share(join(facilitator, make_person(f"discret{i}@exemple.fr", f"Discret {i}")), {"1.1": "2"}, mode="anonymous")
    client = client_for(facilitator)

    home = client.get(reverse("organisations:home", args=[setting["org"].uuid])).content.decode()
    live = client.get(reverse("organisations:workshop_live", args=[setting["org"].uuid])).content.decode()

    assert (
        "2 positionnements partagés anonymement en attente : les partages anonymes ne comptent dans les chiffres "
        "de l'équipe qu'à partir de 5 personnes, et n'y entrent que par lots d'au moins 3 nouveaux partages" in home
    )
    assert "+ 2 anonymes en attente (anonymes comptés à partir de 5, par lots de 3 nouveaux)" in live
    assert "déjà compté a été retiré" not in home


def test_team_page_marks_figures_with_the_anonymous_pool_as_approximate(setting, facilitator, share):
    share(facilitator, {"1.1": "3"})
    home = reverse("organisations:home", args=[setting["org"].uuid])
    client = client_for(facilitator)
    before = client.get(home).content.decode()
    for i in range(9):  # three batches: nine people read 7 to 11 after noise, always shown
        share(join(facilitator, make_person(f"discret{i}@exemple.fr", f"Discret {i}")), {"1.1": "2"}, mode="anonymous")

    after = client.get(home).content.decode()

    assert "≈" not in before and "perturbation aléatoire" not in before
    assert "(dont ≈ " in after
    assert after.count("perturbation aléatoire") == 2  # under the situations and the practices tables
    assert "moins de 5 n'y sont pas comptés" in after
    assert "/protection-des-donnees/" in after
    assert "Discret" not in after


def test_team_pages_hide_the_anonymous_figures_after_a_departure_until_the_next_batch(setting, facilitator, share):
    share(facilitator, {"1.1": "3"})
    home = reverse("organisations:home", args=[setting["org"].uuid])
    live = reverse("organisations:workshop_live", args=[setting["org"].uuid])
    client = client_for(facilitator)
    anonymous = [join(facilitator, make_person(f"discret{i}@exemple.fr", f"Discret {i}")) for i in range(12)]
    for membership in anonymous[:9]:
        share(membership, {"1.1": "2"}, mode="anonymous")
    assert "(dont ≈ " in client.get(home).content.decode()

    services.withdraw_share(membership=anonymous[0])

    withheld = client.get(home).content.decode()
    assert "≈" not in withheld and "(dont" not in withheld
    assert "Un partage anonyme déjà compté a été retiré" in withheld
    assert "prochain lot d'au moins 3 nouveaux partages anonymes" in withheld
    assert "8 positionnements partagés anonymement en attente" in withheld
    assert "masqués jusqu'au prochain lot de 3 nouveaux" in client.get(live).content.decode()
    for membership in anonymous[9:11]:  # two brand-new shares: not yet a batch
        share(membership, {"1.1": "2"}, mode="anonymous")
    assert "Un partage anonyme déjà compté a été retiré" in client.get(home).content.decode()

    share(anonymous[11], {"1.1": "2"}, mode="anonymous")

    released = client.get(home).content.decode()
    assert "(dont ≈ " in released
    assert "déjà compté a été retiré" not in released and "en attente" not in released
