from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from grille.assessments.consents import withdraw_consents
from grille.assessments.exporters import assessment_to_dict
from grille.assessments.models import Assessment, ConsentRecord, PeerShare
from grille.assessments.peers import settle_pool
from grille.assessments.selectors import get_profile
from grille.core.links import absolute_url
from grille.core.mail import MailKind, send_templated_mail
from grille.core.tokens import hash_token, new_token
from grille.organisations.enums import Role
from grille.organisations.models import Invitation, Membership, Organisation, PracticeComment, Share
from grille.organisations.pools import pooled_organisations, settle_teams
from grille.studies.models import Campaign, Invitee, ProfileAnswer, Respondent
from grille.studies.pools import settle_campaign

from .models import API_TOKEN_NAME_MAX, ApiToken, LoginLink, User


class LoginLinkError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "unknown", "expired" or "used"


@dataclass(frozen=True)
class SignIn:
    """A used sign-in link: who signs in, where to go next ("" for the default), and whether the
    link is used in the browser that asked for it."""

    user: User
    next_path: str
    same_browser: bool


@transaction.atomic
def send_login_link(*, email: str, next_path: str = "", browser_key: str = "") -> None:
    """E-mail a single-use sign-in link, bound to the browser holding `browser_key` (if any)."""
    raw, digest = new_token()
    LoginLink.objects.create(
        email=email.strip().lower(),
        token_hash=digest,
        next_path=next_path[:500],
        browser_hash=hash_token(browser_key) if browser_key else "",
        expires_at=timezone.now() + timedelta(seconds=settings.LOGIN_LINK_MAX_AGE),
    )
    send_templated_mail(
        to=email,
        subject=_("Votre lien de connexion à Grille"),
        template="accounts/email_login.txt", kind=MailKind.SIGN_IN,
        context={"url": absolute_url(reverse("accounts:login_confirm", args=[raw])), "minutes": settings.LOGIN_LINK_MAX_AGE // 60},
    )


def asked_from(link: LoginLink, *, browser_key: str) -> bool:
    """Whether the browser holding `browser_key` is the one that asked for the link."""
    return bool(link.browser_hash and browser_key) and constant_time_compare(link.browser_hash, hash_token(browser_key))


def _usable(link: LoginLink | None) -> LoginLink:
    if link is None:
        raise LoginLinkError("unknown")
    if link.used_at is not None:
        raise LoginLinkError("used")
    if link.expires_at < timezone.now():
        raise LoginLinkError("expired")
    return link


@transaction.atomic
def consume_login_link(*, raw: str, browser_key: str = "") -> SignIn:
    """Use a sign-in link once; the person's account is created on first sign-in."""
    link = _usable(LoginLink.objects.select_for_update().filter(token_hash=hash_token(raw)).first())
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    user = User.objects.filter(email__iexact=link.email).first()
    if user is None:
        user = User.objects.create_user(link.email)
    return SignIn(user=user, next_path=link.next_path, same_browser=asked_from(link, browser_key=browser_key))


def check_login_link(*, raw: str) -> LoginLink:
    """The link if it can be used, without using it; raise LoginLinkError otherwise."""
    return _usable(LoginLink.objects.filter(token_hash=hash_token(raw)).first())


# --- How a person presents themselves ---------------------------------------------------------

PROFILE_FIELDS = ("display_name", "job_title", "affiliation")


def needs_profile_prompt(user: User) -> bool:
    """Whether to ask the person to present themselves: once, after their first sign-in."""
    return user.profile_prompted_at is None


@transaction.atomic
def save_profile(*, user: User, display_name: str, job_title: str = "", affiliation: str = "") -> User:
    """Set the person's name, job title and structure (each may be empty); ValidationError,
    keyed by field and with French messages, when one is refused, and nothing is saved.
    Answering the first-sign-in prompt this way counts as having been asked."""
    values = {"display_name": display_name, "job_title": job_title, "affiliation": affiliation}
    errors: dict[str, list[ValidationError]] = {}
    cleaned: dict[str, str] = {}
    for name, value in values.items():
        field = User._meta.get_field(name)
        assert isinstance(field, models.CharField)
        try:
            # Surrounding spaces go; a line break inside is refused by the validators, not hidden.
            cleaned[name] = field.clean(value.strip(), user)
        except ValidationError as exc:
            errors[name] = [exc]
    if errors:
        raise ValidationError(errors)
    for name, value in cleaned.items():
        setattr(user, name, value)
    if user.profile_prompted_at is None:
        user.profile_prompted_at = timezone.now()
    user.save(update_fields=[*PROFILE_FIELDS, "profile_prompted_at"])
    return user


@transaction.atomic
def skip_profile_prompt(*, user: User) -> None:
    """The person chose « Plus tard »: they are not asked again (« Mon compte » stays open)."""
    if user.profile_prompted_at is None:
        user.profile_prompted_at = timezone.now()
        user.save(update_fields=["profile_prompted_at"])


# --- Personal API tokens ---------------------------------------------------------------------

API_TOKEN_PREFIX_LENGTH = 8
API_TOKENS_ACTIVE_MAX = 20
# Recording every call would turn each API read into a write; a minute is precise enough to
# tell a person whether a token is still in use.
API_TOKEN_USE_PRECISION = timedelta(minutes=1)


class ApiTokenError(Exception):
    """A refused token request; the message is for the person, in their language."""

    status = 400


@transaction.atomic
def create_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a personal API token for `user`; returns the raw token, shown once and never stored."""
    name = name.strip()
    if not name:
        raise ApiTokenError(_("Donnez un nom à ce jeton, par exemple l'outil qui l'utilisera."))
    if len(name) > API_TOKEN_NAME_MAX:
        raise ApiTokenError(_("Le nom est trop long : %(limit)d caractères au plus.") % {"limit": API_TOKEN_NAME_MAX})
    # Lock the person's row so that two simultaneous requests cannot both pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= API_TOKENS_ACTIVE_MAX:
        raise ApiTokenError(
            _("Vous avez déjà %(limit)d jetons actifs : révoquez-en un avant d'en créer un autre.")
            % {"limit": API_TOKENS_ACTIVE_MAX}
        )
    raw, digest = new_token()
    token = ApiToken.objects.create(user=user, name=name, token_hash=digest, prefix=raw[:API_TOKEN_PREFIX_LENGTH])
    return token, raw


@transaction.atomic
def revoke_api_token(*, token: ApiToken) -> None:
    """Revoke a token for good; revoking it again changes nothing."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def authenticate_api_token(*, raw: str) -> User | None:
    """The active person a raw token belongs to, or None (unknown, revoked, person deactivated).

    Records when the token was last used, to the minute.
    """
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= API_TOKEN_USE_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- Personal data: export and erasure -------------------------------------------------------

# What erase_person() reports, and the model whose deleted rows each line counts.
ERASED_ROWS = {
    "account": "accounts.User",
    "assessments": "assessments.Assessment",
    "answers": "assessments.Answer",
    "resume_links": "assessments.ResumeLink",
    "peer_shares": "assessments.PeerShare",
    "memberships": "organisations.Membership",
    "shares": "organisations.Share",
    "organisation_invitations": "organisations.Invitation",
    "study_respondents": "studies.Respondent",
    "study_profile_answers": "studies.ProfileAnswer",
    "study_invitations": "studies.Invitee",
    "login_links": "accounts.LoginLink",
    "api_tokens": "accounts.ApiToken",
}


def _person_assessments(user: User) -> QuerySet[Assessment]:
    """The person's positionings: their own, and the study answers given without an account
    through the personal invitation link sent to their address."""
    invited = Invitee.objects.filter(
        email__iexact=user.email, campaign=OuterRef("study_respondent__campaign"),
        link_key=OuterRef("study_respondent__link_key"),
    )
    return Assessment.objects.filter(Q(owner=user) | (Q(owner__isnull=True) & Exists(invited)))


class ErasureRefused(Exception):
    """Erasing the person would leave something broken (an organisation without a facilitator)."""


def organisations_left_without_facilitator(user: User) -> list[Organisation]:
    """The organisations where the person is the only facilitator."""
    others = Membership.objects.filter(organisation=OuterRef("organisation"), role=Role.FACILITATOR).exclude(user=user)
    return [
        m.organisation
        for m in Membership.objects.filter(user=user, role=Role.FACILITATOR)
        .filter(~Exists(others)).select_related("organisation").order_by("organisation__name")
    ]


def check_erasure(user: User, successor: User | None) -> list[Organisation]:
    """The organisations the successor takes over (where the person is the only facilitator);
    ErasureRefused when there are some and no (other) successor."""
    orphaned = organisations_left_without_facilitator(user)
    if not orphaned:
        return orphaned
    names = ", ".join(f"« {o.name} »" for o in orphaned)
    if successor is None:
        raise ErasureRefused(
            _("Effacement refusé : cette personne est seul·e animateur·rice de %(names)s. Nommez d'abord "
              "un·e autre animateur·rice, ou indiquez un·e successeur·e.") % {"names": names}
        )
    if successor.pk == user.pk:
        raise ErasureRefused(_("Le ou la successeur·e doit être une autre personne que celle qui est effacée."))
    return orphaned


def _hand_over(user: User, successor: User | None) -> None:
    """Make the successor facilitator wherever the person is the only one, or refuse."""
    for organisation in check_erasure(user, successor):
        Membership.objects.update_or_create(
            organisation=organisation, user=successor, defaults={"role": Role.FACILITATOR}
        )


@transaction.atomic
def erase_person(*, user: User, successor: User | None = None) -> dict[str, int]:
    """Erase a person for good: the account, their positionings with answers, resume links and
    shares, their memberships, invitations and sign-in links sent to their address, their API
    tokens. Study respondents linked to their positionings go too, so their answers leave every
    aggregate at once. What they wrote in an organisation (comments, decisions) stays, without
    their name. Returns the number of rows erased, by kind (see ERASED_ROWS).

    An organisation is never left without a facilitator: where the person is the only one, the
    successor becomes facilitator, or without one the erasure is refused (ErasureRefused) and
    nothing is erased. The proofs of their consents stay, stamped withdrawn, without the person
    or the positioning (pseudonymous; README, « Données personnelles »).
    """
    _hand_over(user, successor)
    email = user.email
    erased: Counter[str] = Counter()
    # The pools their contributions leave: settled once the rows are gone, so that their
    # departure shows only as a whole batch (grille/disclosure/release.py).
    assessments = _person_assessments(user)
    campaigns = list(Campaign.objects.filter(respondents__assessment__in=assessments).distinct())
    teams = pooled_organisations(assessments)
    peer_versions = set(PeerShare.objects.filter(assessment__in=assessments).values_list("assessment__version_id", flat=True))
    withdraw_consents(assessments=assessments.values_list("pk", flat=True))
    ConsentRecord.objects.filter(user=user, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    for queryset in (
        _person_assessments(user),
        Invitee.objects.filter(email__iexact=email),
        Invitation.objects.filter(email__iexact=email),
        LoginLink.objects.filter(email__iexact=email),
        User.objects.filter(pk=user.pk),
    ):
        _total, by_model = queryset.delete()
        erased.update(by_model)
    for campaign in campaigns:
        settle_campaign(campaign)
    settle_teams(teams)
    for version_id in peer_versions:
        settle_pool(version_id)
    return {key: erased.get(label, 0) for key, label in ERASED_ROWS.items()}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_person(*, user: User) -> dict[str, Any]:
    """Everything Grille holds about a person, as JSON-ready data: the account, each positioning
    with its answers and profile (as in its own JSON export), memberships, shares, study
    participations, comments, API tokens and sign-in links (never a token itself)."""
    assessments = list(_person_assessments(user).select_related("version", "version__framework").order_by("created_at"))
    respondents = {
        r.assessment_id: r
        for r in Respondent.objects.filter(assessment__in=assessments).select_related("campaign", "consent")
    }
    profile_answers: dict[int, list[dict[str, str]]] = {}
    for answer in ProfileAnswer.objects.filter(respondent__in=respondents.values()).select_related("question"):
        profile_answers.setdefault(answer.respondent_id, []).append(
            {"question": answer.question.label, "reponse": answer.question.option_label(answer.option)}
        )
    peer_shares = {p.assessment_id: p for p in PeerShare.objects.filter(assessment__in=assessments)}
    consents = list(ConsentRecord.objects.filter(Q(user=user) | Q(assessment__in=assessments)).order_by("given_at", "pk"))
    studies = {
        str(c.uuid): c.name for c in Campaign.objects.filter(uuid__in=[r.scope for r in consents if r.scope])
    }

    def positioning(assessment: Assessment) -> dict[str, Any]:
        data = assessment_to_dict(assessment, get_profile(assessment))
        if (peer := peer_shares.get(assessment.pk)) is not None:
            data["comparaison_avec_les_pairs"] = {
                "type_de_structure": peer.structure_type,
                "version_du_consentement": peer.consent_version,
                "consenti_le": _iso(peer.consented_at),
            }
        if (respondent := respondents.get(assessment.pk)) is not None:
            data["etude"] = {
                "campagne": respondent.campaign.name,
                "vague": respondent.campaign.wave_year,
                "pseudonyme": respondent.pseudonym,
                "consentement": {"version": respondent.consent.version, "texte": respondent.consent.text},
                "consenti_le": _iso(respondent.consented_at),
                "profil": profile_answers.get(respondent.pk, []),
            }
        return data

    return {
        "format": "grille-donnees-personnelles/1",
        "exporte_le": _iso(timezone.now()),
        "compte": {
            "email": user.email,
            "nom_affiche": user.display_name,
            "fonction": user.job_title,
            "structure": user.affiliation,
            "presentation_proposee_le": _iso(user.profile_prompted_at),
            "inscrit_le": _iso(user.date_joined),
            "derniere_connexion": _iso(user.last_login),
            "actif": user.is_active,
            "equipe": user.is_staff,
        },
        "positionnements": [positioning(a) for a in assessments],
        "structures": [
            {"structure": m.organisation.name, "id": str(m.organisation.uuid), "role": m.role, "membre_depuis": _iso(m.joined_at)}
            for m in Membership.objects.filter(user=user).select_related("organisation").order_by("joined_at")
        ],
        "partages": [
            {
                "structure": s.organisation.name,
                "positionnement": str(s.assessment.uuid),
                "mode": s.mode,
                "version_du_consentement": s.consent_version,
                "partage_le": _iso(s.shared_at),
                "retire_le": _iso(s.withdrawn_at),
            }
            for s in Share.objects.filter(user=user).select_related("organisation", "assessment").order_by("shared_at")
        ],
        "invitations_a_une_etude": [
            {"campagne": i.campaign.name, "ajoutee_le": _iso(i.created_at), "envoyee_le": _iso(i.sent_at), "relance_le": _iso(i.reminded_at)}
            for i in Invitee.objects.filter(email__iexact=user.email).select_related("campaign").order_by("created_at")
        ],
        "commentaires": [
            {"structure": c.organisation.name, "pratique": c.practice.code, "texte": c.body, "ecrit_le": _iso(c.created_at)}
            for c in PracticeComment.objects.filter(author=user).select_related("organisation", "practice").order_by("created_at")
        ],
        "jetons_api": [
            {"nom": t.name, "debut": t.prefix, "cree_le": _iso(t.created_at), "utilise_le": _iso(t.last_used_at), "revoque_le": _iso(t.revoked_at)}
            for t in ApiToken.objects.filter(user=user).order_by("created_at")
        ],
        "consentements": [
            {
                "objet": record.get_kind_display(),
                "etude": studies.get(record.scope, ""),
                "pseudonyme": record.pseudonym,
                "version_du_texte": record.text_version,
                "donne_le": _iso(record.given_at),
                "retire_le": _iso(record.withdrawn_at),
            }
            for record in consents
        ],
        "liens_de_connexion": [
            {"cree_le": _iso(link.created_at), "expire_le": _iso(link.expires_at), "utilise_le": _iso(link.used_at)}
            for link in LoginLink.objects.filter(email__iexact=user.email).order_by("created_at")
        ],
    }
