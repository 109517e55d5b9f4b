"""What the PDF fiche adds to the profile: who the person is, the lists of page one grouped by
option, and the reading suggestions once each (the details follow in an annex).

Pure functions over what the profile page already computed: no query here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grille.core.users import User
from grille.frameworks import grid as g
from grille.frameworks.models import Resource

from .profile import PracticeScore, Profile


@dataclass(frozen=True)
class PersonCard:
    """Name, job and structure as the person gave them on their account; each may be empty."""

    name: str
    job_title: str
    affiliation: str

    def __bool__(self) -> bool:
        return bool(self.name or self.job_title or self.affiliation)


@dataclass(frozen=True)
class OptionGroup:
    """Practices sharing one option (a level for the strengths, a wish for the practices to develop)."""

    option: g.Option
    scores: tuple[PracticeScore, ...]


@dataclass(frozen=True)
class FurtherReading:
    """A resource suggested for one or more practices to develop."""

    resource: Resource
    practice_codes: tuple[str, ...]


def person_card(user: User | None) -> PersonCard:
    def field(name: str) -> str:
        return (getattr(user, name, "") or "").strip()

    return PersonCard(name=field("display_name"), job_title=field("job_title"), affiliation=field("affiliation"))


def group_by_option(scores: Iterable[PracticeScore], role: str) -> list[OptionGroup]:
    """Consecutive practices with the same option of dimension `role` ("level" or "wish"), in order."""
    groups: list[tuple[g.Option, list[PracticeScore]]] = []
    for score in scores:
        option = getattr(score, role)
        if option is None:
            continue
        if groups and groups[-1][0] == option:
            groups[-1][1].append(score)
        else:
            groups.append((option, [score]))
    return [OptionGroup(option=option, scores=tuple(members)) for option, members in groups]


def further_reading(profile: Profile, resources: Mapping[str, Sequence[Resource]]) -> list[FurtherReading]:
    """Each resource attached to a practice to develop, once, with every such practice it serves,
    in the order of the practices to develop (priorities first)."""
    codes_by_resource: dict[Resource, list[str]] = {}  # in first-seen order
    for score in profile.to_develop:
        for resource in resources.get(score.practice.code, ()):
            codes = codes_by_resource.setdefault(resource, [])
            if score.practice.code not in codes:
                codes.append(score.practice.code)
    return [FurtherReading(resource=resource, practice_codes=tuple(codes)) for resource, codes in codes_by_resource.items()]


def fiche_context(owner: User | None, profile: Profile, resources: Mapping[str, Sequence[Resource]]) -> dict[str, Any]:
    """What profile_pdf.html needs beyond the profile page's context."""
    return {
        "person": person_card(owner),
        "strength_groups": group_by_option(profile.strengths, "level"),
        "develop_groups": group_by_option(profile.to_develop, "wish"),
        "further_reading": further_reading(profile, resources),
    }
