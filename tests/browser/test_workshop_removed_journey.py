"""Issue 13, finding 11 in Chromium: the workshop page of a member who is removed while it is open
takes the team's figures off the screen, says why, and stops refreshing."""

from django.conf import settings
from django.test import Client

from grille.frameworks.selectors import get_default_version
from grille.organisations.enums import ShareMode
from grille.organisations.models import Membership
from grille.organisations.services import create_organisation, remove_member, share_assessment
from tests.organisations.conftest import join, make_person, submitted_positioning

from .conftest import assert_accessible


def signed_in_context(new_context, site: str, user):
    """A browser signed in as `user` (the sign-in journey itself is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    context = new_context()
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": site}])
    return context


def test_a_member_removed_while_the_workshop_is_open_stops_seeing_the_team(site, new_context):
    version = get_default_version()
    claire = make_person("claire@exemple.fr", "Claire Animatrice")
    organisation = create_organisation(user=claire, name="Pays des Deux Rives", structure_type="epci")
    facilitator = Membership.objects.get(organisation=organisation, user=claire)
    bruno = join(facilitator, make_person("bruno@exemple.fr", "Bruno Membre"))
    for membership, level in ((facilitator, "3"), (bruno, "2")):
        share_assessment(
            membership=membership, assessment=submitted_positioning(membership.user, version, {"1.1": level}),
            mode=ShareMode.NAMED,
        )
    page = signed_in_context(new_context, site, bruno.user).new_page()
    page.goto(f"{site}/organisations/{organisation.uuid}/atelier/")
    assert page.locator("[data-count]").inner_text() == "2"

    remove_member(by=facilitator, target=bruno)

    page.get_by_role("alert").filter(has_text="Vous ne faites plus partie de cette structure").wait_for(timeout=20_000)
    assert page.locator("[data-count]").count() == 0
    assert page.get_by_text("Par situation").count() == 0
    assert page.get_by_role("link", name="Mes structures").get_attribute("href") == "/organisations/"
    assert_accessible(page)
    page.screenshot(path="/tmp/workshop_removed.png")
    # No further refresh: the message stays, nothing is fetched again.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_timeout(5_000)
    assert not [url for url in requests if "/atelier/direct/" in url]


def test_a_workshop_whose_session_ended_says_so_instead_of_showing_the_sign_in_page(site, new_context):
    claire = make_person("claire@exemple.fr", "Claire Animatrice")
    organisation = create_organisation(user=claire, name="Pays des Deux Rives", structure_type="epci")
    context = signed_in_context(new_context, site, claire)
    page = context.new_page()
    page.goto(f"{site}/organisations/{organisation.uuid}/atelier/")

    context.clear_cookies()

    page.get_by_role("alert").filter(has_text="Votre session a pris fin").wait_for(timeout=20_000)
    assert page.get_by_label("Votre adresse e-mail").count() == 0  # the sign-in form is not swapped in
    link = page.get_by_role("link", name="Me reconnecter")
    assert link.get_attribute("href") == f"/organisations/{organisation.uuid}/atelier/"
