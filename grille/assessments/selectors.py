from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest

from grille.core.users import AnyUser
from grille.frameworks.selectors import get_grid

from .enums import AssessmentStatus
from .grants import granted_uuids
from .models import Answer, Assessment, StoredFiche
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


def get_answers_and_versions(assessment: Assessment) -> tuple[dict[str, AnswerData], dict[str, int]]:
    """The stored answers and their edit stamps (0 without one), by practice code, in one query:
    what the questionnaire step shows."""
    rows = Answer.objects.filter(assessment=assessment).values_list(
        "practice__code", "level_id", "wish_id", "carrying_id", "comment", "edited_at_client"
    )
    answers: dict[str, AnswerData] = {}
    versions: dict[str, int] = {}
    for code, level, wish, carrying, comment, stamp in rows:
        answers[code] = AnswerData(level, wish, carrying, comment)
        versions[code] = stamp or 0
    return answers, versions


@dataclass(frozen=True)
class CallerScope:
    """Who may open which positioning: those granted to this browser, and the person's own."""

    granted: tuple[str, ...]
    owner_id: int | None


def caller_scope(request: HttpRequest) -> CallerScope:
    """The caller's scope, for the statements that check it themselves (services.quick_autosave)."""
    user = request.user
    return CallerScope(tuple(granted_uuids(request)), user.pk if user.is_authenticated else None)


def get_answer_versions(assessment: Assessment) -> dict[str, int]:
    """The edit stamp of each stored answer, by practice code (0 for an answer without one)."""
    rows = Answer.objects.filter(assessment=assessment).values_list("practice__code", "edited_at_client")
    return {code: stamp or 0 for code, stamp in rows}


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
