"""Repeat positionings: the evolution between two of a person's positionings, and a new
positioning that starts from an earlier one's answers when the person chooses it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grille.core.users import User
from grille.frameworks.models import FrameworkVersion
from grille.frameworks.selectors import get_grid

from . import selectors, services
from .errors import AssessmentError
from .models import Answer, Assessment
from .profile import Evolution, Profile, compare_profiles


def moment(assessment: Assessment) -> datetime:
    """When a positioning stands: when it was sent, or last changed while it is a draft."""
    return assessment.submitted_at or assessment.updated_at


def in_order(first: Assessment, second: Assessment) -> tuple[Assessment, Assessment]:
    """The two positionings, the earlier first."""
    return (first, second) if (moment(first), first.pk) <= (moment(second), second.pk) else (second, first)


def evolution(before: Assessment, after: Assessment) -> Evolution:
    """How ``after`` differs from ``before``: per situation, axis and practice, with their moments.

    Both must be on the same framework (any of its versions: codes are matched); else
    AssessmentError with a message for the person.
    """
    if before.pk == after.pk:
        raise AssessmentError(_("Choisissez deux positionnements différents."))
    if before.version.framework_id != after.version.framework_id:
        raise AssessmentError(
            _("Ces deux positionnements portent sur des grilles différentes : ils ne se comparent pas.")
        )
    return compare_profiles(
        selectors.get_profile(before),
        selectors.get_profile(after),
        before_at=moment(before),
        after_at=moment(after),
    )


def evolution_of(before: Assessment, before_profile: Profile, after: Assessment, after_profile: Profile) -> Evolution:
    """As :func:`evolution`, from profiles already computed (the profile page has both)."""
    return compare_profiles(before_profile, after_profile, before_at=moment(before), after_at=moment(after))


@transaction.atomic
def start_from(
    *, version: FrameworkVersion, owner: User | None, source: Assessment | None
) -> tuple[Assessment, str, int]:
    """Start a new draft positioning on ``version``; with a ``source``, its answers are copied.

    The copy is a new draft of its own: the source is never changed, and the copied answers
    carry no edit stamp, so that any change the person makes afterwards, from any tab or
    device, wins over them (see services._write_answer). Practices and options are matched by
    code, so an answer on an earlier version of the same framework is copied wherever the
    new version still has its practice and options. Returns the positioning, its raw resume
    token (shown once) and the number of answers copied.
    """
    assessment, raw = services.start_assessment(version=version, owner=owner)
    copied = 0
    if source is not None:
        copied = copy_answers(source=source, target=assessment)
    return assessment, raw, copied


def copy_answers(*, source: Assessment, target: Assessment) -> int:
    """Copy ``source``'s answers into the draft ``target`` (which has none yet); returns how many."""
    if source.version.framework_id != target.version.framework_id:
        raise AssessmentError(
            _("Ce positionnement porte sur une autre grille : ses réponses ne peuvent pas être reprises.")
        )
    source_grid = get_grid(source.version_id)
    target_grid = get_grid(target.version_id)
    now = timezone.now()
    rows = []
    for code, data in selectors.get_answers(source).items():
        practice = target_grid.practice(code)
        if practice is None:
            continue
        ids = {}
        for role, option_id in (("level", data.level_id), ("wish", data.wish_id), ("carrying", data.carrying_id)):
            option = source_grid.dimensions[role].option_by_id(option_id)
            same = target_grid.dimensions[role].option_by_code(option.code) if option else None
            ids[f"{role}_id"] = same.id if same else None
        if not any(ids.values()) and not data.comment:
            continue
        rows.append(Answer(
            assessment=target, practice_id=practice.id, comment=data.comment, updated_at=now,
            edited_at_client=None, **ids,
        ))
    Answer.objects.bulk_create(rows)
    return len(rows)
