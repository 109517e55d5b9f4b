"""The cast of the security tests: a person of each role, each with a signed-in browser and an
API token, and one object of every kind for the URLs to aim at."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import call_command
from django.test import Client, TestCase
from django.utils import timezone

from grille.accounts.models import ApiToken, User
from grille.accounts.services import create_api_token
from grille.assessments.models import Assessment
from grille.assessments.services import AnswerInput, save_answers, start_assessment
from grille.core import ratelimit
from grille.core.tokens import new_token
from grille.frameworks.crosswalks import load_crosswalk_file
from grille.frameworks.models import Crosswalk
from grille.frameworks.selectors import get_default_version
from grille.frameworks.services import load_framework_file
from grille.organisations import services as org_services
from grille.organisations.models import ActionItem, Invitation, Membership, Organisation
from grille.studies import services as study_services
from grille.studies.models import Campaign, PreviousWave, ProfileQuestion, Respondent
from tests.organisations.conftest import join, make_person, submitted_positioning

ROLES = ("anonymous", "outsider", "member", "facilitator", "analyst", "admin", "owner")

SMALL_FILE = Path(__file__).parent.parent / "frameworks" / "data" / "petite-grille.yaml"
WAVE_AGGREGATES = "item;libellé;niveau;effectif\nQ1;Financer des projets;0;12\nQ1;;1;30\n".encode()
WAVE_CROSSWALK = b"source;cible;poids\nQ1;1.1;1\n"


@dataclass
class World:
    users: dict[str, User | None]
    clients: dict[str, Client]
    api_tokens: dict[str, str | None]
    org: Organisation
    member: Membership
    other_member: Membership
    invitation: Invitation
    invitation_raw: str
    action: ActionItem
    draft: Assessment
    resume_raw: str
    submitted: Assessment
    crosswalk: Crosswalk
    owner_api_token: ApiToken
    login_raw: str
    campaign: Campaign
    question: ProfileQuestion
    wave: PreviousWave
    respondent: Respondent
    invitee_raw: str
    open_raw: str
    extra: dict = field(default_factory=dict)


def _crosswalk(tmp_path: Path) -> Crosswalk:
    # The small grid first: the 2024 grid, loaded after it, stays the default version.
    small = load_framework_file(path=SMALL_FILE).version
    call_command("load_framework", verbosity=0, stdout=io.StringIO())
    table = tmp_path / "table.csv"
    table.write_text("source;cible;poids\n1.1;P.1;1\n1.2;Q.1;1\n", encoding="utf-8")
    return load_crosswalk_file(path=table, source=get_default_version(), target=small, name="2024 → petite")


def _login_link_raw(email: str) -> str:
    from grille.accounts.models import LoginLink

    raw, digest = new_token()
    LoginLink.objects.create(email=email, token_hash=digest, expires_at=timezone.now() + timedelta(minutes=30))
    return raw


@pytest.fixture
def world(db, tmp_path) -> World:
    crosswalk = _crosswalk(tmp_path)
    version = get_default_version()

    facilitator_user = make_person("alice@exemple.fr", "Alice Animatrice")
    org = org_services.create_organisation(user=facilitator_user, name="Communauté de communes du Val", structure_type="epci")
    facilitator = Membership.objects.select_related("organisation", "user").get(organisation=org, user=facilitator_user)
    member = join(facilitator, make_person("bruno@exemple.fr", "Bruno Membre"))
    other_member = join(facilitator, make_person("chloe@exemple.fr", "Chloé Membre"))
    outsider_user = make_person("oscar@ailleurs.fr", "Oscar Ailleurs")
    org_services.create_organisation(user=outsider_user, name="Pays voisin", structure_type="association")
    invitation, invitation_raw = org_services.create_invitation(membership=facilitator)
    action = org_services.create_action(membership=facilitator, title="Cartographier les financeurs", practice_codes=["1.1"])
    org_services.set_decision(membership=facilitator, practice_code="1.1", mode="in-house", partner_types=[])
    shared = submitted_positioning(member.user, version, {"1.1": "2", "1.2": "1"})
    org_services.share_assessment(membership=member, assessment=shared, mode="named")

    analyst = make_person("ana@exemple.fr", "Ana Lyste")
    analyst.user_permissions.add(Permission.objects.get(codename="run_studies"))
    admin = User.objects.create_superuser("root@exemple.fr", "mot-de-passe-du-test")
    owner = make_person("camille@exemple.fr", "Camille Propriétaire")

    draft, resume_raw = start_assessment(version=version, owner=owner)
    save_answers(assessment=draft, items=[AnswerInput(practice_code="1.1", level="2")])
    submitted = submitted_positioning(owner, version, {"1.1": ("2", "oui", "interne"), "1.2": "3"})
    owner_api_token, _raw = create_api_token(user=owner, name="Propre jeton")

    now = timezone.now()
    campaign = study_services.create_campaign(
        user=analyst, name="Étude des catalyseurs", wave_year=2024, version=version,
        opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=30),
        consent_text="J'accepte que mes réponses servent à l'étude.", threshold=5,
    )
    question = ProfileQuestion.objects.filter(campaign=campaign).order_by("position").last()
    wave = study_services.import_previous_wave(campaign=campaign, name="Étude 2018", year=2018, source_format="aggregates", raw=WAVE_AGGREGATES)
    study_services.import_crosswalk(wave=wave, raw=WAVE_CROSSWALK)
    respondent = study_services.start_response(
        campaign=campaign, link_key=study_services.open_link_key(), consent_version=1, owner=owner,
    )
    study_services.import_invitees(campaign=campaign, raw=b"invitee@exemple.fr\n")
    with TestCase.captureOnCommitCallbacks(execute=True):  # the outbox sends once the mailing commits
        study_services.send_invitations(campaign=campaign)
    invitee_raw = re.search(r"/etude/i/([^/\s]+)/", mail.outbox[-1].body).group(1)
    open_raw = study_services.create_open_link(campaign=campaign)

    users: dict[str, User | None] = {
        "anonymous": None, "outsider": outsider_user, "member": member.user, "facilitator": facilitator_user,
        "analyst": analyst, "admin": admin, "owner": owner,
    }
    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        if user is not None:
            clients[role].force_login(user)
    api_tokens = {
        role: (create_api_token(user=user, name="Matrice")[1] if user is not None else None) for role, user in users.items()
    }
    return World(
        users=users, clients=clients, api_tokens=api_tokens, org=org, member=member, other_member=other_member,
        invitation=invitation, invitation_raw=invitation_raw, action=action, draft=draft, resume_raw=resume_raw,
        submitted=submitted, crosswalk=crosswalk, owner_api_token=owner_api_token,
        login_raw=_login_link_raw("camille@exemple.fr"), campaign=campaign, question=question, wave=wave,
        respondent=respondent, invitee_raw=invitee_raw, open_raw=open_raw,
    )


class FakeClock:
    """The rate limits' clock, moved by hand: a test passes a window without sleeping."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(ratelimit, "clock", fake)
    return fake
