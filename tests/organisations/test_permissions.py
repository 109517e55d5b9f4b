"""Who may do what in an organisation space (organisations/permissions.py), and the pages that
offer exactly what the predicates allow."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from grille.organisations import permissions, services
from grille.organisations.models import Membership


@pytest.fixture
def action(facilitator):
    return services.create_action(membership=facilitator, title="Cartographier les financeurs", practice_codes=["1.1"])


def signed_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_every_member_views_and_exports_the_team_map_and_nobody_else(facilitator, member):
    for predicate in (permissions.can_view_team, permissions.can_export_team):
        assert (predicate(facilitator), predicate(member), predicate(None)) == (True, True, False)


@pytest.mark.parametrize(
    "predicate", [permissions.can_manage_members, permissions.can_decide, permissions.can_manage_actions],
)
def test_facilitators_alone_manage_members_decide_and_plan(facilitator, member, predicate):
    assert (predicate(facilitator), predicate(member), predicate(None)) == (True, False, False)


def test_a_member_may_leave_and_a_facilitator_remove_anyone_of_the_organisation(facilitator, member, other_member, outsider):
    assert permissions.can_remove_member(member, member) is True
    assert permissions.can_remove_member(member, other_member) is False
    assert permissions.can_remove_member(facilitator, member) is True
    assert permissions.can_remove_member(outsider, member) is False
    assert permissions.can_remove_member(None, member) is False


def test_an_action_moves_by_its_owners_hand_or_a_facilitators(facilitator, member, other_member, outsider, action):
    action.owner = member
    action.save(update_fields=["owner"])

    allowed = [permissions.can_set_action_status(m, action) for m in (member, facilitator, other_member, outsider, None)]

    assert allowed == [True, True, False, False, False]


def test_the_service_refuses_what_the_predicate_refuses(member, other_member):
    with pytest.raises(services.NotAllowed):
        services.remove_member(by=member, target=other_member)

    assert Membership.objects.filter(pk=other_member.pk).exists()


def test_members_page_offers_administration_to_facilitators_only(facilitator, member):
    url = reverse("organisations:members", args=[facilitator.organisation.uuid])

    as_facilitator = signed_in(facilitator).get(url).content.decode()
    as_member = signed_in(member).get(url).content.decode()

    assert "Créer l'invitation" in as_facilitator and "Nommer animateur·rice" in as_facilitator
    assert "Créer l'invitation" not in as_member and "Nommer animateur·rice" not in as_member
    # Every member may leave.
    assert "Quitter la structure" in as_member


def test_action_plan_offers_the_status_form_to_the_actions_owner_and_editing_to_facilitators(
    facilitator, member, other_member, action
):
    action.owner = member
    action.save(update_fields=["owner"])
    url = reverse("organisations:actions", args=[facilitator.organisation.uuid])
    status_url = reverse("organisations:action_status", args=[facilitator.organisation.uuid, action.pk])
    edit_url = reverse("organisations:action_edit", args=[facilitator.organisation.uuid, action.pk])

    pages = {m.user.email: signed_in(m).get(url).content.decode() for m in (facilitator, member, other_member)}

    assert [f'action="{status_url}"' in page for page in pages.values()] == [True, True, False]
    assert [f'href="{edit_url}"' in page for page in pages.values()] == [True, False, False]


def test_decision_form_is_offered_to_facilitators_only(facilitator, member):
    url = reverse("organisations:decision", args=[facilitator.organisation.uuid, "1.1"])

    forms = ['class="decision-form"' in signed_in(m).get(url).content.decode() for m in (facilitator, member)]

    assert forms == [True, False]


def test_team_reports_are_offered_to_every_member(facilitator, member):
    url = reverse("organisations:home", args=[facilitator.organisation.uuid])
    report = reverse("organisations:report_pdf", args=[facilitator.organisation.uuid])

    assert [report in signed_in(m).get(url).content.decode() for m in (facilitator, member)] == [True, True]
