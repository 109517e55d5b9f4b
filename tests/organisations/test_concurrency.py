"""People acting on the same organisation at the same moment, each in their own thread and connection."""

import threading

import pytest
from django.db import connection

from grille.organisations.enums import Role, ShareMode
from grille.organisations.models import Invitation, Membership, Share
from grille.organisations.services import (
    InvitationError,
    OrganisationError,
    accept_invitation,
    create_invitation,
    remove_member,
    set_role,
    share_assessment,
)

from .conftest import make_person

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(functions) -> tuple[list, list[BaseException]]:
    """Start every function at the same instant; return their results and errors."""
    barrier = threading.Barrier(len(functions))
    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def wrap(function):
        try:
            barrier.wait()
            result = function()
            with lock:
                results.append(result)
        except BaseException as exc:  # noqa: BLE001 - reported by the tests
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_two_people_accepting_a_single_use_invitation_at_once_let_exactly_one_in(facilitator):
    invitation, raw = create_invitation(membership=facilitator, max_uses=1)
    people = [make_person("denise@exemple.fr"), make_person("emile@exemple.fr")]

    joined, errors = run_at_once([lambda user=user: accept_invitation(raw=raw, user=user) for user in people])

    assert [type(e) for e in errors] == [InvitationError]
    assert errors[0].reason == "used"
    assert len(joined) == 1
    members = list(Membership.objects.filter(organisation=facilitator.organisation, role=Role.MEMBER))
    assert [m.pk for m in members] == [joined[0].pk]
    assert members[0].user in people
    assert Invitation.objects.get(pk=invitation.pk).uses == 1


def test_many_people_on_a_limited_invitation_at_once_fill_exactly_its_uses(facilitator):
    invitation, raw = create_invitation(membership=facilitator, max_uses=3)
    people = [make_person(f"personne{i}@exemple.fr") for i in range(6)]

    joined, errors = run_at_once([lambda user=user: accept_invitation(raw=raw, user=user) for user in people])

    assert len(joined) == 3
    assert sorted((type(e).__name__, e.reason) for e in errors) == [("InvitationError", "used")] * 3
    assert Membership.objects.filter(organisation=facilitator.organisation, role=Role.MEMBER).count() == 3
    assert Invitation.objects.get(pk=invitation.pk).uses == 3


def test_two_facilitators_stepping_down_at_once_leave_one_facilitator(facilitator, add_member):
    pair = [facilitator, add_member("bruno@exemple.fr", "Bruno Membre")]
    # A few rounds: the window between counting facilitators and stepping down is narrow.
    for _round in range(5):
        Membership.objects.filter(pk__in=[m.pk for m in pair]).update(role=Role.FACILITATOR)
        for membership in pair:
            membership.role = Role.FACILITATOR

        changed, errors = run_at_once([lambda m=m: set_role(by=m, target=m, role=Role.MEMBER) for m in pair])

        assert (len(changed), [type(e) for e in errors]) == (1, [OrganisationError])
        assert Membership.objects.filter(organisation=facilitator.organisation, role=Role.FACILITATOR).count() == 1


def test_two_facilitators_removing_each_other_at_once_leave_one_facilitator(facilitator, add_member):
    second = add_member("bruno@exemple.fr", "Bruno Membre")
    second = set_role(by=facilitator, target=second, role=Role.FACILITATOR)

    _done, errors = run_at_once(
        [lambda: remove_member(by=facilitator, target=second), lambda: remove_member(by=second, target=facilitator)]
    )

    # The loser is told it cannot be done (NotAllowed is an OrganisationError: it may find itself removed).
    assert len(errors) == 1 and isinstance(errors[0], OrganisationError)
    remaining = list(Membership.objects.filter(organisation=facilitator.organisation).values_list("role", flat=True))
    assert remaining == [Role.FACILITATOR]


def test_one_member_sharing_from_two_tabs_at_once_keeps_one_active_share(member, positioning):
    assessments = [positioning(member.user, {"1.1": "1"}), positioning(member.user, {"1.1": "3"})]

    shared, errors = run_at_once(
        [lambda a=a: share_assessment(membership=member, assessment=a, mode=ShareMode.NAMED) for a in assessments]
    )

    assert (errors, len(shared)) == ([], 2)
    active = list(Share.objects.filter(organisation=member.organisation, user=member.user, withdrawn_at__isnull=True))
    assert len(active) == 1
    assert active[0].assessment in assessments
    assert Share.objects.filter(user=member.user).count() == 2


def test_a_member_removed_while_sharing_leaves_no_active_share(facilitator, member, positioning):
    assessment = positioning(member.user, {"1.1": "2"})

    _done, errors = run_at_once(
        [
            lambda: share_assessment(membership=member, assessment=assessment, mode=ShareMode.NAMED),
            lambda: remove_member(by=facilitator, target=member),
        ]
    )

    assert all(isinstance(e, OrganisationError) for e in errors)
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert Share.objects.filter(user=member.user, withdrawn_at__isnull=True).count() == 0
