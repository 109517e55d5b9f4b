"""A study campaign on the 2024 grid, its analyst, and helpers to make respondents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from grille.accounts.models import User
from grille.assessments.services import AnswerInput, save_answers, submit_assessment
from grille.studies import services
from grille.studies.models import Campaign, Respondent
from grille.studies.pools import settle_campaign


@pytest.fixture
def analyst(db) -> User:
    user = User.objects.create_user("ana@exemple.fr", display_name="Ana Lyste")
    user.user_permissions.add(Permission.objects.get(codename="run_studies"))
    return user


@pytest.fixture
def campaign(version, analyst) -> Campaign:
    now = timezone.now()
    return services.create_campaign(
        user=analyst, name="Étude des catalyseurs", wave_year=2024, version=version,
        opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=30),
        consent_text="J'accepte que mes réponses servent à l'étude.", threshold=5,
    )


def make_respondent(campaign: Campaign, *, profile: dict[str, list[str]], levels: dict[str, str], submit: bool = True) -> Respondent:
    respondent = services.start_response(campaign=campaign, link_key=services.open_link_key(), consent_version=1)
    services.save_profile_answers(respondent=respondent, answers=profile)
    save_answers(
        assessment=respondent.assessment,
        items=[AnswerInput(practice_code=code, level=level) for code, level in levels.items()],
    )
    if submit:
        submit_assessment(assessment=respondent.assessment)
        # As the results pages do before reading: a batch of k is released.
        settle_campaign(campaign)
    return respondent


@pytest.fixture
def respondents(campaign):
    """make(n, structure=..., level=...) -> n submitted respondents."""

    def make(n: int, *, structure: str = "association", level: str = "2", territory: str = "rural") -> list[Respondent]:
        return [
            make_respondent(
                campaign,
                profile={"structure": [structure], "territoire": [territory]},
                levels={"1.1": level, "1.2": str(i % 4), "4.1": "3", "8.3": "nc"},
            )
            for i in range(n)
        ]

    return make
