"""Every change to a positioning goes through one of these functions."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from grille.core.sql import fetch_all
from grille.core.tokens import hash_token, new_token
from grille.core.users import User
from grille.frameworks.models import FrameworkVersion
from grille.frameworks.selectors import default_version_id_hint, get_grid

from . import peers
from .consents import withdraw_consents
from .enums import AssessmentStatus
from .errors import AssessmentError, AssessmentLocked
from .models import COMMENT_MAX_LENGTH, Answer, Assessment, ResumeLink, StoredFiche
from .selectors import CallerScope, scope_condition


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
    # The edit stamp of the stored answer this edit was made on (the step form sends the one it
    # was rendered with; 0 when there was no answer): an answer stored since is kept.
    version: int | None = None

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
    return resolve_answer(assessment.version_id, item)


def resolve_answer(version_id: int, item: AnswerInput) -> dict:
    """The ids to store for an answer on this version's grid, or AssessmentError."""
    grid = get_grid(version_id)
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


# A browser clock this far ahead would make its tab win over every later change: its stamp is ignored.
EDIT_STAMP_MAX_AHEAD_MS = 24 * 60 * 60 * 1000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _edit_time(edited_at: int | None) -> int:
    """When the change was made (ms since the epoch): the sender's stamp, or the server's time
    when there is none or when it is too far ahead to be believed."""
    now = _now_ms()
    if edited_at is None or edited_at > now + EDIT_STAMP_MAX_AHEAD_MS:
        return now
    return edited_at


def _same_answer(stored: Answer, values: dict) -> bool:
    return all(getattr(stored, name) == values[name] for name in ("level_id", "wish_id", "carrying_id", "comment"))


def _write_answer(locked: Assessment, values: dict, *, edited_at: int, version: int | None) -> Answer | None:
    """Create or update one answer of a locked draft, unless a later edit is stored.

    The one rule of every write path (step form, autosave, API): the stored answer is kept when
    its stamp is later than the edit (``edited_at``), or, for an edit made on a known stored
    answer (``version``), when that answer was changed since. Equal stamps are applied: a retry
    of the same change must not be refused. Returns the stored answer kept, None when applied
    (or when the kept answer is the same as the edit: nothing is lost).

    The step form sends every practice of its step, and one the person did not touch is no
    edit: from that form, an unchanged answer keeps its stamp, and a blank one is created
    without a stamp.
    """
    values = dict(values)
    practice_id = values.pop("practice_id")
    existing = Answer.objects.filter(assessment=locked, practice_id=practice_id)
    stored = existing.first()
    untouched = version is not None and _same_answer(stored or Answer(), values)
    if untouched and stored is not None:
        return None
    values["updated_at"] = timezone.now()  # update() does not fill auto_now fields
    limit = edited_at if version is None else version
    # The stored stamp only grows: an edit on a known answer is stamped after it.
    values["edited_at_client"] = edited_at if version is None else max(edited_at, version + 1)
    not_later = Q(edited_at_client__isnull=True) | Q(edited_at_client__lte=limit)
    if stored is not None:
        if existing.filter(not_later).update(**values):
            return None
        return None if _same_answer(stored, values) else stored
    # No answer yet: the positioning's row lock keeps a concurrent save of this positioning
    # out, so the insert is alone (on SQLite, where the lock is a no-op, writes are serialised).
    if untouched:
        values["edited_at_client"] = None
    try:
        with transaction.atomic():
            Answer.objects.create(assessment=locked, practice_id=practice_id, **values)
    except IntegrityError:
        existing.filter(not_later).update(**values)
    return None


def _answered(assessment: Assessment) -> int:
    return Answer.objects.filter(assessment=assessment, level__isnull=False).count()


@dataclass(frozen=True)
class SaveResult:
    answered: int
    # The stored answers left as they were: a later edit, made elsewhere, differs from this one.
    kept: tuple[Answer, ...] = ()


def save_answers(*, assessment: Assessment, items: list[AnswerInput], edited_at: int | None = None) -> SaveResult:
    """Save the answers to some practices of a draft positioning: the one write path of the
    step form, autosave and the API.

    Everything is validated before anything is written; the positioning row is locked so
    that concurrent saves (two tabs) are applied one after the other. ``edited_at`` is when
    the person made the change (ms since the epoch, by their browser's clock), the server's
    time without it. A practice whose stored answer is a later edit keeps it (see
    _write_answer), and is returned in ``kept``; the other practices are saved.
    """
    resolved = [(_resolve(assessment, item), item.version) for item in items]
    stamp = _edit_time(edited_at)
    with transaction.atomic():
        locked = _lock_draft(assessment)
        kept = [_write_answer(locked, values, edited_at=stamp, version=version) for values, version in resolved]
        Assessment.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        return SaveResult(answered=_answered(locked), kept=tuple(a for a in kept if a is not None))


@dataclass(frozen=True)
class AutosaveResult:
    applied: bool
    answered: int
    # The answer as stored, given only when the save was not applied.
    stored: Answer | None = None


def autosave_answer(*, assessment: Assessment, item: AnswerInput, edited_at: int | None) -> AutosaveResult:
    """Save one practice as the questionnaire's autosave sends it (see save_answers): two tabs
    may have their saves arrive out of order, and the stored answer is returned when this
    one is older, so the page can show it."""
    result = save_answers(assessment=assessment, items=[item], edited_at=edited_at)
    stored = result.kept[0] if result.kept else None
    return AutosaveResult(applied=stored is None, answered=result.answered, stored=stored)


@dataclass(frozen=True)
class QuickAutosave:
    """What quick_autosave did: ``result`` is None when the general path must decide."""

    assessment_id: int
    version_id: int
    result: AutosaveResult | None = None


# The grid version of the positionings not on the default one, as this process's autosaves
# found it (uuid -> version id): their next autosave is checked against the right grid at once.
_version_guesses: dict[str, int] = {}
VERSION_GUESSES_MAX = 10_000


def guess_version(uuid: str) -> int | None:
    """The version a positioning most likely uses, without a query (but the default version's,
    once a minute): the one an earlier autosave found, else the default. Only a guess:
    quick_autosave writes nothing unless the positioning is on it."""
    return _version_guesses.get(uuid) or default_version_id_hint()


def _remember_version(uuid: str, version_id: int) -> None:
    if version_id == default_version_id_hint():
        _version_guesses.pop(uuid, None)
        return
    if len(_version_guesses) >= VERSION_GUESSES_MAX:
        _version_guesses.clear()
    _version_guesses[uuid] = version_id


def quick_autosave(
    *, uuid: str, scope: CallerScope, version_id: int, values: dict, edited_at: int | None
) -> QuickAutosave | None:
    """The common autosave — a draft open to the caller, an answer already stored and not edited
    later elsewhere — in one statement, outside any transaction, on PostgreSQL (issue 16):

    - ``p``: ``UPDATE positioning SET updated_at … RETURNING``: finds the positioning by uuid,
      checks the caller's right to it (granted to this browser, or their own), that it is a
      draft still open, and locks its row as SELECT … FOR UPDATE did (concurrent saves of one
      positioning are applied one after the other; a save that waited sees the other's
      changes: the conditions are checked again on the rows as they are then);
    - ``a``: ``UPDATE answer … FROM p WHERE stamp not later AND p.version_id = version_id``:
      the edit-stamp rule of _write_answer in the WHERE, and nothing written unless the
      positioning is on the version ``values`` were resolved against (see resolve_answer);
    - then the positioning, its version, whether ``a`` wrote, and the number of the other
      practices answered.

    SQLite has no UPDATE in a WITH: there, the same two UPDATEs in a transaction, the second
    only on the right version.

    Returns None when no positioning matched (unknown, someone else's, submitted or closed), a
    QuickAutosave without result when no answer was written (another version, none stored yet,
    or a later one): both are for the general path, which says why. The progress count does
    not see a first answer to another practice saved at the very same time (PostgreSQL reads
    at the start of the statement): the next save counts it.
    """
    field = Assessment._meta.get_field("uuid")
    allowed, scope_params = scope_condition(scope)
    if not allowed:
        return None
    now = Assessment._meta.get_field("updated_at").get_db_prep_value(timezone.now(), connection)
    stamp = _edit_time(edited_at)
    assessment_table = connection.ops.quote_name(Assessment._meta.db_table)
    answer_table = connection.ops.quote_name(Answer._meta.db_table)
    find = (
        f"UPDATE {assessment_table} SET updated_at = %s "  # noqa: S608 - names from the models, values as parameters
        f"WHERE uuid = %s AND status = %s AND (answers_until IS NULL OR answers_until >= %s) AND ({allowed}) "
        f"RETURNING id, version_id"
    )
    find_params = [now, field.get_db_prep_value(uuid, connection), AssessmentStatus.DRAFT.value, now, *scope_params]
    new_values = [values["level_id"], values["wish_id"], values["carrying_id"], values["comment"], now, stamp]
    practice_id = values["practice_id"]
    if connection.vendor == "postgresql":
        rows = fetch_all(
            f"WITH p AS ({find}), a AS ("  # noqa: S608 - names from the models, values as parameters
            f"UPDATE {answer_table} SET level_id = %s, wish_id = %s, carrying_id = %s, comment = %s, "
            f"updated_at = %s, edited_at_client = %s FROM p "
            f"WHERE {answer_table}.assessment_id = p.id AND {answer_table}.practice_id = %s "
            f"AND p.version_id = %s "
            f"AND ({answer_table}.edited_at_client IS NULL OR {answer_table}.edited_at_client <= %s) "
            f"RETURNING {answer_table}.id) "
            f"SELECT p.id, p.version_id, EXISTS (SELECT 1 FROM a), (SELECT COUNT(*) FROM {answer_table} o "
            f"WHERE o.assessment_id = p.id AND o.practice_id <> %s AND o.level_id IS NOT NULL) FROM p",
            [*find_params, *new_values, practice_id, version_id, stamp, practice_id],
        )
        if not rows:
            return None
        assessment_id, found_version, written, others = rows[0]
    else:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(find, find_params)
                found = cursor.fetchone()
                if found is None:
                    return None
                assessment_id, found_version = found
                written, others = False, 0
                if found_version == version_id:
                    cursor.execute(
                        f"UPDATE {answer_table} SET level_id = %s, wish_id = %s, carrying_id = %s, comment = %s, "  # noqa: S608
                        f"updated_at = %s, edited_at_client = %s "
                        f"WHERE assessment_id = %s AND practice_id = %s "
                        f"AND (edited_at_client IS NULL OR edited_at_client <= %s) "
                        f"RETURNING (SELECT COUNT(*) FROM {answer_table} WHERE assessment_id = %s "
                        f"AND practice_id <> %s AND level_id IS NOT NULL)",
                        [*new_values, assessment_id, practice_id, stamp, assessment_id, practice_id],
                    )
                    counted = cursor.fetchone()
                    written, others = counted is not None, counted[0] if counted else 0
            if not written:
                transaction.set_rollback(True)  # the general path decides, and writes
    if found_version != version_id or uuid in _version_guesses:
        _remember_version(uuid, found_version)
    if not written:
        return QuickAutosave(assessment_id, found_version)
    answered = others + (values["level_id"] is not None)
    return QuickAutosave(assessment_id, found_version, AutosaveResult(applied=True, answered=answered))


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


def store_fiche(*, assessment: Assessment, key: str, language: str, pdf: bytes) -> None:
    """Keep the PDF fiche of a submitted positioning, built from content with digest ``key``; the
    one stored before in the same language (made of other content) goes. Two builds of the same
    fiche at once store it once."""
    if not assessment.is_submitted:
        raise AssessmentError(_("Seule la fiche d'un positionnement envoyé est conservée."))
    try:
        with transaction.atomic():
            StoredFiche.objects.filter(assessment=assessment, language=language).exclude(key=key).delete()
            StoredFiche.objects.create(assessment=assessment, key=key, language=language, pdf=pdf)
    except IntegrityError:
        pass  # stored by a concurrent request meanwhile: the same content, the same PDF


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
    # Deleting the positioning withdraws its consents; their proof stays, without it.
    withdraw_consents(assessments=[assessment.pk])
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
