"""Every change in an organisation space, through its service function."""

import base64
import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from grille.assessments.services import start_assessment
from grille.organisations.enums import SHARE_CONSENT_VERSION, ActionStatus, Role, ShareMode
from grille.organisations.models import (
    ActionItem,
    Decision,
    DecisionRevision,
    Invitation,
    Membership,
    Organisation,
    PracticeComment,
    Share,
)
from grille.organisations.selectors import comments_on, decision_history
from grille.organisations.services import (
    InvitationError,
    NotAllowed,
    OrganisationError,
    accept_invitation,
    add_comment,
    create_action,
    create_invitation,
    create_organisation,
    delete_action,
    find_invitation,
    remove_member,
    revoke_invitation,
    set_action_status,
    set_decision,
    set_role,
    share_assessment,
    update_action,
    withdraw_share,
)
from grille.organisations.team import build_team_map
from tests.factories import load_small_framework

from .conftest import make_person, submitted_positioning


def link_for(raw: str) -> str:
    """The invitation link as a person reads it in the e-mail (tests.settings.SITE_URL)."""
    return f"http://testserver/invitation/{raw}/"


def roles(organisation) -> list[tuple[str, str]]:
    return sorted(
        Membership.objects.filter(organisation=organisation).values_list("user__email", "role")
    )


# Organisations


def test_create_organisation_makes_its_creator_the_facilitator(version, facilitator_user):
    organisation = create_organisation(
        user=facilitator_user, name="  Communauté de communes du Val  ", structure_type="epci",
        territory="Val de Loire", territory_type="rural",
    )

    assert (organisation.name, organisation.structure_type, organisation.territory) == (
        "Communauté de communes du Val", "epci", "Val de Loire",
    )
    assert organisation.version == version
    assert roles(organisation) == [("alice@exemple.fr", Role.FACILITATOR)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"structure_type": "mairie"}, "Choisissez un type de structure dans la liste."),
        ({"territory_type": "lunaire"}, "Choisissez un type de territoire dans la liste."),
        ({"name": "   "}, "« Nom » est obligatoire."),
        ({"name": "Val\x00"}, "« Nom » contient un caractère non autorisé."),
        ({"name": "V" * 201}, "« Nom » est trop long : 200 caractères au plus."),
        ({"territory": "T" * 201}, "« Territoire » est trop long : 200 caractères au plus."),
    ],
)
def test_create_organisation_refuses_bad_input_and_creates_nothing(version, facilitator_user, fields, message):
    arguments = {"user": facilitator_user, "name": "Communauté de communes du Val", "structure_type": "epci"}

    with pytest.raises(OrganisationError) as caught:
        create_organisation(**(arguments | fields))

    assert str(caught.value) == message
    assert Organisation.objects.count() == 0
    assert Membership.objects.count() == 0


def test_create_organisation_accepts_a_name_of_exactly_the_maximum_length(version, facilitator_user):
    organisation = create_organisation(user=facilitator_user, name="V" * 200, structure_type="commune")

    assert Organisation.objects.get().name == "V" * 200 == organisation.name


def test_create_organisation_without_a_published_grid_is_refused(facilitator_user):
    with pytest.raises(OrganisationError) as caught:
        create_organisation(user=facilitator_user, name="Val", structure_type="epci")

    assert str(caught.value) == "Aucune grille publiée n'est chargée."
    assert Organisation.objects.count() == 0


# Invitations


def test_create_invitation_by_a_member_is_refused(member):
    with pytest.raises(NotAllowed):
        create_invitation(membership=member, email="denise@exemple.fr")

    assert Invitation.objects.filter(created_by=member.user).count() == 0


def test_create_invitation_stores_only_the_sha256_of_a_long_random_token(facilitator):
    invitation, raw = create_invitation(membership=facilitator)
    _other, other_raw = create_invitation(membership=facilitator)

    random_bytes = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    assert len(random_bytes) * 8 >= 128
    assert raw != other_raw
    stored = Invitation.objects.values().get(pk=invitation.pk)
    assert stored["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert [name for name, value in stored.items() if raw in str(value)] == []


def test_create_invitation_with_an_address_sends_the_email_once_committed(
    facilitator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invitation, raw = create_invitation(membership=facilitator, email="  Denise@Exemple.fr ")
        assert mailoutbox == []

    assert len(callbacks) == 1
    assert invitation.email == "denise@exemple.fr"
    assert [message.to for message in mailoutbox] == [["denise@exemple.fr"]]
    assert mailoutbox[0].subject == "Invitation à rejoindre « Communauté de communes du Val » sur Grille, de la part de Alice Animatrice"
    assert link_for(raw) in mailoutbox[0].body


def test_create_invitation_mails_a_link_on_the_site_address(
    facilitator, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://grille.exemple.fr/"

    with django_capture_on_commit_callbacks(execute=True):
        _invitation, raw = create_invitation(membership=facilitator, email="denise@exemple.fr")

    assert f"https://grille.exemple.fr/invitation/{raw}/\n" in mailoutbox[0].body


def test_create_invitation_without_an_address_sends_nothing(
    facilitator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invitation, _raw = create_invitation(membership=facilitator)

    assert (invitation.email, callbacks, mailoutbox) == ("", [], [])


@pytest.mark.parametrize("email", ["pas-une-adresse", "denise@exemple.fr\nBcc: x@y.fr", "d" * 250 + "@exemple.fr"])
def test_create_invitation_refuses_an_invalid_address(facilitator, mailoutbox, email):
    with pytest.raises(OrganisationError) as caught:
        create_invitation(membership=facilitator, email=email)

    assert str(caught.value) == "Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr."
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("days", [1, 14, 90])
def test_create_invitation_expires_after_the_chosen_number_of_days(facilitator, days):
    before = timezone.now()
    invitation, _raw = create_invitation(membership=facilitator, days=days)
    after = timezone.now()

    assert before + timedelta(days=days) <= invitation.expires_at <= after + timedelta(days=days)
    assert invitation.state == "active"


@pytest.mark.parametrize("days", [0, -3, 91])
def test_create_invitation_refuses_a_validity_out_of_bounds(facilitator, days):
    with pytest.raises(OrganisationError) as caught:
        create_invitation(membership=facilitator, days=days)

    assert str(caught.value) == "La durée de validité doit être comprise entre 1 et 90 jours."
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("max_uses", [0, 1001])
def test_create_invitation_refuses_a_number_of_uses_out_of_bounds(facilitator, max_uses):
    with pytest.raises(OrganisationError) as caught:
        create_invitation(membership=facilitator, max_uses=max_uses)

    assert str(caught.value) == "Le nombre d'utilisations doit être compris entre 1 et 1000."
    assert Invitation.objects.count() == 0


def test_accept_invitation_makes_the_person_a_member_and_uses_the_link(facilitator):
    invitation, raw = create_invitation(membership=facilitator)
    denise = make_person("denise@exemple.fr")

    membership = accept_invitation(raw=raw, user=denise)

    assert (membership.organisation, membership.user, membership.role) == (
        facilitator.organisation, denise, Role.MEMBER,
    )
    invitation.refresh_from_db()
    assert (invitation.uses, invitation.state) == (1, "used")


def _expire(invitation):
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def _revoke(invitation):
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())


def _use_up(invitation):
    Invitation.objects.filter(pk=invitation.pk).update(uses=1)


@pytest.mark.parametrize(
    ("spoil", "reason"), [(_revoke, "revoked"), (_expire, "expired"), (_use_up, "used")]
)
def test_accept_invitation_refuses_a_spent_link_with_the_reason(facilitator, spoil, reason):
    invitation, raw = create_invitation(membership=facilitator)
    spoil(invitation)
    uses_before = Invitation.objects.get(pk=invitation.pk).uses

    with pytest.raises(InvitationError) as caught:
        accept_invitation(raw=raw, user=make_person("denise@exemple.fr"))

    assert caught.value.reason == reason
    assert Invitation.objects.get(pk=invitation.pk).uses == uses_before
    assert roles(facilitator.organisation) == [("alice@exemple.fr", Role.FACILITATOR)]


def test_accept_invitation_refuses_an_unknown_link(facilitator):
    create_invitation(membership=facilitator)

    with pytest.raises(InvitationError) as caught:
        accept_invitation(raw="not-a-real-token", user=make_person("denise@exemple.fr"))

    assert caught.value.reason == "unknown"
    assert Membership.objects.count() == 1


def test_find_invitation_gives_the_reason_a_link_no_longer_works(facilitator):
    invitation, raw = create_invitation(membership=facilitator)
    assert find_invitation(raw) == invitation

    revoke_invitation(membership=facilitator, invitation=invitation)

    with pytest.raises(InvitationError) as caught:
        find_invitation(raw)
    assert caught.value.reason == "revoked"


def test_accept_invitation_lets_several_people_use_a_multi_use_link(facilitator):
    invitation, raw = create_invitation(membership=facilitator, max_uses=None)

    for email in ["denise@exemple.fr", "emile@exemple.fr", "fanny@exemple.fr"]:
        accept_invitation(raw=raw, user=make_person(email))

    invitation.refresh_from_db()
    assert (invitation.uses, invitation.state) == (3, "active")
    assert roles(facilitator.organisation) == [
        ("alice@exemple.fr", Role.FACILITATOR),
        ("denise@exemple.fr", Role.MEMBER),
        ("emile@exemple.fr", Role.MEMBER),
        ("fanny@exemple.fr", Role.MEMBER),
    ]


def test_accept_invitation_stops_a_limited_link_at_its_number_of_uses(facilitator):
    invitation, raw = create_invitation(membership=facilitator, max_uses=2)
    accept_invitation(raw=raw, user=make_person("denise@exemple.fr"))
    accept_invitation(raw=raw, user=make_person("emile@exemple.fr"))

    with pytest.raises(InvitationError) as caught:
        accept_invitation(raw=raw, user=make_person("fanny@exemple.fr"))

    assert caught.value.reason == "used"
    assert Invitation.objects.get(pk=invitation.pk).uses == 2
    assert Membership.objects.filter(organisation=facilitator.organisation).count() == 3


def test_accept_invitation_by_an_existing_member_does_not_use_the_link(facilitator, member):
    invitation, raw = create_invitation(membership=facilitator)

    again = accept_invitation(raw=raw, user=member.user)

    assert again == member
    assert Invitation.objects.get(pk=invitation.pk).uses == 0
    assert Membership.objects.filter(organisation=facilitator.organisation).count() == 2


def test_revoke_invitation_is_refused_to_a_member_and_to_another_organisation(facilitator, member, outsider):
    invitation, _raw = create_invitation(membership=facilitator)

    with pytest.raises(NotAllowed):
        revoke_invitation(membership=member, invitation=invitation)
    with pytest.raises(NotAllowed):
        revoke_invitation(membership=outsider, invitation=invitation)

    assert Invitation.objects.get(pk=invitation.pk).state == "active"


# Roles and leaving


def test_set_role_lets_a_facilitator_name_another_facilitator(facilitator, member):
    set_role(by=facilitator, target=member, role=Role.FACILITATOR)

    assert Membership.objects.get(pk=member.pk).role == Role.FACILITATOR


def test_set_role_refuses_a_member_raising_their_own_role(member):
    with pytest.raises(NotAllowed):
        set_role(by=member, target=member, role=Role.FACILITATOR)

    assert Membership.objects.get(pk=member.pk).role == Role.MEMBER


def test_set_role_refuses_an_unknown_role(facilitator, member):
    with pytest.raises(OrganisationError) as caught:
        set_role(by=facilitator, target=member, role="owner")

    assert str(caught.value) == "Rôle inconnu."
    assert Membership.objects.get(pk=member.pk).role == Role.MEMBER


def test_set_role_refuses_a_member_of_another_organisation(facilitator, outsider):
    with pytest.raises(NotAllowed):
        set_role(by=facilitator, target=outsider, role=Role.MEMBER)

    assert Membership.objects.get(pk=outsider.pk).role == Role.FACILITATOR


def test_set_role_keeps_the_last_facilitator(facilitator):
    with pytest.raises(OrganisationError) as caught:
        set_role(by=facilitator, target=facilitator, role=Role.MEMBER)

    assert str(caught.value) == "La structure doit garder au moins un·e animateur·rice."
    assert Membership.objects.get(pk=facilitator.pk).role == Role.FACILITATOR


def test_set_role_lets_one_of_two_facilitators_step_down(facilitator, member):
    set_role(by=facilitator, target=member, role=Role.FACILITATOR)

    set_role(by=facilitator, target=facilitator, role=Role.MEMBER)

    assert roles(facilitator.organisation) == [
        ("alice@exemple.fr", Role.MEMBER),
        ("bruno@exemple.fr", Role.FACILITATOR),
    ]


def test_remove_member_refuses_the_last_facilitator_leaving(facilitator, member):
    with pytest.raises(OrganisationError) as caught:
        remove_member(by=facilitator, target=facilitator)

    assert str(caught.value) == (
        "Vous êtes le·la dernier·ère animateur·rice : nommez-en un·e autre avant de quitter la structure."
    )
    assert Membership.objects.filter(organisation=facilitator.organisation).count() == 2


def test_remove_member_by_a_facilitator_withdraws_the_members_share(facilitator, member, share):
    shared = share(member, {"1.1": "3"})

    remove_member(by=facilitator, target=member)

    assert roles(facilitator.organisation) == [("alice@exemple.fr", Role.FACILITATOR)]
    shared.refresh_from_db()
    assert shared.withdrawn_at is not None
    team = build_team_map(facilitator.organisation)
    assert (team.contributors, team.stats("1.1").answered) == ([], 0)


def test_remove_member_lets_a_member_leave(facilitator, member):
    remove_member(by=member, target=member)

    assert roles(facilitator.organisation) == [("alice@exemple.fr", Role.FACILITATOR)]


def test_remove_member_refuses_a_member_removing_someone_else(facilitator, member, other_member):
    with pytest.raises(NotAllowed):
        remove_member(by=member, target=other_member)

    assert Membership.objects.filter(organisation=facilitator.organisation).count() == 3


def test_remove_member_refuses_a_member_of_another_organisation(facilitator, outsider):
    with pytest.raises(NotAllowed):
        remove_member(by=facilitator, target=outsider)

    assert Membership.objects.filter(pk=outsider.pk).exists()


# Shares


def test_share_assessment_records_the_choice_and_the_consent_wording(member, positioning):
    assessment = positioning(member.user, {"1.1": "2"})
    before = timezone.now()

    shared = share_assessment(membership=member, assessment=assessment, mode=ShareMode.ANONYMOUS)

    stored = Share.objects.get()
    assert stored == shared
    assert (stored.organisation, stored.user, stored.assessment, stored.mode) == (
        member.organisation, member.user, assessment, ShareMode.ANONYMOUS,
    )
    assert stored.consent_version == SHARE_CONSENT_VERSION
    assert before <= stored.shared_at <= timezone.now()
    assert stored.withdrawn_at is None


def test_share_assessment_refuses_someone_elses_positioning(facilitator, member, positioning):
    assessment = positioning(facilitator.user, {"1.1": "2"})

    with pytest.raises(NotAllowed):
        share_assessment(membership=member, assessment=assessment, mode=ShareMode.NAMED)

    assert Share.objects.count() == 0


def test_share_assessment_refuses_a_draft(member, version):
    draft, _raw = start_assessment(version=version, owner=member.user)

    with pytest.raises(OrganisationError) as caught:
        share_assessment(membership=member, assessment=draft, mode=ShareMode.NAMED)

    assert str(caught.value) == (
        "Envoyez d'abord ce positionnement : seuls les positionnements envoyés se partagent."
    )
    assert Share.objects.count() == 0


def test_share_assessment_refuses_a_positioning_on_another_grid_version(member):
    other_version = load_small_framework()
    assessment = submitted_positioning(member.user, other_version, {"A.1": "souvent"})

    with pytest.raises(OrganisationError) as caught:
        share_assessment(membership=member, assessment=assessment, mode=ShareMode.NAMED)

    assert str(caught.value) == (
        "Ce positionnement a été fait sur une autre version de la grille que celle de la structure."
    )
    assert Share.objects.count() == 0


def test_share_assessment_refuses_an_unknown_mode(member, positioning):
    assessment = positioning(member.user, {"1.1": "2"})

    with pytest.raises(OrganisationError):
        share_assessment(membership=member, assessment=assessment, mode="public")

    assert Share.objects.count() == 0


def test_share_assessment_by_someone_removed_meanwhile_is_refused(facilitator, member, positioning):
    assessment = positioning(member.user, {"1.1": "2"})
    remove_member(by=facilitator, target=member)

    with pytest.raises(NotAllowed) as caught:
        share_assessment(membership=member, assessment=assessment, mode=ShareMode.NAMED)

    assert str(caught.value) == "Vous n'êtes plus membre de cette structure."
    assert Share.objects.count() == 0


def test_share_assessment_again_replaces_the_previous_share(member, share):
    first = share(member, {"1.1": "1"})

    second = share(member, {"1.1": "3"}, mode=ShareMode.ANONYMOUS)

    first.refresh_from_db()
    assert first.withdrawn_at is not None
    active = Share.objects.filter(organisation=member.organisation, user=member.user, withdrawn_at__isnull=True)
    assert list(active) == [second]
    assert Share.objects.count() == 2


def test_withdraw_share_sets_the_withdrawal_date(member, share):
    shared = share(member, {"1.1": "2"})
    before = timezone.now()

    withdrawn = withdraw_share(membership=member)

    shared.refresh_from_db()
    assert withdrawn == 1
    assert before <= shared.withdrawn_at <= timezone.now()


def test_withdraw_share_without_a_share_changes_nothing(member):
    assert withdraw_share(membership=member) == 0


# Decisions and comments


def test_set_decision_by_a_member_is_refused(member):
    with pytest.raises(NotAllowed):
        set_decision(membership=member, practice_code="1.1", mode="in-house", partner_types=[])

    assert Decision.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"practice_code": "9.9"}, "La pratique « 9.9 » n'existe pas dans cette grille."),
        ({"mode": "sometimes"}, "Choisissez un arbitrage dans la liste."),
        ({"partner_types": ["association", "mafia"]}, "Type de partenaire inconnu : mafia."),
        ({"note": "N" * 4001}, "« Note » est trop long : 4000 caractères au plus."),
        ({"note": "Bien\x00"}, "« Note » contient un caractère non autorisé."),
        ({"partners": "P" * 4001}, "« Partenaires locaux » est trop long : 4000 caractères au plus."),
    ],
)
def test_set_decision_refuses_bad_input_and_saves_nothing(facilitator, fields, message):
    arguments = {"practice_code": "1.1", "mode": "partnership", "partner_types": ["association"]}

    with pytest.raises(OrganisationError) as caught:
        set_decision(membership=facilitator, **(arguments | fields))

    assert str(caught.value) == message
    assert (Decision.objects.count(), DecisionRevision.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("mode", "kept_types", "kept_partners"),
    [
        ("partnership", ["collectivite", "association"], "Mairie, centre social"),
        ("both", ["collectivite", "association"], "Mairie, centre social"),
        ("in-house", [], ""),
        ("not-priority", [], ""),
    ],
)
def test_set_decision_keeps_partners_only_for_partnership(facilitator, grid, mode, kept_types, kept_partners):
    decision = set_decision(
        membership=facilitator, practice_code="2.1", mode=mode,
        partner_types=["association", "collectivite", "association"], partners="Mairie, centre social",
        note="À revoir en juin",
    )

    stored = Decision.objects.get(pk=decision.pk)
    assert (stored.practice_id, stored.mode, stored.partner_types, stored.partners, stored.note) == (
        grid.practice("2.1").id, mode, kept_types, kept_partners, "À revoir en juin",
    )
    assert stored.updated_by == facilitator.user


def test_set_decision_keeps_every_change_in_the_history(facilitator, member, grid):
    set_role(by=facilitator, target=member, role=Role.FACILITATOR)
    set_decision(membership=facilitator, practice_code="3.2", mode="in-house", partner_types=[])
    before = timezone.now()

    set_decision(membership=member, practice_code="3.2", mode="partnership", partner_types=["fondation"], note="Avec la fondation")

    decision = Decision.objects.get()
    assert (decision.mode, decision.partner_types, decision.updated_by) == ("partnership", ["fondation"], member.user)
    history = list(decision_history(facilitator, grid.practice("3.2").id))
    assert [(r.mode, r.partner_types, r.note, r.changed_by) for r in history] == [
        ("partnership", ["fondation"], "Avec la fondation", member.user),
        ("in-house", [], "", facilitator.user),
    ]
    assert before <= history[0].changed_at <= timezone.now()


def test_add_comment_lets_any_member_feed_the_debate(facilitator, member, grid):
    add_comment(membership=member, practice_code="4.1", body="  On le fait déjà avec la MJC.  ")
    add_comment(membership=facilitator, practice_code="4.1", body="Noté.")

    comments = list(comments_on(facilitator, grid.practice("4.1").id))

    assert [(c.author, c.body) for c in comments] == [
        (member.user, "On le fait déjà avec la MJC."),
        (facilitator.user, "Noté."),
    ]


@pytest.mark.parametrize(
    ("practice_code", "body", "message"),
    [
        ("4.1", "   ", "« Commentaire » est obligatoire."),
        ("4.1", "C" * 4001, "« Commentaire » est trop long : 4000 caractères au plus."),
        ("0.0", "Bien", "La pratique « 0.0 » n'existe pas dans cette grille."),
    ],
)
def test_add_comment_refuses_bad_input(member, practice_code, body, message):
    with pytest.raises(OrganisationError) as caught:
        add_comment(membership=member, practice_code=practice_code, body=body)

    assert str(caught.value) == message
    assert PracticeComment.objects.count() == 0


# Action plan


def test_create_action_by_a_facilitator_adds_it_to_the_plan(facilitator, member, grid):
    due = timezone.localdate() + timedelta(days=30)

    action = create_action(
        membership=facilitator, title="Former l'équipe à la concertation", practice_codes=["1.1", "2.3"],
        owner_id=member.pk, due_date=due,
    )

    stored = ActionItem.objects.get(pk=action.pk)
    assert (stored.organisation, stored.title, stored.owner, stored.due_date, stored.status, stored.created_by) == (
        facilitator.organisation, "Former l'équipe à la concertation", member, due, ActionStatus.TODO, facilitator.user,
    )
    assert sorted(stored.practices.values_list("code", flat=True)) == ["1.1", "2.3"]


def test_create_action_by_a_member_is_refused(member):
    with pytest.raises(NotAllowed):
        create_action(membership=member, title="Une action", practice_codes=[])

    assert ActionItem.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "  "}, "« Action » est obligatoire."),
        ({"title": "A" * 201}, "« Action » est trop long : 200 caractères au plus."),
        ({"practice_codes": ["1.1", "12.4"]}, "La pratique « 12.4 » n'existe pas dans cette grille."),
        ({"status": "abandoned"}, "Statut inconnu."),
    ],
)
def test_create_action_refuses_bad_input(facilitator, fields, message):
    arguments = {"title": "Une action", "practice_codes": ["1.1"]}

    with pytest.raises(OrganisationError) as caught:
        create_action(membership=facilitator, **(arguments | fields))

    assert str(caught.value) == message
    assert ActionItem.objects.count() == 0


def test_create_action_refuses_an_owner_from_another_organisation(facilitator, outsider):
    with pytest.raises(OrganisationError) as caught:
        create_action(membership=facilitator, title="Une action", practice_codes=[], owner_id=outsider.pk)

    assert str(caught.value) == "Le·la responsable doit être membre de la structure."
    assert ActionItem.objects.count() == 0


@pytest.fixture
def action(facilitator, member):
    return create_action(membership=facilitator, title="Cartographier les acteurs", practice_codes=["1.1"], owner_id=member.pk)


def test_update_action_by_a_facilitator_changes_every_field(facilitator, other_member, action):
    due = timezone.localdate() + timedelta(days=7)

    update_action(
        membership=facilitator, action=action, title="Cartographier les acteurs locaux",
        practice_codes=["5.2", "6.1"], owner_id=other_member.pk, due_date=due, status=ActionStatus.IN_PROGRESS,
    )

    stored = ActionItem.objects.get(pk=action.pk)
    assert (stored.title, stored.owner, stored.due_date, stored.status) == (
        "Cartographier les acteurs locaux", other_member, due, ActionStatus.IN_PROGRESS,
    )
    assert sorted(stored.practices.values_list("code", flat=True)) == ["5.2", "6.1"]


def test_update_action_refuses_an_owner_from_another_organisation(facilitator, outsider, member, action):
    with pytest.raises(OrganisationError):
        update_action(
            membership=facilitator, action=action, title="Autre", practice_codes=[], owner_id=outsider.pk,
            due_date=None, status=ActionStatus.TODO,
        )

    stored = ActionItem.objects.get(pk=action.pk)
    assert (stored.title, stored.owner) == ("Cartographier les acteurs", member)


def test_update_and_delete_action_by_a_member_are_refused(member, action):
    with pytest.raises(NotAllowed):
        update_action(
            membership=member, action=action, title="Autre", practice_codes=[], owner_id=None,
            due_date=None, status=ActionStatus.DONE,
        )
    with pytest.raises(NotAllowed):
        delete_action(membership=member, action=action)

    assert ActionItem.objects.get(pk=action.pk).title == "Cartographier les acteurs"


def test_delete_action_by_a_facilitator_removes_it(facilitator, action):
    delete_action(membership=facilitator, action=action)

    assert ActionItem.objects.count() == 0


def test_actions_of_another_organisation_are_out_of_reach_of_its_facilitator(outsider, action):
    with pytest.raises(NotAllowed):
        update_action(
            membership=outsider, action=action, title="Piraté", practice_codes=[], owner_id=None,
            due_date=None, status=ActionStatus.DONE,
        )
    with pytest.raises(NotAllowed):
        set_action_status(membership=outsider, action=action, status=ActionStatus.DONE)
    with pytest.raises(NotAllowed):
        delete_action(membership=outsider, action=action)

    stored = ActionItem.objects.get(pk=action.pk)
    assert (stored.title, stored.status) == ("Cartographier les acteurs", ActionStatus.TODO)


def test_set_action_status_by_its_owner_moves_it_forward(member, action):
    set_action_status(membership=member, action=action, status=ActionStatus.IN_PROGRESS)

    assert ActionItem.objects.get(pk=action.pk).status == ActionStatus.IN_PROGRESS


def test_set_action_status_by_a_facilitator_moves_it_forward(facilitator, action):
    set_action_status(membership=facilitator, action=action, status=ActionStatus.DONE)

    assert ActionItem.objects.get(pk=action.pk).status == ActionStatus.DONE


def test_set_action_status_by_another_member_is_refused(other_member, action):
    with pytest.raises(NotAllowed):
        set_action_status(membership=other_member, action=action, status=ActionStatus.DONE)

    assert ActionItem.objects.get(pk=action.pk).status == ActionStatus.TODO


def test_set_action_status_refuses_an_unknown_status(member, action):
    with pytest.raises(OrganisationError) as caught:
        set_action_status(membership=member, action=action, status="abandoned")

    assert str(caught.value) == "Statut inconnu."
    assert ActionItem.objects.get(pk=action.pk).status == ActionStatus.TODO


def test_remove_member_leaves_their_actions_without_owner(facilitator, member, action):
    remove_member(by=facilitator, target=member)

    assert ActionItem.objects.get(pk=action.pk).owner is None


@pytest.mark.parametrize(
    ("days_from_today", "status", "overdue"),
    [
        (-1, ActionStatus.TODO, True),
        (-1, ActionStatus.IN_PROGRESS, True),
        (-1, ActionStatus.DONE, False),
        (0, ActionStatus.TODO, False),
        (1, ActionStatus.TODO, False),
        (None, ActionStatus.TODO, False),
    ],
)
def test_action_is_overdue_once_its_date_has_passed_unless_done(days_from_today, status, overdue):
    due = None if days_from_today is None else timezone.localdate() + timedelta(days=days_from_today)

    assert ActionItem(title="Une action", due_date=due, status=status).is_overdue is overdue

