from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Model, Q, QuerySet
from django.http import Http404, HttpRequest

from grille.core.sql import fetch_all
from grille.core.users import AnyUser
from grille.frameworks.models import FrameworkVersion, Practice
from grille.frameworks.selectors import get_grid

from .enums import AssessmentStatus
from .grants import granted_uuids
from .models import Answer, Assessment, PeerShare, StoredFiche
from .profile import AnswerData, Profile, compute_profile


def assessments_for(request: HttpRequest) -> QuerySet[Assessment]:
    """Every positioning the caller may see: their own, and those granted to this browser."""
    scope = Q(uuid__in=granted_uuids(request))
    if request.user.is_authenticated:
        scope |= Q(owner=request.user)
    # The peer share rides along: the profile page says whether the positioning takes part.
    return Assessment.objects.filter(scope).select_related("version", "version__framework", "peer_share")


def get_assessment_for(request: HttpRequest, uuid: UUID | str) -> Assessment:
    """One positioning of the caller's, or 404: someone else's looks exactly like a missing one."""
    try:
        return assessments_for(request).get(uuid=uuid)
    except (Assessment.DoesNotExist, ValueError):
        raise Http404 from None


def list_assessments_for(request: HttpRequest) -> QuerySet[Assessment]:
    return assessments_for(request).annotate(
        answered=Count("answers", filter=Q(answers__level__isnull=False))
    ).order_by("-created_at")


def get_answers(assessment: Assessment) -> dict[str, AnswerData]:
    rows = Answer.objects.filter(assessment=assessment).values_list(
        "practice__code", "level_id", "wish_id", "carrying_id", "comment"
    )
    return {code: AnswerData(level, wish, carrying, comment) for code, level, wish, carrying, comment in rows}


@dataclass(frozen=True)
class CallerScope:
    """Who may open which positioning: those granted to this browser, and the person's own."""

    granted: tuple[str, ...]
    owner_id: int | None


def caller_scope(request: HttpRequest) -> CallerScope:
    """The caller's scope, for the statements that check it themselves (services.quick_autosave)."""
    user = request.user
    return CallerScope(tuple(granted_uuids(request)), user.pk if user.is_authenticated else None)


@dataclass(frozen=True)
class StepData:
    """What a questionnaire step shows of a positioning: the positioning (with its grid version's
    status), its stored answers and their edit stamps (0 without one), by practice code."""

    assessment: Assessment
    answers: dict[str, AnswerData]
    versions: dict[str, int]


_CONVERTERS: dict[tuple[str, type[Model], str], list[tuple[Any, list[Any]]]] = {}


def _converted(connection: BaseDatabaseWrapper, model: type[Model], alias: str, values: Sequence[Any]) -> list[Any]:
    """A row of ``model``'s concrete fields read on a raw cursor, converted as the ORM converts
    them (SQLite's dates made aware, its uuids made UUIDs…). The converters of each column are
    looked up once per database, model and alias: they depend on nothing else."""
    key = (connection.alias, model, alias)
    columns = _CONVERTERS.get(key)
    if columns is None:
        columns = []
        for model_field in model._meta.concrete_fields:
            column = model_field.get_col(alias)
            columns.append((column, [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]))
        _CONVERTERS[key] = columns
    out = []
    for (column, converters), value in zip(columns, values, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        out.append(value)
    return out


def scope_condition(scope: CallerScope, alias: str = "") -> tuple[str, list[Any]]:
    """The caller's right to a positioning row (``alias``, or the table's own columns), as SQL:
    granted to this browser, or their own. An empty condition when the caller has no right to
    any (the statement must then not run)."""
    field = Assessment._meta.get_field("uuid")
    try:
        params: list[Any] = [field.get_db_prep_value(field.to_python(u), connection) for u in scope.granted]
    except ValidationError:
        params = []
    owned = scope.owner_id is not None
    if owned:
        params.append(scope.owner_id)
    return _scope_text(connection.vendor, alias, len(params) - owned, owned), params


@functools.lru_cache(maxsize=256)
def _scope_text(vendor: str, alias: str, granted: int, owned: bool) -> str:
    """scope_condition's text, written once per database, alias and shape (issue 16)."""
    qn = connection.ops.quote_name
    prefix = f"{alias}." if alias else ""
    allowed = []
    if granted:
        allowed.append(f"{prefix}{qn('uuid')} IN ({', '.join(['%s'] * granted)})")
    if owned:
        allowed.append(f"{prefix}{qn('owner_id')} = %s")
    return " OR ".join(allowed)


def _scoped_select(request: HttpRequest, uuid: UUID | str, columns: str, joins: str) -> tuple[str, list[Any], int]:
    """The statement of _scoped_rows, its parameters after those of ``columns``, and the number
    of leading columns (the positioning's fields, then its version's status and framework,
    named ``v_status`` and ``v_framework_id``). 404 when the caller has no right to any
    positioning, or ``uuid`` is not one."""
    field = Assessment._meta.get_field("uuid")
    try:
        uuid_value = field.get_db_prep_value(field.to_python(uuid), connection)
    except ValidationError:
        raise Http404 from None
    allowed, allowed_params = scope_condition(caller_scope(request), "a")
    if not allowed:
        raise Http404
    width = len(Assessment._meta.concrete_fields) + 2
    return _scoped_text(connection.vendor, columns, joins, allowed), [uuid_value, *allowed_params], width


@functools.lru_cache(maxsize=256)
def _scoped_text(vendor: str, columns: str, joins: str, allowed: str) -> str:
    """_scoped_select's statement, written once per database and shape (issue 16)."""
    qn = connection.ops.quote_name
    fields = Assessment._meta.concrete_fields
    return (
        f"SELECT {', '.join(f'a.{qn(f.column or f.attname)}' for f in fields)}, "  # noqa: S608 - names from the models, values as parameters
        f"v.{qn('status')} AS v_status, v.{qn('framework_id')} AS v_framework_id"
        f"{', ' + columns if columns else ''} FROM {qn(Assessment._meta.db_table)} a "
        f"JOIN {qn(FrameworkVersion._meta.db_table)} v ON v.{qn('id')} = a.{qn('version_id')} {joins} "
        f"WHERE a.{qn('uuid')} = %s AND ({allowed})"
    )


def _scoped_rows(request: HttpRequest, uuid: UUID | str, columns: str, joins: str, extra: list[Any]) -> tuple[list[tuple], int]:
    """Rows of one statement about the caller's positioning ``uuid`` (alias ``a``, its version
    ``v``): every field of the positioning, the version's status and framework, then
    ``columns`` (their parameters in ``extra``, before the WHERE's), over ``joins``. 404 when
    the positioning is not the caller's. Returns the rows and the number of leading columns."""
    sql, params, width = _scoped_select(request, uuid, columns, joins)
    rows = fetch_all(sql, [*extra, *params])
    if not rows:
        raise Http404
    return rows, width


def _assessment_from(row: Sequence[Any]) -> Assessment:
    """The positioning of a _scoped_rows row; its version carries its status and framework only
    (any other of its fields is read when asked)."""
    fields = Assessment._meta.concrete_fields
    width = len(fields)
    assessment = Assessment.from_db(
        connection.alias, [f.attname for f in fields], _converted(connection, Assessment, "a", row[:width])
    )
    # from_db takes the values in the order of the model's fields.
    assessment.version = FrameworkVersion.from_db(
        connection.alias, ["id", "framework_id", "status"], [assessment.version_id, row[width + 1], row[width]]
    )
    return assessment


_ANSWER_COLUMNS = ("level_id", "wish_id", "carrying_id", "comment", "edited_at_client")


def get_step_data(request: HttpRequest, uuid: UUID | str) -> StepData:
    """The positioning of ``get_assessment_for`` (the caller's, or 404) and its answers, in one
    statement: the questionnaire step's only query besides the session (issue 16). The
    positioning comes in its own row, the answers each in theirs (its columns empty there): a
    join would repeat and convert the positioning's columns once per answer."""
    head, params, width = _scoped_select(request, uuid, "", "")
    rows = fetch_all(_step_text(connection.vendor, head, width), params)
    answers: dict[str, AnswerData] = {}
    versions: dict[str, int] = {}
    positioning = None
    for row in rows:
        if row[0] is not None:
            positioning = row
            continue
        code, level, wish, carrying, comment, stamp = row[width:]
        answers[code] = AnswerData(level, wish, carrying, comment)
        versions[code] = stamp or 0
    if positioning is None:
        raise Http404
    return StepData(_assessment_from(positioning), answers, versions)


@functools.lru_cache(maxsize=256)
def _step_text(vendor: str, head: str, width: int) -> str:
    """get_step_data's statement around _scoped_select's ``head``, written once per shape."""
    qn = connection.ops.quote_name
    answer_columns = ", ".join(f"an.{qn(c)}" for c in _ANSWER_COLUMNS)
    return (
        f"WITH a AS ({head}) "  # noqa: S608 - names from the models, values as parameters
        f"SELECT a.*, {', '.join(['NULL'] * (1 + len(_ANSWER_COLUMNS)))} FROM a UNION ALL "
        f"SELECT {', '.join(['NULL'] * width)}, p.{qn('code')}, {answer_columns} "
        f"FROM {qn(Answer._meta.db_table)} an JOIN a ON an.{qn('assessment_id')} = a.{qn('id')} "
        f"JOIN {qn(Practice._meta.db_table)} p ON p.{qn('id')} = an.{qn('practice_id')}"
    )


@dataclass(frozen=True)
class ProfileHead:
    """What decides a profile page besides the grid and the linked content: the positioning,
    its participation in the peer comparison (as stored), and the caller's previous submitted
    positioning on the same framework (``get_previous_submitted``'s, by id)."""

    assessment: Assessment
    peer_share: tuple[Any, ...] | None
    previous_id: int | None


def get_profile_head(request: HttpRequest, uuid: UUID | str) -> ProfileHead:
    """ProfileHead in one statement (issue 16): the caller's positioning or 404."""
    qn = connection.ops.quote_name
    allowed, allowed_params = scope_condition(caller_scope(request), "b")
    table, versions = qn(Assessment._meta.db_table), qn(FrameworkVersion._meta.db_table)
    share_fields = [f for f in PeerShare._meta.concrete_fields if f.name != "assessment"]
    previous = (
        f"(SELECT b.{qn('id')} FROM {table} b JOIN {versions} bv ON bv.{qn('id')} = b.{qn('version_id')} "  # noqa: S608 - names from the models, values as parameters
        f"WHERE b.{qn('status')} = %s AND bv.{qn('framework_id')} = v.{qn('framework_id')} "
        f"AND b.{qn('submitted_at')} < COALESCE(a.{qn('submitted_at')}, a.{qn('created_at')}) "
        f"AND b.{qn('id')} <> a.{qn('id')} AND ({allowed}) "
        f"ORDER BY b.{qn('submitted_at')} DESC LIMIT 1)"
    )
    rows, width = _scoped_rows(
        request, uuid,
        f"{previous}, {', '.join(f'ps.{qn(f.column or f.attname)}' for f in share_fields)}",
        f"LEFT JOIN {qn(PeerShare._meta.db_table)} ps ON ps.{qn('assessment_id')} = a.{qn('id')}",
        [AssessmentStatus.SUBMITTED.value, *allowed_params],
    )
    row = rows[0]
    share = tuple(row[width + 1:])
    assessment = _assessment_from(row)
    # The participation rides along, as assessments_for's select_related gives it (get_peer_share).
    peer_share = None
    if share[0] is not None:
        peer_share = PeerShare.from_db(
            connection.alias, [f.attname for f in PeerShare._meta.concrete_fields],
            _converted(connection, PeerShare, "ps", [share[0], assessment.pk, *share[1:]]),
        )
    Assessment.peer_share.related.set_cached_value(assessment, peer_share)
    return ProfileHead(assessment, share if share[0] is not None else None, row[width])


def get_profile(assessment: Assessment) -> Profile:
    return compute_profile(get_grid(assessment.version_id), get_answers(assessment))


def get_previous_submitted(request: HttpRequest, assessment: Assessment) -> Assessment | None:
    """The caller's submitted positioning on the same framework just before this one."""
    reference = assessment.submitted_at or assessment.created_at
    return (
        assessments_for(request)
        .filter(
            status=AssessmentStatus.SUBMITTED,
            version__framework_id=assessment.version.framework_id,
            submitted_at__lt=reference,
        )
        .exclude(pk=assessment.pk)
        .order_by("-submitted_at")
        .first()
    )


def owned_by(user: AnyUser) -> QuerySet[Assessment]:
    """The person's own positionings, whatever browser they were opened in: what the API shows."""
    if not user.is_authenticated:
        return Assessment.objects.none()
    return Assessment.objects.filter(owner=user).select_related("version", "version__framework")


def get_owned(user: AnyUser, uuid: UUID | str) -> Assessment:
    """One of the person's own positionings, or 404: someone else's looks exactly like a missing one."""
    try:
        return owned_by(user).get(uuid=uuid)
    except (Assessment.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def answered_count(assessment: Assessment) -> int:
    return Answer.objects.filter(assessment=assessment, level__isnull=False).count()


def get_stored_fiche(assessment: Assessment, key: str) -> bytes | None:
    """The PDF fiche of this positioning built from content with this digest, if stored."""
    pdf = StoredFiche.objects.filter(assessment=assessment, key=key).values_list("pdf", flat=True).first()
    return None if pdf is None else bytes(pdf)
