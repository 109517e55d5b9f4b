"""Every change in an organisation space goes through one of these functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grille.assessments.models import Assessment
from grille.core.enums import StructureType
from grille.core.links import absolute_url
from grille.core.mail import Mail, MailKind, queue_mails, send_templated_mail
from grille.core.people import person_intro
from grille.core.ratelimit import INVITATION_MAILS, RateLimited, user_sender
from grille.core.tabular.emails import EmailImport, parse_email_list, parse_pasted_addresses
from grille.core.tabular.reading import ImportFileError, LineError
from grille.core.tokens import hash_token, new_token
from grille.core.users import User
from grille.core.validators import SUBJECT_TEXT_MAX, single_line, validate_mailed_name
from grille.frameworks.selectors import get_default_version, get_grid

from .enums import (
    SHARE_CONSENT_VERSION,
    ActionStatus,
    DecisionMode,
    PartnerType,
    Role,
    ShareMode,
    TerritoryType,
)
from .models import (
    EMAIL_MAX,
    NAME_MAX,
    NOTE_MAX,
    ActionItem,
    Decision,
    DecisionRevision,
    Invitation,
    Membership,
    Organisation,
    PracticeComment,
    Share,
)
from .permissions import (
    can_decide,
    can_manage_actions,
    can_manage_members,
    can_remove_member,
    can_set_action_status,
)
from .pools import settle_team

INVITATION_MAX_DAYS = 90


class OrganisationError(Exception):
    """A refused change; the message is for the person, in their language."""

    status = 400


class NotAllowed(OrganisationError):
    status = 403


class InvitationError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "unknown", "revoked", "expired" or "used"


def _clean_text(value: str, *, label: str, max_length: int, required: bool = False) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise OrganisationError(_("« %(label)s » contient un caractère non autorisé.") % {"label": label})
    if required and not value:
        raise OrganisationError(_("« %(label)s » est obligatoire.") % {"label": label})
    if len(value) > max_length:
        raise OrganisationError(
            _("« %(label)s » est trop long : %(max)d caractères au plus.") % {"label": label, "max": max_length}
        )
    return value


def _clean_mailed_name(value: str, *, label: str, max_length: int) -> str:
    """A required name that invitations e-mail to others: also one line, without a web address."""
    value = _clean_text(value, label=label, max_length=max_length, required=True)
    try:
        validate_mailed_name(value)
    except ValidationError as exc:
        raise OrganisationError(
            _("« %(label)s » : %(problem)s") % {"label": label, "problem": exc.messages[0]}
        ) from None
    return value


def _require(allowed: bool) -> None:
    """Refuse a change the caller's role does not allow (permissions.py decides)."""
    if not allowed:
        raise NotAllowed(_("Seul·e un·e animateur·rice de la structure peut faire cette modification."))


@transaction.atomic
def create_organisation(*, user: User, name: str, structure_type: str, territory: str = "", territory_type: str = "") -> Organisation:
    """Create an organisation space; its creator is its first facilitator."""
    name = _clean_mailed_name(name, label=_("Nom"), max_length=NAME_MAX)
    territory = _clean_text(territory, label=_("Territoire"), max_length=NAME_MAX)
    if structure_type not in StructureType.values:
        raise OrganisationError(_("Choisissez un type de structure dans la liste."))
    if territory_type and territory_type not in TerritoryType.values:
        raise OrganisationError(_("Choisissez un type de territoire dans la liste."))
    version = get_default_version()
    if version is None:
        raise OrganisationError(_("Aucune grille publiée n'est chargée."))
    organisation = Organisation.objects.create(
        name=name, structure_type=structure_type, territory=territory, territory_type=territory_type, version=version
    )
    Membership.objects.create(organisation=organisation, user=user, role=Role.FACILITATOR)
    return organisation


def join_url(raw: str) -> str:
    """The invitation link, as mailed and as shown once to the facilitator."""
    return absolute_url(reverse("organisations:join", args=[raw]))


@transaction.atomic
def create_invitation(
    *, membership: Membership, email: str = "", days: int = 14, max_uses: int | None = 1
) -> tuple[Invitation, str]:
    """Create an invitation link (sent by e-mail when an address is given); the raw token is returned once.

    An e-mail counts against INVITATION_MAILS (per inviter, per address): past it, RateLimited is
    raised and nothing is saved nor queued.
    """
    _require(can_manage_members(membership))
    if not 1 <= days <= INVITATION_MAX_DAYS:
        raise OrganisationError(_("La durée de validité doit être comprise entre 1 et %(max)d jours.") % {"max": INVITATION_MAX_DAYS})
    if max_uses is not None and not 1 <= max_uses <= 1000:
        raise OrganisationError(_("Le nombre d'utilisations doit être compris entre 1 et 1000."))
    email = email.strip().lower()
    if email:
        try:
            if len(email) > EMAIL_MAX:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            raise OrganisationError(_("Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr.")) from None
    if email:
        INVITATION_MAILS.spend(sender=user_sender(membership.user_id), recipient=email)
    raw, digest = new_token()
    invitation = Invitation.objects.create(
        organisation=membership.organisation,
        email=email,
        token_hash=digest,
        created_by=membership.user,
        expires_at=timezone.now() + timedelta(days=days),
        max_uses=max_uses,
    )
    if email:
        _send_invitation(membership=membership, email=email, url=join_url(raw), days=days)
    return invitation, raw


def _send_invitation(*, membership: Membership, email: str, url: str, days: int) -> None:
    # The names were chosen by people: a row saved before the input check could hold a line
    # break, which must neither fail the sending nor forge a header. The body names the inviter
    # as they present themselves (« Name (structure) », grille/core/people.py) and, at the foot,
    # by their address, which Grille checked when they signed in.
    organisation_name = single_line(membership.organisation.name)
    inviter = membership.user
    introduction = single_line(person_intro(inviter))
    subject_name = single_line(organisation_name, max_length=SUBJECT_TEXT_MAX)
    if introduction:
        # Grille's own words open the subject; what people wrote comes after, cut short.
        subject = _("Invitation à rejoindre « %(name)s » sur Grille, de la part de %(inviter)s") % {
            "name": subject_name, "inviter": single_line(introduction, max_length=SUBJECT_TEXT_MAX),
        }
    else:
        subject = _("Invitation à rejoindre « %(name)s » sur Grille") % {"name": subject_name}
    send_templated_mail(
        to=email,
        subject=subject,
        template="organisations/email_invitation.txt", kind=MailKind.ORGANISATION_INVITATION,
        context={
            "organisation_name": organisation_name,
            "inviter_name": single_line(inviter.display_name),
            "inviter_introduction": introduction,
            "inviter_job_title": single_line(inviter.job_title),
            "inviter_email": inviter.email,
            "url": url,
            "days": days,
        },
    )


@transaction.atomic
def revoke_invitation(*, membership: Membership, invitation: Invitation) -> None:
    _require(can_manage_members(membership))
    if invitation.organisation_id != membership.organisation_id:
        raise NotAllowed(_("Cette invitation n'appartient pas à cette structure."))
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


# A batch is at most what one person may send in an hour (INVITATION_MAILS, per sender): a longer
# list is refused whole, with a message, rather than half sent.
INVITATION_BATCH_MAX = INVITATION_MAILS.per_sender.limit


@dataclass
class BatchInvitationReport:
    """What became of each address of a batch: invited, or why not."""

    invited: list[str] = field(default_factory=list)
    already_members: list[str] = field(default_factory=list)
    already_invited: list[str] = field(default_factory=list)  # an invitation sent earlier is still usable
    postponed: list[str] = field(default_factory=list)  # over the hourly limit of invitation e-mails
    retry_minutes: int = 0  # when the postponed ones may be sent
    errors: list[LineError] = field(default_factory=list)  # the lines that hold no usable address

    @property
    def not_invited(self) -> int:
        return len(self.already_members) + len(self.already_invited) + len(self.postponed) + len(self.errors)


def read_address_list(*, pasted: str = "", raw: bytes = b"") -> EmailImport:
    """A pasted list or an uploaded file, read by the same tolerant reader as a study's respondent
    lists (grille/core/tabular/emails.py); a file that cannot be read at all is refused."""
    try:
        return parse_pasted_addresses(pasted) if pasted.strip() else parse_email_list(raw)
    except ImportFileError as exc:
        raise OrganisationError(str(exc)) from None


@transaction.atomic
def invite_batch(*, membership: Membership, addresses: EmailImport, days: int = 14) -> BatchInvitationReport:
    """Invite every valid address of a list, each by its own single-use link (create_invitation).

    Addresses of members and of people whose invitation is still usable are skipped; addresses over
    the hourly limit of invitation e-mails are left for later; the lines without a usable address
    are listed. More than INVITATION_BATCH_MAX addresses: nothing is sent.
    """
    _require(can_manage_members(membership))
    if len(addresses.emails) > INVITATION_BATCH_MAX:
        raise OrganisationError(
            _(
                "La liste compte %(n)d adresses : vous pouvez en inviter %(max)d au plus à la fois (et %(max)d par "
                "heure). Rien n'a été envoyé : découpez la liste et envoyez la suite dans une heure."
            )
            % {"n": len(addresses.emails), "max": INVITATION_BATCH_MAX}
        )
    organisation = membership.organisation
    members = {email.lower() for email in Membership.objects.filter(organisation=organisation).values_list("user__email", flat=True)}
    now = timezone.now()
    pending = {
        email.lower()
        for email in Invitation.objects.filter(organisation=organisation, revoked_at__isnull=True, expires_at__gt=now)
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .exclude(email="")
        .values_list("email", flat=True)
    }
    report = BatchInvitationReport(errors=list(addresses.errors))
    for email in addresses.emails:
        if email in members:
            report.already_members.append(email)
        elif email in pending:
            report.already_invited.append(email)
        else:
            try:
                create_invitation(membership=membership, email=email, days=days)
            except RateLimited as exc:
                report.postponed.append(email)
                report.retry_minutes = max(report.retry_minutes, exc.minutes)
            else:
                report.invited.append(email)
    return report


# A member is reminded to share at most once a day, whoever asks.
REMINDER_INTERVAL = timedelta(days=1)


@transaction.atomic
def remind_members(*, membership: Membership) -> int:
    """E-mail a reminder to every other member who shares no positioning with the organisation and
    was not reminded in the last REMINDER_INTERVAL; returns how many are queued.

    The number is for tests and logs, not for the page: told to the facilitator, it would give the
    exact count of anonymous shares, which the team's figures only show approximately.
    """
    _require(can_manage_members(membership))
    organisation = membership.organisation
    now = timezone.now()
    sharing = Share.objects.filter(organisation=organisation, withdrawn_at__isnull=True).values("user_id")
    # Locked: two facilitators clicking at once remind each person once.
    due = list(
        Membership.objects.select_for_update(of=("self",))
        .filter(organisation=organisation)
        .exclude(pk=membership.pk)
        .exclude(user_id__in=sharing)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=now - REMINDER_INTERVAL))
        .select_related("user")
    )
    if not due:
        return 0
    organisation_name = single_line(organisation.name)
    sender = membership.user
    body = render_to_string("organisations/email_reminder.txt", {
        "organisation_name": organisation_name,
        "sender_name": single_line(sender.display_name),
        "sender_email": sender.email,
        "url": absolute_url(reverse("organisations:share", args=[organisation.uuid])),
    })
    subject = _("Rappel : partagez votre positionnement avec « %(name)s »") % {
        "name": single_line(organisation_name, max_length=SUBJECT_TEXT_MAX)
    }
    queue_mails(
        Mail(to=m.user.email, subject=subject, body=body, kind=MailKind.ORGANISATION_REMINDER, topic=f"membership:{m.pk}")
        for m in due
    )
    Membership.objects.filter(pk__in=[m.pk for m in due]).update(reminded_at=now)
    return len(due)


def find_invitation(raw: str) -> Invitation:
    """The usable invitation behind a link, or InvitationError with the reason."""
    invitation = Invitation.objects.select_related("organisation").filter(token_hash=hash_token(raw)).first()
    if invitation is None:
        raise InvitationError("unknown")
    if invitation.state != "active":
        raise InvitationError(invitation.state)
    return invitation


def accept_invitation(*, raw: str, user: User) -> Membership:
    """Join the organisation. Two people using a single-use link at once: exactly one gets in."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().select_related("organisation").filter(token_hash=hash_token(raw)).first()
        )
        if invitation is None:
            raise InvitationError("unknown")
        existing = Membership.objects.filter(organisation=invitation.organisation, user=user).first()
        if existing is not None:
            return existing
        if invitation.state != "active":
            raise InvitationError(invitation.state)
        # The conditional update is the guard on databases where the row lock above is a no-op.
        updated = Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True)
        if invitation.max_uses is not None:
            updated = updated.filter(uses__lt=invitation.max_uses)
        if updated.update(uses=F("uses") + 1) != 1:
            raise InvitationError("used")
        try:
            with transaction.atomic():
                return Membership.objects.create(organisation=invitation.organisation, user=user, role=Role.MEMBER)
        except IntegrityError:
            raise InvitationError("used") from None


def _facilitator_count(organisation: Organisation) -> int:
    return Membership.objects.filter(organisation=organisation, role=Role.FACILITATOR).count()


def _lock_team(by: Membership, target: Membership) -> tuple[Membership, Membership]:
    """Lock the team's memberships and re-read both people's roles from the locked rows,
    so two facilitators stepping down at once cannot leave the team without one."""
    locked = {m.pk: m for m in Membership.objects.select_for_update().filter(organisation=by.organisation_id)}
    if by.pk not in locked or target.pk not in locked:
        raise NotAllowed(_("Vous n'êtes plus membre de cette structure."))
    return locked[by.pk], locked[target.pk]


@transaction.atomic
def set_role(*, by: Membership, target: Membership, role: str) -> Membership:
    """Name or un-name a facilitator. There is always at least one facilitator."""
    if role not in Role.values:
        raise OrganisationError(_("Rôle inconnu."))
    if target.organisation_id != by.organisation_id:
        raise NotAllowed(_("Ce membre n'appartient pas à cette structure."))
    by, locked = _lock_team(by, target)
    _require(can_manage_members(by))
    if locked.role == Role.FACILITATOR and role != Role.FACILITATOR and _facilitator_count(by.organisation) <= 1:
        raise OrganisationError(_("La structure doit garder au moins un·e animateur·rice."))
    locked.role = target.role = role
    locked.save(update_fields=["role"])
    return locked


@transaction.atomic
def remove_member(*, by: Membership, target: Membership) -> None:
    """Remove a member (a facilitator removes anyone, a member may leave). Their shares are
    withdrawn, and the team's anonymous pool settles (pools.py)."""
    if target.organisation_id != by.organisation_id:
        raise NotAllowed(_("Ce membre n'appartient pas à cette structure."))
    by, target = _lock_team(by, target)
    _require(can_remove_member(by, target))
    if target.is_facilitator and _facilitator_count(target.organisation) <= 1:
        raise OrganisationError(
            _("Vous êtes le·la dernier·ère animateur·rice : nommez-en un·e autre avant de quitter la structure.")
        )
    Share.objects.filter(organisation=target.organisation, user=target.user, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )
    target.delete()
    settle_team(target.organisation)


@transaction.atomic
def share_assessment(*, membership: Membership, assessment: Assessment, mode: str) -> Share:
    """Show one submitted positioning to the organisation, with the member's name or anonymously.

    Replaces the member's previous share; the choice and the wording agreed to are recorded.
    An anonymous share enters the team's figures with the next batch (pools.py).
    """
    if mode not in ShareMode.values:
        raise OrganisationError(_("Choisissez de partager avec votre nom ou anonymement."))
    if assessment.owner_id != membership.user_id:
        raise NotAllowed(_("Vous ne pouvez partager que vos propres positionnements."))
    if not assessment.is_submitted:
        raise OrganisationError(_("Envoyez d'abord ce positionnement : seuls les positionnements envoyés se partagent."))
    if assessment.version_id != membership.organisation.version_id:
        raise OrganisationError(_("Ce positionnement a été fait sur une autre version de la grille que celle de la structure."))
    # Lock the member's row: two tabs sharing at once queue here instead of colliding on the
    # one-active-share constraint, and someone removed meanwhile cannot share any more.
    if Membership.objects.select_for_update().filter(pk=membership.pk).first() is None:
        raise NotAllowed(_("Vous n'êtes plus membre de cette structure."))
    active = Share.objects.filter(organisation=membership.organisation, user=membership.user, withdrawn_at__isnull=True)
    same = active.filter(assessment=assessment, mode=mode).first()
    if same is not None:
        # The same positioning, the same way: nothing changes (a new row would count as a
        # departure and hide the team's anonymous figures until the next batch).
        return same
    now = timezone.now()
    active.update(withdrawn_at=now)
    share = Share.objects.create(
        organisation=membership.organisation,
        user=membership.user,
        assessment=assessment,
        mode=mode,
        consent_version=SHARE_CONSENT_VERSION,
    )
    settle_team(membership.organisation)
    return share


@transaction.atomic
def withdraw_share(*, membership: Membership) -> int:
    """Withdraw the member's positioning from every team view and export, at once; the team's
    anonymous pool settles so that the change counts a whole batch (pools.py)."""
    withdrawn = Share.objects.filter(
        organisation=membership.organisation, user=membership.user, withdrawn_at__isnull=True
    ).update(withdrawn_at=timezone.now())
    settle_team(membership.organisation)
    return withdrawn


def _practice_id(organisation: Organisation, code: str) -> int:
    practice = get_grid(organisation.version_id).practice(code)
    if practice is None:
        raise OrganisationError(_("La pratique « %(code)s » n'existe pas dans cette grille.") % {"code": code})
    return practice.id


@transaction.atomic
def set_decision(
    *, membership: Membership, practice_code: str, mode: str, partner_types: list[str], partners: str = "", note: str = ""
) -> Decision:
    """Record the organisation's decision on one practice; every change is kept in the history."""
    _require(can_decide(membership))
    organisation = membership.organisation
    practice_id = _practice_id(organisation, practice_code)
    if mode not in DecisionMode.values:
        raise OrganisationError(_("Choisissez un arbitrage dans la liste."))
    unknown = [t for t in partner_types if t not in PartnerType.values]
    if unknown:
        raise OrganisationError(_("Type de partenaire inconnu : %(value)s.") % {"value": unknown[0]})
    if mode not in (DecisionMode.PARTNERSHIP, DecisionMode.BOTH):
        partner_types, partners = [], ""
    partners = _clean_text(partners, label=_("Partenaires locaux"), max_length=NOTE_MAX)
    note = _clean_text(note, label=_("Note"), max_length=NOTE_MAX)
    ordered_types = [t for t in PartnerType.values if t in set(partner_types)]
    decision, _created = Decision.objects.update_or_create(
        organisation=organisation,
        practice_id=practice_id,
        defaults={"mode": mode, "partner_types": ordered_types, "partners": partners, "note": note, "updated_by": membership.user},
    )
    DecisionRevision.objects.create(
        decision=decision, mode=mode, partner_types=ordered_types, partners=partners, note=note, changed_by=membership.user
    )
    return decision


@transaction.atomic
def add_comment(*, membership: Membership, practice_code: str, body: str) -> PracticeComment:
    """Any member may comment on a practice to feed the debate."""
    body = _clean_text(body, label=_("Commentaire"), max_length=NOTE_MAX, required=True)
    return PracticeComment.objects.create(
        organisation=membership.organisation,
        practice_id=_practice_id(membership.organisation, practice_code),
        author=membership.user,
        body=body,
    )


def _require_same_organisation(membership: Membership, action: ActionItem) -> None:
    if action.organisation_id != membership.organisation_id:
        raise NotAllowed(_("Cette action n'appartient pas à cette structure."))


def _action_fields(membership: Membership, *, title: str, practice_codes: list[str], owner_id: int | None,
                   due_date: date | None, status: str) -> tuple[dict, list[int]]:
    title = _clean_text(title, label=_("Action"), max_length=NAME_MAX, required=True)
    if status not in ActionStatus.values:
        raise OrganisationError(_("Statut inconnu."))
    owner = None
    if owner_id is not None:
        owner = Membership.objects.filter(pk=owner_id, organisation=membership.organisation).first()
        if owner is None:
            raise OrganisationError(_("Le·la responsable doit être membre de la structure."))
    practice_ids = [_practice_id(membership.organisation, code) for code in practice_codes]
    return {"title": title, "owner": owner, "due_date": due_date, "status": status}, practice_ids


@transaction.atomic
def create_action(*, membership: Membership, title: str, practice_codes: list[str], owner_id: int | None = None,
                  due_date: date | None = None, status: str = ActionStatus.TODO) -> ActionItem:
    """Add an action to the plan (facilitators)."""
    _require(can_manage_actions(membership))
    fields, practice_ids = _action_fields(
        membership, title=title, practice_codes=practice_codes, owner_id=owner_id, due_date=due_date, status=status
    )
    action = ActionItem.objects.create(organisation=membership.organisation, created_by=membership.user, **fields)
    action.practices.set(practice_ids)
    return action


@transaction.atomic
def update_action(*, membership: Membership, action: ActionItem, title: str, practice_codes: list[str],
                  owner_id: int | None, due_date: date | None, status: str) -> ActionItem:
    """Change an action (facilitators)."""
    _require(can_manage_actions(membership))
    _require_same_organisation(membership, action)
    fields, practice_ids = _action_fields(
        membership, title=title, practice_codes=practice_codes, owner_id=owner_id, due_date=due_date, status=status
    )
    for name, value in fields.items():
        setattr(action, name, value)
    action.save(update_fields=[*fields, "updated_at"])
    action.practices.set(practice_ids)
    return action


@transaction.atomic
def set_action_status(*, membership: Membership, action: ActionItem, status: str) -> ActionItem:
    """The action's owner, or a facilitator, moves it forward."""
    _require_same_organisation(membership, action)
    if not can_set_action_status(membership, action):
        raise NotAllowed(_("Seul·e le·la responsable de l'action ou un·e animateur·rice peut changer son statut."))
    if status not in ActionStatus.values:
        raise OrganisationError(_("Statut inconnu."))
    action.status = status
    action.save(update_fields=["status", "updated_at"])
    return action


@transaction.atomic
def delete_action(*, membership: Membership, action: ActionItem) -> None:
    _require(can_manage_actions(membership))
    _require_same_organisation(membership, action)
    action.delete()
