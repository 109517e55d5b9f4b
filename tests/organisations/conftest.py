"""A small team on the 2024 grid: a facilitator, members who joined by invitation, and
helpers that make submitted positionings with chosen answers and share them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from grille.accounts.models import User
from grille.assessments.models import Answer, Assessment
from grille.assessments.services import start_assessment, submit_assessment
from grille.frameworks.selectors import get_grid
from grille.organisations.enums import ShareMode
from grille.organisations.models import Membership, Organisation, Share
from grille.organisations.services import (
    accept_invitation,
    create_invitation,
    create_organisation,
    share_assessment,
)

# A practice's answer: a level code, or (level, wish, carrying) codes ("" for no answer).
AnswerSpec = str | tuple[str, str, str]


def make_person(email: str, name: str = "") -> User:
    return User.objects.create_user(email, display_name=name)


def join(facilitator: Membership, user: User) -> Membership:
    """The user joins the facilitator's organisation through an invitation link."""
    _invitation, raw = create_invitation(membership=facilitator)
    return accept_invitation(raw=raw, user=user)


def submitted_positioning(user: User, version, answers: dict[str, AnswerSpec]) -> Assessment:
    """A submitted positioning of `user` with exactly these answers.

    Answer rows are written in one bulk insert: the questionnaire itself is tested in
    tests/assessments, and teams of thirty must stay quick to build.
    """
    grid = get_grid(version)
    assessment, _raw = start_assessment(version=version, owner=user)
    rows = []
    for code, spec in answers.items():
        level, wish, carrying = (spec, "", "") if isinstance(spec, str) else spec
        rows.append(
            Answer(
                assessment=assessment,
                practice_id=grid.practice(code).id,
                level_id=grid.level.option_by_code(level).id if level else None,
                wish_id=grid.wish.option_by_code(wish).id if wish else None,
                carrying_id=grid.carrying.option_by_code(carrying).id if carrying else None,
            )
        )
    Answer.objects.bulk_create(rows)
    return submit_assessment(assessment=assessment)


@pytest.fixture
def facilitator_user(db) -> User:
    return make_person("alice@exemple.fr", "Alice Animatrice")


@pytest.fixture
def organisation(version, facilitator_user) -> Organisation:
    return create_organisation(
        user=facilitator_user, name="Communauté de communes du Val", structure_type="epci"
    )


@pytest.fixture
def facilitator(organisation, facilitator_user) -> Membership:
    return Membership.objects.select_related("organisation", "user").get(
        organisation=organisation, user=facilitator_user
    )


@pytest.fixture
def add_member(facilitator) -> Callable[..., Membership]:
    """add_member(email, name="") -> the Membership of a new person who joined by invitation."""

    def add(email: str, name: str = "") -> Membership:
        return join(facilitator, make_person(email, name))

    return add


@pytest.fixture
def member(add_member) -> Membership:
    return add_member("bruno@exemple.fr", "Bruno Membre")


@pytest.fixture
def other_member(add_member) -> Membership:
    return add_member("chloe@exemple.fr", "Chloé Membre")


@pytest.fixture
def outsider(version) -> Membership:
    """The facilitator of another organisation."""
    user = make_person("oscar@ailleurs.fr", "Oscar Ailleurs")
    other = create_organisation(user=user, name="Pays voisin", structure_type="association")
    return Membership.objects.get(organisation=other, user=user)


@pytest.fixture
def positioning(version) -> Callable[..., Assessment]:
    """positioning(user, {"1.1": "2", "1.2": ("3", "oui", "partenariat")}) -> submitted Assessment."""

    def make(user: User, answers: dict[str, AnswerSpec]) -> Assessment:
        return submitted_positioning(user, version, answers)

    return make


@pytest.fixture
def share(positioning) -> Callable[..., Share]:
    """share(membership, answers, mode="named") -> the Share of a new submitted positioning."""

    def make(membership: Membership, answers: dict[str, AnswerSpec], mode: str = ShareMode.NAMED) -> Share:
        assessment = positioning(membership.user, answers)
        return share_assessment(membership=membership, assessment=assessment, mode=mode)

    return make
