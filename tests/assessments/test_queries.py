"""Query counts at two sizes: the number of queries must not grow with the number of rows."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grille.assessments import services
from grille.assessments.grants import SESSION_KEY
from tests.factories import answer_all, make_user


def queries_for(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def owned_positionings(version, user, count: int, codes: list[str]):
    made = []
    for _ in range(count):
        assessment, _raw = services.start_assessment(version=version, owner=user)
        answer_all(assessment, codes, level="2", wish="oui", carrying="interne")
        services.submit_assessment(assessment=assessment)
        made.append(assessment)
    return made


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def browser_with(assessments) -> Client:
    browser = Client()
    session = browser.session
    session[SESSION_KEY] = [str(a.uuid) for a in assessments]
    session.save()
    return browser


def test_list_of_a_signed_in_person_takes_the_same_queries_for_1_or_10_positionings(version, grid):
    codes = [p.code for p in grid.practices]
    one, ten = make_user("une@exemple.fr"), make_user("dix@exemple.fr")
    owned_positionings(version, one, 1, codes[:3])
    owned_positionings(version, ten, 10, codes)

    small = queries_for(signed_in(one), reverse("assessments:list"))
    large = queries_for(signed_in(ten), reverse("assessments:list"))

    assert small == large, (small, large)
    # Session, user, the positionings, and the two permission lookups of the navigation.
    assert large <= 5, large


def test_list_of_an_anonymous_browser_takes_the_same_queries_for_1_or_10_positionings(version, grid):
    codes = [p.code for p in grid.practices]
    first = [services.start_assessment(version=version)[0]]
    many = [services.start_assessment(version=version)[0] for _ in range(10)]
    for assessment in many:
        answer_all(assessment, codes, level="1")

    small = queries_for(browser_with(first), reverse("assessments:list"))
    large = queries_for(browser_with(many), reverse("assessments:list"))

    assert small == large, (small, large)


def test_profile_takes_the_same_queries_for_1_or_10_positionings_and_1_or_24_answers(version, grid):
    codes = [p.code for p in grid.practices]
    one, ten = make_user("une@exemple.fr"), make_user("dix@exemple.fr")
    (lone,) = owned_positionings(version, one, 1, codes[:1])
    latest = owned_positionings(version, ten, 10, codes)[-1]

    small = queries_for(signed_in(one), reverse("assessments:profile", args=[lone.uuid]))
    large = queries_for(signed_in(ten), reverse("assessments:profile", args=[latest.uuid]))

    # Only the larger case has a previous positioning to compare with: one more query, for its answers.
    assert large - small == 1
    # One of them reads the « Pour aller plus loin » resources of every practice at once,
    # one the correspondence tables the profile can be read through, one the organisations
    # the positioning may be shared with (« Partager avec … »); and three make the key of the
    # page kept for the next views (core/skeleton.py): the positioning with the previous one,
    # and a digest of the resources and of the tables.
    assert large <= 14, large


def test_a_submitted_profile_seen_again_reads_no_answer_and_no_resource(version, grid):
    codes = [p.code for p in grid.practices]
    ten = make_user("dix@exemple.fr")
    latest = owned_positionings(version, ten, 10, codes)[-1]
    client = signed_in(ten)
    url = reverse("assessments:profile", args=[latest.uuid])
    first = client.get(url).content
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url).content
    assert again.count(b"<svg") == first.count(b"<svg") > 0
    sql = [q["sql"] for q in captured.captured_queries]
    # The session and the person; the positioning with the previous one and its participation
    # (one statement); the resources' and tables' digest (two); then what the menu of a
    # signed-in person (permissions) and the offer to share with their structures read.
    assert len(sql) <= 8, sql
    assert not any("assessments_answer" in q for q in sql), sql
    assert not any('"frameworks_resource"."id"' in q for q in sql), sql


def test_profile_with_a_previous_positioning_takes_the_same_queries_for_2_or_10(version, grid):
    codes = [p.code for p in grid.practices]
    two, ten = make_user("deux@exemple.fr"), make_user("dix@exemple.fr")
    second = owned_positionings(version, two, 2, codes[:2])[-1]
    tenth = owned_positionings(version, ten, 10, codes)[-1]

    small = queries_for(signed_in(two), reverse("assessments:profile", args=[second.uuid]))
    large = queries_for(signed_in(ten), reverse("assessments:profile", args=[tenth.uuid]))

    assert small == large, (small, large)
