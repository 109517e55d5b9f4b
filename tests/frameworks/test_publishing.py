"""A draft is edited in the admin, then published: checked, frozen, and recognised by its file."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from grille.accounts.models import User
from grille.assessments.models import Answer
from grille.assessments.services import start_assessment
from grille.frameworks.enums import DimensionRole, VersionStatus
from grille.frameworks.models import Dimension, FrameworkVersion, Practice
from grille.frameworks.selectors import get_default_version
from grille.frameworks.services import (
    FrameworkFileError,
    content_hash,
    export_framework_version,
    load_framework_version,
    publish_framework_version,
    validate_framework_data,
)
from tests.factories import answer, load_small_framework, small_framework_data


def draft_data(code: str = "v2") -> dict:
    data = small_framework_data()
    data["version"].update(code=code, status="draft")
    return data


def load_draft(code: str = "v2") -> FrameworkVersion:
    return load_framework_version(data=validate_framework_data(draft_data(code))).version


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("admin@exemple.fr", "un-mot-de-passe-solide-42"))
    return client


def test_publish_sets_the_status_the_date_and_the_hash_of_the_exported_content(db):
    draft = load_draft()
    before = timezone.now()

    published = publish_framework_version(version=draft)

    draft.refresh_from_db()
    assert (draft.status, draft.is_published) == (VersionStatus.PUBLISHED, True)
    assert draft.published_at >= before
    assert draft.content_hash == content_hash(validate_framework_data(export_framework_version(draft)))
    assert published.pk == draft.pk
    assert get_default_version() == draft


def test_published_draft_is_the_version_its_exported_file_describes(db):
    published = publish_framework_version(version=load_draft())

    again = load_framework_version(data=validate_framework_data(export_framework_version(published)))

    assert (again.created, again.version.pk) == (False, published.pk)


def test_publish_keeps_the_changes_made_to_the_draft(db):
    draft = load_draft()
    Practice.objects.filter(version=draft, code="B.1").update(label="Conduire l'action collective")

    publish_framework_version(version=draft)

    assert export_framework_version(draft)["axes"][0]["situations"][1]["practices"] == [
        {"code": "B.1", "label": "Conduire l'action collective"}
    ]


def test_reloading_the_draft_file_after_publication_is_refused(db):
    draft = load_draft()
    publish_framework_version(version=draft)

    with pytest.raises(FrameworkFileError, match="est publiée : elle ne peut pas être modifiée"):
        load_framework_version(data=validate_framework_data(draft_data()))


def test_publish_refuses_a_version_missing_a_dimension_role(db):
    draft = load_draft()
    Dimension.objects.filter(version=draft, role=DimensionRole.WISH).delete()

    with pytest.raises(FrameworkFileError) as refused:
        publish_framework_version(version=draft)

    assert str(refused.value) == (
        "La version « Petite grille d'essai — v2 » ne peut pas être publiée : dimensions : il manque les rôles wish."
    )
    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == (VersionStatus.DRAFT, None)


def test_publish_refuses_a_version_without_practices(db):
    draft = load_draft()
    Practice.objects.filter(version=draft).delete()

    with pytest.raises(FrameworkFileError) as refused:
        publish_framework_version(version=draft)

    assert str(refused.value) == (
        "La version « Petite grille d'essai — v2 » ne peut pas être publiée : "
        "axes[0].situations[0] (« A ») : au moins une pratique est attendue."
    )
    assert FrameworkVersion.objects.get(pk=draft.pk).status == VersionStatus.DRAFT


def test_publish_refuses_a_level_scale_without_values(db):
    draft = load_draft()
    Dimension.objects.get(version=draft, role=DimensionRole.LEVEL).options.update(value=None)

    with pytest.raises(FrameworkFileError, match="le niveau de pratique doit avoir au moins une modalité avec une valeur"):
        publish_framework_version(version=draft)


def test_publish_refuses_a_version_already_published(db):
    version = load_small_framework()

    with pytest.raises(FrameworkFileError, match="est déjà publiée"):
        publish_framework_version(version=version)


def test_a_file_published_without_practices_is_refused_at_loading(db):
    data = small_framework_data()
    data["axes"][1]["situations"][0]["practices"] = []

    with pytest.raises(FrameworkFileError, match=r"axes\[1\]\.situations\[0\] \(« C »\) : au moins une pratique"):
        validate_framework_data(data)


def test_a_draft_file_may_be_incomplete(db):
    data = draft_data()
    data["axes"][1]["situations"][0]["practices"] = []

    assert validate_framework_data(data)["axes"][1]["situations"][0]["practices"] == []


def test_answers_keep_their_version_when_a_new_one_is_published(db):
    first = load_small_framework()
    assessment, _raw = start_assessment(version=first)
    answer(assessment, "A.1", level="souvent")
    draft = load_draft()

    publish_framework_version(version=draft)

    assessment.refresh_from_db()
    saved = Answer.objects.select_related("practice", "level__dimension").get(assessment=assessment)
    assert assessment.version_id == first.pk
    assert (saved.practice.version_id, saved.level.dimension.version_id) == (first.pk, first.pk)
    assert get_default_version() == draft


def test_answers_given_on_a_draft_stay_on_it_once_published(db):
    draft = load_draft()
    assessment, _raw = start_assessment(version=draft)
    answer(assessment, "C.2", level="parfois")

    publish_framework_version(version=draft)

    saved = Answer.objects.select_related("practice").get(assessment=assessment)
    assert (assessment.version_id, saved.practice.version_id, saved.practice.code) == (draft.pk, draft.pk, "C.2")


# --- In the admin ----------------------------------------------------------------------------


def test_admin_can_edit_a_draft_practice(admin_client):
    draft = load_draft()
    practice = Practice.objects.get(version=draft, code="B.1")

    response = admin_client.post(
        reverse("admin:frameworks_practice_change", args=[practice.pk]),
        {"code": "B.1", "label": "Conduire l'action", "situation": practice.situation_id, "version": draft.pk, "position": 7},
    )

    assert response.status_code == 302
    practice.refresh_from_db()
    assert practice.position == 7


def test_admin_cannot_publish_by_editing_the_status(admin_client):
    draft = load_draft()

    page = admin_client.get(reverse("admin:frameworks_frameworkversion_change", args=[draft.pk]))

    assert page.status_code == 200
    assert b'name="status"' not in page.content
    assert b'name="title"' in page.content


def test_admin_publish_action_publishes_and_freezes_the_version(admin_client):
    draft = load_draft()
    practice = Practice.objects.get(version=draft, code="B.1")

    response = admin_client.post(
        reverse("admin:frameworks_frameworkversion_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
        follow=True,
    )
    page = admin_client.get(reverse("admin:frameworks_frameworkversion_change", args=[draft.pk]))
    post = admin_client.post(
        reverse("admin:frameworks_practice_change", args=[practice.pk]),
        {"code": "B.1", "label": "Modifié", "situation": practice.situation_id, "version": draft.pk, "position": 0},
    )

    assert "La version « Petite grille d&#x27;essai — v2 » est publiée." in response.content.decode()
    assert FrameworkVersion.objects.get(pk=draft.pk).is_published
    assert b'name="title"' not in page.content  # now read-only
    assert post.status_code == 403
    practice.refresh_from_db()
    assert practice.label == "Conduire l'action"


def test_admin_publish_action_says_why_a_version_cannot_be_published(admin_client):
    draft = load_draft()
    Dimension.objects.filter(version=draft, role=DimensionRole.CARRYING).delete()

    response = admin_client.post(
        reverse("admin:frameworks_frameworkversion_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
        follow=True,
    )

    assert "ne peut pas être publiée : dimensions : il manque les rôles carrying." in response.content.decode()
    assert FrameworkVersion.objects.get(pk=draft.pk).status == VersionStatus.DRAFT
