"""The admin reads positionings and frameworks; it never rewrites answers or a published grid."""

import pytest
from django.urls import reverse

from grille.accounts.models import User
from grille.assessments.services import start_assessment
from grille.frameworks.models import Practice
from tests.factories import answer


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser("admin@exemple.fr", "un-mot-de-passe-solide-42")
    client.force_login(admin)
    return client


def test_admin_shows_comments_as_text(admin_client, version):
    assessment, _raw = start_assessment(version=version)
    answer(assessment, "1.1", level="2", comment="<script>alert('x')</script>")

    response = admin_client.get(reverse("admin:assessments_assessment_change", args=[assessment.pk]))

    assert response.status_code == 200
    assert b"<script>alert(" not in response.content
    assert b"&lt;script&gt;alert(" in response.content


def test_admin_cannot_change_a_published_version(admin_client, version):
    practice = Practice.objects.get(version=version, code="1.1")

    page = admin_client.get(reverse("admin:frameworks_practice_change", args=[practice.pk]))
    post = admin_client.post(
        reverse("admin:frameworks_practice_change", args=[practice.pk]),
        {"code": "1.1", "label": "Modifié", "situation": practice.situation_id, "version": version.pk, "position": 0},
    )

    assert page.status_code == 200
    assert b'name="label"' not in page.content  # shown read-only
    assert post.status_code == 403
    practice.refresh_from_db()
    assert practice.label == "Financer les projets"


def test_admin_lists_frameworks_and_positionings(admin_client, version):
    start_assessment(version=version)

    for name in ("frameworks_frameworkversion", "frameworks_practice", "assessments_assessment"):
        assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
