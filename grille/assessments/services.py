"""Every change to a positioning goes through one of these functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from grille.core.tokens import hash_token, new_token
from grille.core.users import User
from grille.frameworks.models import FrameworkVersion
from grille.frameworks.selectors import get_grid

from . import peers
from .enums import AssessmentStatus
from .errors import AssessmentError, AssessmentLocked
from .models import COMMENT_MAX_LENGTH, Answer, Assessment, ResumeLink


class ResumeLinkError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "unknown" or "revoked"


@dataclass(frozen=True)
class AnswerInput:
    practice_code: str
    level: str = ""
    wish: str = ""
    carrying: str = ""
    comment: str = ""


@transaction.atomic
def start_assessment(
    *, version: FrameworkVersion, owner: User | None = None, answers_until: datetime | None = None
) -> tuple[Assessment, str]:
    """Create a draft positioning and its first resume link; returns the raw token once."""
    assessment = Assessment.objects.create(version=version, owner=owner, answers_until=answers_until)
    raw, digest = new_token()
    ResumeLink.objects.create(assessment=assessment, token_hash=digest)
    return assessment, raw


@transaction.atomic
def renew_resume_link(*, assessment: Assessment) -> str:
    """Revoke the positioning's resume links and issue a new one (raw token returned once)."""
    ResumeLink.objects.filter(assessment=assessment, revoked_at__isnull=True).update(revoked_at=timezone.now())
    raw, digest = new_token()
    ResumeLink.objects.create(assessment=assessment, token_hash=digest)
    return raw


def resolve_resume_token(raw: str) -> Assessment:
    """The positioning a resume link opens, or ResumeLinkError("unknown" / "revoked")."""
    link = ResumeLink.objects.select_related("assessment").filter(token_hash=hash_token(raw)).first()
    if link is None:
        raise ResumeLinkError("unknown")
    if link.revoked_at is not None:
        raise ResumeLinkError("revoked")
    return link.assessment


def resume_token_matches(*, assessment: Assessment, raw: str) -> bool:
    return ResumeLink.objects.filter(
        assessment=assessment, token_hash=hash_token(raw), revoked_at__isnull=True
    ).exists()


def _resolve(assessment: Assessment, item: AnswerInput) -> dict:
    grid = get_grid(assessment.version_id)
    practice = grid.practice(item.practice_code)
    if practice is None:
        raise AssessmentError(_("La pratique « %(code)s » n'existe pas dans cette grille.") % {"code": item.practice_code})
    values: dict = {"practice_id": practice.id, "comment": item.comment}
    for role in ("level", "wish", "carrying"):
        code = getattr(item, role)
        dimension = grid.dimensions[role]
        if not code:
            values[f"{role}_id"] = None
            continue
        option = dimension.option_by_code(code)
        if option is None:
            raise AssessmentError(
                _("« %(value)s » n'est pas une réponse possible pour « %(dimension)s ».")
                % {"value": code, "dimension": dimension.label}
            )
        values[f"{role}_id"] = option.id
    if "\x00" in item.comment:
        raise AssessmentError(_("Le commentaire contient un caractère non autorisé."))
    if len(item.comment) > COMMENT_MAX_LENGTH:
        raise AssessmentError(
            _("Le commentaire est trop long : %(limit)d caractères au plus.") % {"limit": COMMENT_MAX_LENGTH}
        )
    return values


def _lock_draft(assessment: Assessment) -> Assessment:
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.is_submitted:
        raise AssessmentLocked(
            _("Ce positionnement a déjà été envoyé : il ne peut plus être modifié. Commencez-en un nouveau pour le mettre à jour.")
        )
    if locked.is_closed:
        raise AssessmentLocked(
            _("La période de réponse est close depuis le %(date)s : les réponses ne sont plus acceptées.")
            % {"date": date_format(timezone.localtime(locked.answers_until), "DATETIME_FORMAT")}
        )
    return locked


def _write_answer(locked: Assessment, values: dict, *, edited_at: int | None) -> bool:
    """Create or update one answer of a locked draft; False when a later edit is already stored."""
    values = dict(values)
    practice_id = values.pop("practice_id")
    values["updated_at"] = timezone.now()  # update() does not fill auto_now fields
    existing = Answer.objects.filter(assessment=locked, practice_id=practice_id)
    if edited_at is not None:
        values["edited_at_client"] = edited_at
        # Equal stamps are applied: a retry of the same change must not be refused.
        not_later = Q(edited_at_client__isnull=True) | Q(edited_at_client__lte=edited_at)
        if existing.filter(not_later).update(**values):
            return True
        if existing.exists():
            return False  # a later edit is stored
    elif existing.update(**values):
        return True
    # No answer yet: the positioning's row lock keeps a concurrent save of this positioning
    # out, so the insert is alone (on SQLite, where the lock is a no-op, writes are serialised).
    try:
        with transaction.atomic():
            Answer.objects.create(assessment=locked, practice_id=practice_id, **values)
    except IntegrityError:
        existing.update(**values)
    return True


def _answered(assessment: Assessment) -> int:
    return Answer.objects.filter(assessment=assessment, level__isnull=False).count()


def save_answers(*, assessment: Assessment, items: list[AnswerInput]) -> int:
    """Save the answers to some practices of a draft positioning, all or nothing.

    Everything is validated before anything is written; the positioning row is
    locked so that concurrent saves (two tabs) are applied one after the other
    and the last one acknowledged wins. Returns the number of practices answered.
    """
    resolved = [_resolve(assessment, item) for item in items]
    with transaction.atomic():
        locked = _lock_draft(assessment)
        for values in resolved:
            _write_answer(locked, values, edited_at=None)
        Assessment.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        return _answered(locked)


@dataclass(frozen=True)
class AutosaveResult:
    applied: bool
    answered: int
    # The answer as stored, given only when the save was not applied.
    stored: Answer | None = None


def autosave_answer(*, assessment: Assessment, item: AnswerInput, edited_at: int | None) -> AutosaveResult:
    """Save one practice as the questionnaire's autosave sends it, unless a later edit is stored.

    ``edited_at`` is when the person made the change (milliseconds since the epoch, by
    their browser's clock). Two tabs may have their saves arrive out of order: a save
    older than the stored one is not applied, and the stored answer is returned so the
    page can show it. Without a stamp the save is applied, as save_answers does, and
    the stored stamp is left as it is.
    """
    values = _resolve(assessment, item)
    with transaction.atomic():
        locked = _lock_draft(assessment)
        if not _write_answer(locked, values, edited_at=edited_at):
            stored = Answer.objects.get(assessment=locked, practice_id=values["practice_id"])
            return AutosaveResult(applied=False, answered=_answered(locked), stored=stored)
        Assessment.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        return AutosaveResult(applied=True, answered=_answered(locked))


def submit_assessment(*, assessment: Assessment) -> Assessment:
    """Mark a draft as submitted. A second submission is refused (409), never duplicated."""
    with transaction.atomic():
        locked = _lock_draft(assessment)
        if not Answer.objects.filter(assessment=locked, level__isnull=False).exists():
            raise AssessmentError(_("Renseignez au moins une pratique avant d'envoyer votre positionnement."))
        locked.status = AssessmentStatus.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["status", "submitted_at", "updated_at"])
        return locked


def _settle_peer_pools(version_ids: set[int]) -> None:

    for version_id in sorted(version_ids):
        peers.settle_pool(version_id)


@transaction.atomic
def delete_assessment(*, assessment: Assessment) -> None:
    """Erase a positioning for good, with its answers, resume links and peer share (the peer
    pool is settled at once, so that it changes by a whole batch)."""
    joined = set(
        Assessment.objects.filter(pk=assessment.pk, peer_share__isnull=False).values_list("version_id", flat=True)
    )
    Assessment.objects.filter(pk=assessment.pk).delete()
    _settle_peer_pools(joined)


@transaction.atomic
def claim_assessments(*, user: User, uuids: list[str]) -> int:
    """Attach the anonymous positionings opened in this browser to the person who signs in.

    A claimed positioning in the peer pool now has an owner, and only the latest share of each
    owner counts: the pools it is in are settled.
    """
    claimed = Assessment.objects.filter(uuid__in=uuids, owner__isnull=True)
    joined = set(claimed.filter(peer_share__isnull=False).values_list("version_id", flat=True))
    count = claimed.update(owner=user)
    _settle_peer_pools(joined)
    return count
