"""Who may open what: every URL of the site and every API operation, for each role.

The matrix is complete by construction: the URL patterns come from the resolver and the API
operations from the OpenAPI schema, and a pattern or an operation missing from the matrix fails
the test. Adding a page means saying here who may open it.

Each expectation also names the rule of the code that decides it: the permission predicates of
the apps (permissions.py) over the caller's scope, as the scoped selectors read it. For every
role, the rule must let the person through exactly when the expected status is not a refusal,
so that the matrix and the code cannot disagree silently.

Each request runs in a savepoint that is rolled back, so that a deletion or a change made by an
allowed role leaves the objects as they were for the next one. Every answer is also checked
for the security headers (see check_headers).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from grille.accounts.selectors import api_tokens_for
from grille.api.api import api
from grille.assessments.selectors import owned_by
from grille.core.users import AnyUser
from grille.files.enums import FileStatus
from grille.files.models import GeneratedFile
from grille.organisations import permissions as team_permissions
from grille.organisations.models import Membership, WorkshopSession
from grille.organisations.selectors import memberships_for
from grille.studies import permissions as study_permissions
from grille.studies.models import Campaign
from grille.studies.selectors import campaigns_for

from .conftest import ROLES, World

LOGIN = "sign-in"  # 302 to the sign-in page, with the page asked for as `next`
SIGNED = ROLES[1:]
BOGUS_TOKEN = "jeton-inconnu-0000000000000000"
# The answers that turn someone away; any other (a page, a redirect, a 400 on bad input) lets them in.
REFUSED: frozenset[int | str] = frozenset({LOGIN, 401, 403, 404})

Rule = Callable[[World, AnyUser], bool]  # whether the code lets this person through
TeamRule = Callable[[World, Membership | None], bool]
StudyRule = Callable[[AnyUser, Campaign], bool]


@dataclass(frozen=True)
class Expect:
    """What each role gets back, and the rule that decides it."""

    statuses: dict[str, int | str]
    rule: Rule


@dataclass
class Case:
    """One request, and what each role must get back."""

    method: str
    url: Callable[[World], str]
    expect: Expect
    data: Callable[[World], dict[str, Any]] | None = None
    private: bool = False  # someone's answers or data: never stored by a cache
    label: str = ""


def anyone(w: World, user: AnyUser) -> bool:
    return True


def no_one(w: World, user: AnyUser) -> bool:
    return False


def is_signed_in(w: World, user: AnyUser) -> bool:
    return user.is_authenticated


def everyone(status: int, **overrides: int) -> Expect:
    return Expect({**dict.fromkeys(ROLES, status), **overrides}, anyone)


def nobody(status: int = 404) -> Expect:
    """An unknown link or address: it lets no one in."""
    return Expect(dict.fromkeys(ROLES, status), no_one)


def signed_in(status: int = 200, *, rule: Rule = is_signed_in, anonymous: int | str = LOGIN, **overrides: int) -> Expect:
    return Expect({"anonymous": anonymous, **dict.fromkeys(SIGNED, status), **overrides}, rule)


def runs_studies(w: World, user: AnyUser) -> bool:
    return study_permissions.can_run_studies(user)


def role(predicate: Callable[[Membership | None], bool]) -> TeamRule:
    """A predicate of organisations/permissions.py about the caller's role alone."""
    return lambda w, membership: predicate(membership)


IN_TEAM = role(lambda membership: membership is not None)  # what every member may do


def team(member: int = 200, facilitator: int = 200, *, may: TeamRule, anonymous: int | str = LOGIN) -> Expect:
    """An organisation's page: its members, nobody else (404 as for a missing one); `may` says
    which of them, given the caller's membership as the scoped selector reads it."""

    def rule(w: World, user: AnyUser) -> bool:
        return may(w, memberships_for(user).filter(organisation=w.org).first())

    statuses = {"anonymous": anonymous, **dict.fromkeys(SIGNED, 404), "member": member, "facilitator": facilitator}
    return Expect(statuses, rule)


def study(analyst: int = 200, *, may: StudyRule | None = None, anonymous: int | str = LOGIN) -> Expect:
    """A campaign's page: its analysts only (an administrator is not one of them); `may` narrows
    it further with a predicate of studies/permissions.py."""

    def rule(w: World, user: AnyUser) -> bool:
        analyses = campaigns_for(user).filter(pk=w.campaign.pk).exists()
        return analyses and (may is None or may(user, w.campaign))

    return Expect({"anonymous": anonymous, **dict.fromkeys(SIGNED, 404), "analyst": analyst}, rule)


def owned(of: Callable[[World], Any], owner: int = 200, anonymous: int | str = 404) -> Expect:
    """A person's own positioning: everyone else gets the 404 of a missing one."""

    def rule(w: World, user: AnyUser) -> bool:
        return owned_by(user).filter(uuid=of(w)).exists()

    return Expect({**dict.fromkeys(ROLES, 404), "anonymous": anonymous, "owner": owner}, rule)


def own_token(owner: int) -> Expect:
    """A person's own API token."""

    def rule(w: World, user: AnyUser) -> bool:
        return user.is_authenticated and api_tokens_for(user).filter(pk=w.owner_api_token.pk).exists()

    return Expect({**dict.fromkeys(SIGNED, 404), "anonymous": LOGIN, "owner": owner}, rule)


def u(name: str, *args: Callable[[World], Any]) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[arg(w) for arg in args])


def const(value: Any) -> Callable[[World], Any]:
    return lambda w: value


org = lambda w: w.org.uuid  # noqa: E731
draft = lambda w: w.draft.uuid  # noqa: E731
done = lambda w: w.submitted.uuid  # noqa: E731
campaign = lambda w: w.campaign.uuid  # noqa: E731
respondent = lambda w: w.respondent.assessment.uuid  # noqa: E731


def ready_report(w: World) -> Any:
    """A study report the worker has built (grille/files): its rights are the campaign's."""
    subject = f"campaign:{w.campaign.uuid}"
    job = GeneratedFile.objects.filter(subject=subject).first()
    if job is None:
        job = GeneratedFile(
            owner=w.campaign.lead, kind="study-report-pdf", subject=subject, status=FileStatus.READY, attempt=1,
            progress=100, filename="rapport-etude-2024.pdf", expires_at=timezone.now() + timedelta(hours=1),
        )
        job.file.save("rapport.pdf", ContentFile(b"%PDF-1.7 test"), save=False)
        job.size = job.file.size
        job.save()
    return job.uuid


def guided_session(w: World) -> Any:
    """The organisation's open guided workshop (organisations/guided.py), on two practices."""
    session = WorkshopSession.objects.filter(organisation=w.org, ended_at__isnull=True).first()
    if session is None:
        session = WorkshopSession.objects.create(
            organisation=w.org, agenda=["1.1", "1.2"], ordering="grid", started_at=timezone.now(), current_since=timezone.now(),
        )
    return session.pk


def upload(content: bytes) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"file": SimpleUploadedFile("fichier.csv", content, content_type="text/csv")}


CAMPAIGN_FORM = {
    "name": "Nouvelle étude", "wave_year": "2025", "opens_at": "2025-01-01T00:00", "closes_at": "2035-01-01T00:00",
    "introduction": "", "consent_text": "J'accepte.", "threshold": "5",
}

# Every named URL of the site (the API and the admin have their own rules below).
PAGES: dict[str, list[Case]] = {
    "pages:home": [Case("GET", u("pages:home"), everyone(200))],
    "pages:framework": [Case("GET", u("pages:framework"), everyone(200))],
    "pages:protection": [Case("GET", u("pages:protection"), everyone(200))],
    "frameworks:crosswalk": [Case("GET", u("frameworks:crosswalk", lambda w: w.crosswalk.pk), everyone(200))],
    "set_language": [Case("POST", u("set_language"), everyone(302), lambda w: {"language": "fr", "next": "/"})],
    # Positionings: their owner only; the resume link is the key of whoever holds it.
    "assessments:list": [Case("GET", u("assessments:list"), everyone(200), private=True)],
    "assessments:start": [
        Case("POST", u("assessments:start"), everyone(302)),
        Case("POST", u("assessments:start"), owned(done, 302), lambda w: {"depuis": str(w.submitted.uuid)},
             label="from the answers of a sent positioning"),
    ],
    "assessments:compare": [
        Case("GET", lambda w: reverse("assessments:compare") + f"?avant={w.draft.uuid}&apres={w.submitted.uuid}",
             owned(done), private=True),
    ],
    "assessments:resume": [
        Case("GET", lambda w: reverse("assessments:resume", args=[w.resume_raw]), everyone(302), private=True),
        Case("GET", u("assessments:resume", const(BOGUS_TOKEN)), nobody(), private=True, label="unknown link"),
    ],
    "assessments:resume_link": [Case("GET", u("assessments:resume_link", draft), owned(draft), private=True)],
    "assessments:renew_link": [Case("POST", u("assessments:renew_link", draft), owned(draft, 302))],
    "assessments:send_link": [
        Case("POST", u("assessments:send_link", draft), owned(draft, 302), lambda w: {"token": w.resume_raw, "email": "moi@exemple.fr"}, private=True),
    ],
    "assessments:step": [
        Case("GET", u("assessments:step", draft, const(1)), owned(draft), private=True),
        Case("POST", u("assessments:step", draft, const(1)), owned(draft, 302), lambda w: {"1.1-niveau": "3"}, private=True),
    ],
    "assessments:autosave": [
        Case("POST", u("assessments:autosave", draft, const("1.1")), owned(draft), lambda w: {"1.1-niveau": "3"}, private=True),
    ],
    "assessments:recap": [Case("GET", u("assessments:recap", draft), owned(draft), private=True)],
    "assessments:submit": [Case("POST", u("assessments:submit", draft), owned(draft, 302))],
    "assessments:profile": [Case("GET", u("assessments:profile", done), owned(done), private=True)],
    "assessments:profile_pdf": [Case("GET", u("assessments:profile_pdf", done), owned(done), private=True)],
    "assessments:export_json": [Case("GET", u("assessments:export_json", done), owned(done), private=True)],
    "assessments:delete": [
        Case("GET", u("assessments:delete", done), owned(done), private=True),
        Case("POST", u("assessments:delete", done), owned(done, 302), private=True),
    ],
    "assessments:peers": [Case("GET", u("assessments:peers", done), owned(done), private=True)],
    "assessments:peers_join": [
        Case("POST", u("assessments:peers_join", done), owned(done, 302), lambda w: {"structure_type": "epci", "consent": "on"}, private=True),
    ],
    "assessments:peers_leave": [Case("POST", u("assessments:peers_leave", done), owned(done, 302), private=True)],
    "assessments:read_through": [
        Case("GET", u("assessments:read_through", done, lambda w: w.crosswalk.pk), owned(done), private=True),
    ],
    # Accounts: signing in is open to all; a token belongs to its person.
    "accounts:login": [
        Case("GET", u("accounts:login"), everyone(200)),
        Case("POST", u("accounts:login"), everyone(200), lambda w: {"email": "quelquun@exemple.fr"}),
    ],
    "accounts:login_confirm": [
        Case("GET", lambda w: reverse("accounts:login_confirm", args=[w.login_raw]), everyone(200)),
        Case("POST", lambda w: reverse("accounts:login_confirm", args=[w.login_raw]), everyone(302)),
        Case("GET", u("accounts:login_confirm", const(BOGUS_TOKEN)), nobody(), label="unknown link"),
    ],
    "accounts:logout": [Case("POST", u("accounts:logout"), everyone(302))],
    "accounts:api_tokens": [
        Case("GET", u("accounts:api_tokens"), signed_in(), private=True),
        Case("POST", u("accounts:api_tokens"), signed_in(302), lambda w: {"name": "Tableur"}, private=True),
    ],
    # A person's own account: how they are shown to others, the first-sign-in prompt.
    "accounts:account": [
        Case("GET", u("accounts:account"), signed_in(), private=True),
        Case("POST", u("accounts:account"), signed_in(302), lambda w: {"display_name": "Nom d'essai"}, private=True),
    ],
    "accounts:welcome": [
        Case("GET", u("accounts:welcome"), signed_in(), private=True),
        Case("POST", u("accounts:welcome"), signed_in(302), lambda w: {"skip": "1"}, private=True),
    ],
    "accounts:api_token_revoke": [
        Case("POST", u("accounts:api_token_revoke", lambda w: w.owner_api_token.pk), own_token(302)),
    ],
    # Organisations: members read, facilitators change; the invitation link is a key.
    "organisations:list": [Case("GET", u("organisations:list"), signed_in())],
    "organisations:create": [
        Case("GET", u("organisations:create"), signed_in()),
        Case("POST", u("organisations:create"), signed_in(302), lambda w: {"name": "Réseau", "structure_type": "association"}),
    ],
    "organisations:join": [
        Case("GET", lambda w: reverse("organisations:join", args=[w.invitation_raw]), everyone(200), private=True),
        Case("POST", lambda w: reverse("organisations:join", args=[w.invitation_raw]), everyone(302, anonymous=200), private=True),
        Case("GET", u("organisations:join", const(BOGUS_TOKEN)), nobody(), private=True, label="unknown link"),
    ],
    "organisations:home": [Case("GET", u("organisations:home", org), team(may=role(team_permissions.can_view_team)), private=True)],
    "organisations:share": [
        Case("GET", u("organisations:share", org), team(may=IN_TEAM), private=True),
        Case("POST", u("organisations:share", org), team(400, 400, may=IN_TEAM), lambda w: {"mode": "named"}, private=True),
    ],
    "organisations:withdraw": [Case("POST", u("organisations:withdraw", org), team(302, 302, may=IN_TEAM))],
    "organisations:members": [Case("GET", u("organisations:members", org), team(may=IN_TEAM), private=True)],
    "organisations:invite": [Case("POST", u("organisations:invite", org), team(403, 302, may=role(team_permissions.can_manage_members)), lambda w: {"email": "", "days": "7"})],
    "organisations:invite_batch": [
        Case("POST", u("organisations:invite_batch", org), team(403, 302, may=role(team_permissions.can_manage_members)), lambda w: {"batch-addresses": "nouvelle@exemple.fr", "batch-days": "7"}),
    ],
    "organisations:remind": [Case("POST", u("organisations:remind", org), team(403, 302, may=role(team_permissions.can_manage_members)))],
    "organisations:role": [
        Case("POST", u("organisations:role", org, lambda w: w.other_member.pk), team(403, 302, may=role(team_permissions.can_manage_members)), lambda w: {"role": "facilitator"}),
    ],
    "organisations:remove_member": [
        Case("GET", u("organisations:remove_member", org, lambda w: w.other_member.pk), team(403, 200, may=lambda w, m: team_permissions.can_remove_member(m, w.other_member)), private=True),
        Case("POST", u("organisations:remove_member", org, lambda w: w.other_member.pk), team(403, 302, may=lambda w, m: team_permissions.can_remove_member(m, w.other_member))),
    ],
    "organisations:revoke_invitation": [
        Case("POST", u("organisations:revoke_invitation", org, lambda w: w.invitation.pk), team(403, 302, may=role(team_permissions.can_manage_members))),
    ],
    "organisations:decisions": [Case("GET", u("organisations:decisions", org), team(may=role(team_permissions.can_view_team)), private=True)],
    "organisations:decision": [
        Case("GET", u("organisations:decision", org, const("1.1")), team(may=role(team_permissions.can_view_team)), private=True),
        Case("POST", u("organisations:decision", org, const("1.2")), team(403, 302, may=role(team_permissions.can_decide)), lambda w: {"mode": "partnership", "partner_types": ["association"]}),
    ],
    "organisations:comment": [
        Case("POST", u("organisations:comment", org, const("1.2")), team(302, 302, may=IN_TEAM), lambda w: {"body": "Un avis"}),
    ],
    "organisations:actions": [
        Case("GET", u("organisations:actions", org), team(may=IN_TEAM), private=True),
        Case("POST", u("organisations:actions", org), team(403, 302, may=role(team_permissions.can_manage_actions)), lambda w: {"title": "Nouvelle action", "status": "todo"}),
    ],
    "organisations:action_edit": [
        # Members see the plan, so the form too; only a facilitator's change is taken.
        Case("GET", u("organisations:action_edit", org, lambda w: w.action.pk), team(may=IN_TEAM), private=True),
        Case("POST", u("organisations:action_edit", org, lambda w: w.action.pk), team(403, 302, may=role(team_permissions.can_manage_actions)), lambda w: {"title": "Modifiée", "status": "todo"}),
    ],
    "organisations:action_status": [
        Case("POST", u("organisations:action_status", org, lambda w: w.action.pk), team(403, 302, may=lambda w, m: team_permissions.can_set_action_status(m, w.action)), lambda w: {"status": "done"}),
    ],
    "organisations:action_delete": [Case("POST", u("organisations:action_delete", org, lambda w: w.action.pk), team(403, 302, may=role(team_permissions.can_manage_actions)))],
    "organisations:workshop": [Case("GET", u("organisations:workshop", org), team(may=role(team_permissions.can_view_team)), private=True)],
    "organisations:workshop_live": [Case("GET", u("organisations:workshop_live", org), team(may=role(team_permissions.can_view_team)), private=True)],
    "organisations:report_pdf": [Case("GET", u("organisations:report_pdf", org), team(may=role(team_permissions.can_export_team)), private=True)],
    "organisations:team_xlsx": [Case("GET", u("organisations:team_xlsx", org), team(may=role(team_permissions.can_export_team)), private=True)],
    # The guided workshop: members follow and comment, facilitators drive and decide.
    "organisations:guided": [
        Case("GET", u("organisations:guided", org), team(may=role(team_permissions.can_follow_workshop)), private=True),
        Case("POST", u("organisations:guided", org), team(403, 302, may=role(team_permissions.can_run_workshop)), lambda w: {"ordering": "grid", "practices": ["1.1"], "minutes_per_item": "5"}, private=True),
    ],
    "organisations:guided_item": [Case("GET", u("organisations:guided_item", org, guided_session, const(0)), team(may=role(team_permissions.can_follow_workshop)), private=True)],
    "organisations:guided_decide": [
        Case("POST", u("organisations:guided_decide", org, guided_session, const(0)), team(403, 302, may=role(team_permissions.can_decide)), lambda w: {"mode": "partnership", "partner_types": ["association"]}),
    ],
    "organisations:guided_action": [
        Case("POST", u("organisations:guided_action", org, guided_session, const(0)), team(403, 302, may=role(team_permissions.can_manage_actions)), lambda w: {"title": "Nouvelle action"}),
    ],
    "organisations:guided_comment": [
        Case("POST", u("organisations:guided_comment", org, guided_session, const(1)), team(302, 302, may=IN_TEAM), lambda w: {"body": "Un avis"}),
    ],
    "organisations:guided_move": [
        Case("POST", u("organisations:guided_move", org, guided_session), team(403, 302, may=role(team_permissions.can_run_workshop)), lambda w: {"position": "1"}),
    ],
    "organisations:guided_end": [Case("POST", u("organisations:guided_end", org, guided_session), team(403, 302, may=role(team_permissions.can_run_workshop)))],
    "organisations:guided_follow": [Case("GET", u("organisations:guided_follow", org, guided_session), team(may=role(team_permissions.can_follow_workshop)), private=True)],
    "organisations:guided_follow_live": [Case("GET", u("organisations:guided_follow_live", org, guided_session), team(may=role(team_permissions.can_follow_workshop)), private=True)],
    "organisations:guided_summary": [Case("GET", u("organisations:guided_summary", org, guided_session), team(may=role(team_permissions.can_follow_workshop)), private=True)],
    "organisations:guided_kit_pdf": [Case("GET", u("organisations:guided_kit_pdf", org, guided_session), team(may=role(team_permissions.can_export_team)), private=True)],
    # Studies: the campaign's analysts only; respondents reach theirs by their link.
    "studies:list": [Case("GET", u("studies:list"), signed_in())],
    "studies:create": [
        Case("GET", u("studies:create"), signed_in(403, rule=runs_studies, analyst=200, admin=200)),
        Case("POST", u("studies:create"), signed_in(403, rule=runs_studies, analyst=302, admin=302), lambda w: {**CAMPAIGN_FORM, "version": w.campaign.version_id}),
    ],
    "studies:home": [Case("GET", u("studies:home", campaign), study(), private=True)],
    "studies:edit": [
        Case("GET", u("studies:edit", campaign), study(), private=True),
        Case("POST", u("studies:edit", campaign), study(302), lambda w: CAMPAIGN_FORM),
    ],
    "studies:questions": [
        Case("GET", u("studies:questions", campaign), study(), private=True),
        Case("POST", u("studies:questions", campaign), study(302), lambda w: {"label": "Votre service ?", "kind": "single", "options_text": "Un\nDeux"}),
    ],
    "studies:question_move": [
        Case("POST", u("studies:question_move", campaign, lambda w: w.question.pk), study(302), lambda w: {"direction": "up"}),
    ],
    "studies:question_delete": [Case("POST", u("studies:question_delete", campaign, lambda w: w.question.pk), study(302))],
    "studies:invitees": [
        Case("GET", u("studies:invitees", campaign), study(), private=True),
        Case("POST", u("studies:invitees", campaign), study(302), upload(b"nouvelle@exemple.fr\n")),
    ],
    "studies:send": [Case("POST", u("studies:send", campaign), study(302), lambda w: {"what": "reminders"})],
    "studies:retry_mail": [Case("POST", u("studies:retry_mail", campaign), study(302))],
    "studies:open_link": [Case("POST", u("studies:open_link", campaign), study(302))],
    "studies:tracking": [Case("GET", u("studies:tracking", campaign), study(), private=True)],
    "studies:dashboard": [Case("GET", u("studies:dashboard", campaign), study(), private=True)],
    "studies:waves": [
        Case("GET", u("studies:waves", campaign), study(), private=True),
        Case("POST", u("studies:waves", campaign), study(400), lambda w: {"name": "Vague", "year": "2019", "source_format": "aggregates"}),
    ],
    "studies:crosswalk": [
        Case("POST", u("studies:crosswalk", campaign, lambda w: w.wave.pk), study(302), upload(b"source;cible;poids\nQ1;1.2;1\n")),
    ],
    "studies:exports": [Case("GET", u("studies:exports", campaign), study(), private=True)],
    "studies:export_microdata": [
        Case("GET", u("studies:export_microdata", campaign, const("csv")), study(may=study_permissions.can_download_microdata), private=True),
        Case("GET", u("studies:export_microdata", campaign, const("xlsx")), study(may=study_permissions.can_download_microdata), private=True),
    ],
    "studies:export_aggregates": [Case("GET", u("studies:export_aggregates", campaign), study(), private=True)],
    "studies:report_pdf": [
        Case("GET", u("studies:report_pdf", campaign), study(), private=True),
        Case("POST", u("studies:report_pdf", campaign), study(302), private=True),
    ],
    "files:detail": [Case("GET", u("files:detail", ready_report), study(), private=True)],
    "files:download": [Case("GET", u("files:download", ready_report), study(), private=True)],
    "files:retry": [Case("POST", u("files:retry", ready_report), study(302))],
    "studies:invited": [
        Case("GET", lambda w: reverse("studies:invited", args=[w.invitee_raw]), everyone(200), private=True),
        Case("GET", u("studies:invited", const(BOGUS_TOKEN)), nobody(), private=True, label="unknown link"),
    ],
    "studies:open": [
        Case("GET", lambda w: reverse("studies:open", args=[w.open_raw]), everyone(200), private=True),
        Case("GET", u("studies:open", const(BOGUS_TOKEN)), nobody(), private=True, label="unknown link"),
    ],
    "studies:profile": [Case("GET", u("studies:profile", respondent), owned(respondent), private=True)],
    "studies:withdraw": [Case("POST", u("studies:withdraw", respondent), owned(respondent, 302))],
}

# The API's own pages, served by django-ninja beside the operations.
API_PAGES: dict[str, list[Case]] = {
    "api:openapi-json": [Case("GET", const("/api/v1/openapi.json"), everyone(200))],
    "api:openapi-view": [Case("GET", const("/api/v1/docs"), everyone(200))],
    # The root only exists for reverse(): it answers like any unknown API address.
    "api:api-root": [Case("GET", const("/api/v1/"), nobody())],
}


# Every operation of the OpenAPI schema: "METHOD path" as the schema writes it. Each role calls
# with its own token (anonymous without one).
API_OPERATIONS: dict[str, Case] = {
    "GET /api/v1/frameworks": Case("GET", const("/api/v1/frameworks"), everyone(200)),
    "GET /api/v1/frameworks/{code}/versions": Case(
        "GET", const("/api/v1/frameworks/pratiques-ingenierie-territoriale/versions"), everyone(200),
    ),
    "GET /api/v1/versions/{version_id}": Case("GET", lambda w: f"/api/v1/versions/{w.campaign.version_id}", everyone(200)),
    "GET /api/v1/positionnements": Case("GET", const("/api/v1/positionnements"), signed_in(200, anonymous=401), private=True),
    "POST /api/v1/positionnements": Case("POST", const("/api/v1/positionnements"), signed_in(201, anonymous=401), private=True),
    "GET /api/v1/positionnements/{uuid}": Case("GET", lambda w: f"/api/v1/positionnements/{w.submitted.uuid}", owned(done, 200, anonymous=401), private=True),
    "DELETE /api/v1/positionnements/{uuid}": Case("DELETE", lambda w: f"/api/v1/positionnements/{w.submitted.uuid}", owned(done, 204, anonymous=401), private=True),
    "PUT /api/v1/positionnements/{uuid}/reponses/{code}": Case(
        "PUT", lambda w: f"/api/v1/positionnements/{w.draft.uuid}/reponses/1.2", owned(draft, 200, anonymous=401),
        lambda w: {"level": "2", "wish": "oui", "carrying": "interne", "comment": ""}, private=True,
    ),
    "POST /api/v1/positionnements/{uuid}/envoi": Case("POST", lambda w: f"/api/v1/positionnements/{w.draft.uuid}/envoi", owned(draft, 200, anonymous=401), private=True),
    "GET /api/v1/positionnements/{uuid}/profil": Case("GET", lambda w: f"/api/v1/positionnements/{w.submitted.uuid}/profil", owned(done, 200, anonymous=401), private=True),
    "GET /api/v1/structures/{uuid}/equipe": Case(
        "GET", lambda w: f"/api/v1/structures/{w.org.uuid}/equipe", team(anonymous=401, may=role(team_permissions.can_view_team)), private=True,
    ),
    "GET /api/v1/etudes/{uuid}/resultats": Case("GET", lambda w: f"/api/v1/etudes/{w.campaign.uuid}/resultats", study(anonymous=401), private=True),
}


# --- Enumerating what exists ------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str | None
    route: str  # the full pattern, as the resolver writes it
    namespace: str = field(default="")


def all_routes() -> list[Route]:
    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name}" if pattern.name else None
                yield Route(name, prefix + str(pattern.pattern), namespace)

    return list(walk(get_resolver().url_patterns, "", ""))


def api_operations() -> list[str]:
    schema = api.get_openapi_schema()
    return [f"{method.upper()} {path}" for path, operations in schema["paths"].items() for method in operations]


def test_every_url_and_api_operation_is_in_the_matrix(db):
    routes = all_routes()
    admin_routes = [r for r in routes if r.route.startswith(settings.GRILLE_ADMIN_PATH)]
    api_routes = [r for r in routes if r.route.startswith("api/v1/")]
    site_routes = [r for r in routes if r not in admin_routes and r not in api_routes]

    unnamed = [r.route for r in site_routes + api_routes if r.name is None]
    missing_pages = sorted({r.name for r in site_routes if r.name} - set(PAGES))
    stale_pages = sorted(set(PAGES) - {r.name for r in site_routes})
    missing_api_pages = sorted(
        {r.name for r in api_routes if r.name and r.name.replace("api:", "") in {"openapi-json", "openapi-view", "api-root"}}
        - set(API_PAGES)
    )
    operations = api_operations()
    missing_operations = sorted(set(operations) - set(API_OPERATIONS))
    stale_operations = sorted(set(API_OPERATIONS) - set(operations))
    # Every API address the resolver knows is one of the schema's paths or one of the API pages.
    api_paths = {op.split(" ", 1)[1] for op in operations}
    stray_api_routes = sorted(
        r.route for r in api_routes
        if "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.route) not in api_paths
        and r.name not in API_PAGES
    )

    assert (unnamed, missing_pages, stale_pages, missing_api_pages, missing_operations, stale_operations, stray_api_routes) == (
        [], [], [], [], [], [], [],
    ), "Classez chaque nouvelle adresse dans tests/security/test_access_matrix.py"
    assert admin_routes, "the admin is mounted under GRILLE_ADMIN_PATH (/admin/ by default)"


# --- Checking answers ----------------------------------------------------------------------------


def check_headers(response: HttpResponse, *, private: bool, signed_in: bool) -> list[str]:
    """The headers every answer carries; empty when all is well."""
    problems = []
    policy = response.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in policy.split(";") if d.strip()}
    if not policy:
        problems.append("no Content-Security-Policy")
    if "unsafe-inline" in directives.get("script-src", "unsafe-inline") or "unsafe-inline" in directives.get("default-src", ""):
        problems.append(f"script-src allows inline script: {policy!r}")
    if directives.get("frame-ancestors") != "frame-ancestors 'none'":
        problems.append("no frame-ancestors 'none'")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if response.get("Referrer-Policy") != "same-origin":
        problems.append(f"Referrer-Policy is {response.get('Referrer-Policy')!r}")
    if (signed_in or (private and 200 <= response.status_code < 300)) and "no-store" not in response.get("Cache-Control", ""):
        problems.append(f"Cache-Control is {response.get('Cache-Control')!r}, not no-store")
    return problems


def outcome(response: HttpResponse, expected: int | str) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(reverse("accounts:login") + "?next=")
    return response.status_code == expected


def request(client: Client, case: Case, world: World, **extra) -> HttpResponse:
    url = case.url(world)
    data = case.data(world) if case.data else None
    # Undone after each request, cookies included (signing in or out changes the session): the
    # next request finds the objects and the browser as they were.
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        if extra.get("json"):
            extra.pop("json")
            response = client.generic(case.method, url, json.dumps(data) if data else "", content_type="application/json", **extra)
        elif case.method == "GET":
            response = client.get(url, **extra)
        else:
            response = client.generic(case.method, url, **extra) if data is None else getattr(client, case.method.lower())(url, data, **extra)
        transaction.set_rollback(True)
    client.cookies = cookies
    if response.streaming:  # a generated file's download: read to the end, which closes its file
        b"".join(response.streaming_content)
    return response


def describe(response: HttpResponse) -> str:
    where = f" → {response['Location']}" if response.has_header("Location") else ""
    return f"{response.status_code}{where}"


def person(world: World, role: str) -> AnyUser:
    user = world.users[role]
    return user if user is not None else AnonymousUser()


def test_the_matrix_says_what_the_permission_rules_say_for_every_role(world):
    cases = [(name, case) for name, cases in {**PAGES, **API_PAGES}.items() for case in cases]
    cases += list(API_OPERATIONS.items())
    disagreements = []
    for name, case in cases:
        assert set(case.expect.statuses) == set(ROLES), name
        for role in ROLES:
            expected = case.expect.statuses[role]
            allowed = case.expect.rule(world, person(world, role))
            if allowed != (expected not in REFUSED):
                label = f"{case.method} {name}{' (' + case.label + ')' if case.label else ''} as {role}"
                disagreements.append(f"{label}: expected {expected}, but the rule {'lets them in' if allowed else 'refuses'}")

    assert disagreements == [], "\n".join(disagreements)


def test_every_page_answers_each_role_as_the_matrix_says(world):
    failures, checked = [], 0
    for name, cases in {**PAGES, **API_PAGES}.items():
        for case in cases:
            for role in ROLES:
                response = request(world.clients[role], case, world)
                checked += 1
                label = f"{case.method} {name}{' (' + case.label + ')' if case.label else ''} as {role}"
                if not outcome(response, case.expect.statuses[role]):
                    failures.append(f"{label}: got {describe(response)}, expected {case.expect.statuses[role]}")
                # Judged on who the answer was for: signing out answers someone signed out.
                signed = response.wsgi_request.user.is_authenticated
                failures += [f"{label}: {p}" for p in check_headers(response, private=case.private, signed_in=signed)]

    assert failures == [], f"{len(failures)} violations in {checked} requests:\n" + "\n".join(failures)


def test_every_api_operation_answers_each_role_as_the_matrix_says(world):
    failures = []
    anonymous = Client()
    for operation, case in API_OPERATIONS.items():
        for role in ROLES:
            token = world.api_tokens[role]
            extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
            response = request(anonymous, case, world, json=True, **extra)
            if not outcome(response, case.expect.statuses[role]):
                failures.append(f"{operation} as {role}: got {response.status_code} {response.content[:200]!r}, expected {case.expect.statuses[role]}")
            failures += [f"{operation} as {role}: {p}" for p in check_headers(response, private=case.private, signed_in=False)]

    assert failures == [], f"{len(failures)} violations:\n" + "\n".join(failures)


# --- The admin ----------------------------------------------------------------------------------

ADMIN_OPEN = {"admin:login"}  # the sign-in form itself
ADMIN_POST_ONLY = {"admin:logout"}


def sample_path(route: str) -> str:
    """A concrete address for a pattern: converters get a plausible value, regex groups their
    first alternative."""
    path = re.sub(r"<int:\w+>", "1", route)
    path = re.sub(r"<path:\w+>", "1", path)
    path = re.sub(r"<(?:str:)?\w+>", "x", path)
    path = re.sub(r"\(\?P<\w+>([^|)]+)[^)]*\)", r"\1", path)  # (?P<app_label>accounts|…) → accounts
    path = path.replace("^", "").replace("$", "").replace(".*", "x")
    return "/" + path


def test_every_admin_address_requires_staff(world):
    admin_login = reverse("admin:login")
    failures = []
    routes = [r for r in all_routes() if r.route.startswith(settings.GRILLE_ADMIN_PATH) and r.name not in ADMIN_OPEN]
    for route in routes:
        path = sample_path(route.route)
        for role in ("anonymous", "member", "analyst"):
            client = world.clients[role]
            response = client.post(path) if route.name in ADMIN_POST_ONLY else client.get(path)
            if route.name in ADMIN_POST_ONLY:
                # Signing out of the admin signs out of nothing one did not have.
                ok = response.status_code in (200, 302) and admin_login not in response.get("Location", "x")
                if role != "anonymous":
                    world.clients[role].force_login(world.users[role])
            else:
                ok = response.status_code == 302 and response["Location"].startswith(admin_login)
            if not ok and route.name not in ADMIN_POST_ONLY:
                failures.append(f"{route.name or route.route} ({path}) as {role}: {describe(response)}")
            failures += [f"{path} as {role}: {p}" for p in check_headers(response, private=False, signed_in=role != "anonymous")]

    assert len(routes) > 50
    assert failures == [], "\n".join(failures)


def test_staff_open_the_admin_index_and_every_model_list_and_form(world):
    paths = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        paths.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model_admin.has_add_permission(_FakeRequest(world.users["admin"])):
            paths.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        paths.append(reverse("admin:app_list", args=[opts.app_label]))
    failures = []
    for path in dict.fromkeys(paths):
        staff = world.clients["admin"].get(path)
        member = world.clients["member"].get(path)
        if staff.status_code != 200:
            failures.append(f"{path} as admin: {describe(staff)}")
        if not (member.status_code == 302 and member["Location"].startswith(reverse("admin:login"))):
            failures.append(f"{path} as member: {describe(member)}")
        failures += [f"{path} as admin: {p}" for p in check_headers(staff, private=False, signed_in=True)]

    assert failures == [], "\n".join(failures)


class _FakeRequest:
    def __init__(self, user):
        self.user = user
