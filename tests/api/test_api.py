"""The REST API through HTTP: every endpoint for each role, tokens, rate limit, bad input,
suppression, and a property-based run of every GET operation against our own OpenAPI schema."""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from datetime import timedelta
from uuid import uuid4

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.client import ClientHandler
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from grille.accounts.models import ApiToken, User
from grille.accounts.services import API_TOKENS_ACTIVE_MAX, create_api_token, revoke_api_token
from grille.api.auth import FAILURES_ALLOWED
from grille.assessments import services
from grille.assessments.exporters import assessment_to_dict
from grille.assessments.models import Assessment
from grille.assessments.selectors import get_profile
from grille.core.middleware import CONTENT_SECURITY_POLICY
from grille.disclosure.policy import ANONYMOUS_BATCH, ANONYMOUS_MIN
from grille.frameworks.services import load_framework_version, validate_framework_data
from grille.organisations.enums import ShareMode
from grille.organisations.models import Membership
from grille.organisations.services import create_organisation, share_assessment, withdraw_share
from grille.studies import services as study_services
from grille.studies.dashboard import build_dashboard
from tests.factories import (
    answer,
    answer_all,
    load_small_framework,
    make_user,
    small_framework_data,
)
from tests.organisations.conftest import join, submitted_positioning
from tests.studies.conftest import make_respondent

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The failed-token counter lives in the cache, shared by every test of the process.
    cache.clear()
    yield
    cache.clear()


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def call(method: str, path: str, token: str | None = None, *, data=None, client: Client | None = None, **extra):
    client = client or Client()
    headers = {**(bearer(token) if token else {}), **extra}
    body = json.dumps(data) if data is not None and not isinstance(data, str) else data
    return client.generic(method, f"{API}{path}", body or "", content_type="application/json", **headers)


def token_of(user: User, name: str = "Script") -> str:
    return create_api_token(user=user, name=name)[1]


def queries_for(method: str, path: str, token: str) -> int:
    # Once first, so that the token's use (recorded once a minute) and the grid are not counted.
    call(method, path, token)
    with CaptureQueriesContext(connection) as captured:
        assert call(method, path, token).status_code == 200
    return len(captured)


@pytest.fixture
def owner(db) -> User:
    return make_user("camille@exemple.fr")


@pytest.fixture
def owner_token(owner) -> str:
    return token_of(owner)


@pytest.fixture
def stranger(db) -> User:
    return make_user("sacha@ailleurs.fr")


@pytest.fixture
def stranger_token(stranger) -> str:
    return token_of(stranger)


@pytest.fixture
def draft(version, owner) -> Assessment:
    response = call("POST", "/positionnements", token_of(owner, name="Démarrage"))
    assert response.status_code == 201, response.content
    return Assessment.objects.get(uuid=response.json()["id"])


# --- Frameworks: public ----------------------------------------------------------------------


def test_frameworks_are_listed_without_a_token(version):
    response = call("GET", "/frameworks")

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "limit": 20,
        "offset": 0,
        "items": [
            {
                "code": "pratiques-ingenierie-territoriale",
                "name": version.framework.name,
                "publisher": version.framework.publisher,
                "published_versions": 1,
                "default_version": version.pk,
            }
        ],
    }


def test_frameworks_list_is_paginated_with_a_count(version):
    load_small_framework()

    first = call("GET", "/frameworks?limit=1").json()
    second = call("GET", "/frameworks?limit=1&offset=1").json()

    assert (first["count"], second["count"]) == (2, 2)
    assert len(first["items"]) == len(second["items"]) == 1
    assert {first["items"][0]["code"], second["items"][0]["code"]} == {"pratiques-ingenierie-territoriale", "petite-grille"}


def test_framework_versions_are_listed(version):
    response = call("GET", "/frameworks/pratiques-ingenierie-territoriale/versions")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["items"][0]["id"] == version.pk
    assert body["items"][0]["code"] == "2024"
    assert body["items"][0]["framework"] == "pratiques-ingenierie-territoriale"


def test_unknown_framework_is_404_in_french(version):
    response = call("GET", "/frameworks/inconnu/versions")

    assert response.status_code == 404
    assert response.json() == {"detail": "Introuvable."}


def test_version_gives_the_whole_grid(version):
    body = call("GET", f"/versions/{version.pk}").json()

    situations = [s for a in body["axes"] for s in a["situations"]]
    practices = [p["code"] for s in situations for p in s["practices"]]
    assert len(body["axes"]) == 3
    assert len(situations) == 8
    assert len(practices) == 24 and practices[0] == "1.1" and practices[-1] == "8.3"
    assert [d["role"] for d in body["dimensions"]] == ["level", "wish", "carrying"]
    level = body["dimensions"][0]
    assert [o["code"] for o in level["options"]] == ["0", "1", "2", "3", "nc"]
    assert level["options"][-1]["value"] is None


def test_draft_and_missing_versions_are_404(version):
    data = small_framework_data()
    data["version"]["status"] = "draft"
    draft_version = load_framework_version(data=validate_framework_data(data)).version
    assert draft_version.status == "draft"

    assert call("GET", f"/versions/{draft_version.pk}").status_code == 404
    assert call("GET", "/versions/999999").status_code == 404
    assert call("GET", "/frameworks/petite-grille/versions").status_code == 404
    assert [f["code"] for f in call("GET", "/frameworks").json()["items"]] == ["pratiques-ingenierie-territoriale"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=101", "limit"), ("offset=-1", "offset"), ("limit=beaucoup", "limit")],
)
def test_bad_pagination_is_400_with_a_french_message(version, query, field):
    response = call("GET", f"/frameworks?{query}")

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Requête invalide — ")
    assert field in detail


def test_unknown_api_address_is_a_json_404(db):
    response = call("GET", "/nulle-part")

    assert response.status_code == 404
    assert response.json() == {"detail": "Introuvable."}


# --- The token page ------------------------------------------------------------------------


TOKENS_PAGE = reverse("accounts:api_tokens")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_token_page_creates_a_token_shown_once_and_keeps_only_its_hash(owner):
    browser = signed_in(owner)

    response = browser.post(TOKENS_PAGE, {"name": "Tableur de l'équipe"})
    assert response.status_code == 302
    page = browser.get(TOKENS_PAGE).content.decode()
    raw = re.search(r'id="new-api-token" type="text" readonly value="([^"]+)"', page).group(1)

    token = ApiToken.objects.get(user=owner)
    assert token.name == "Tableur de l'équipe"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:8]
    assert len(raw) == 32  # 192 bits, URL-safe base64
    assert raw not in browser.get(TOKENS_PAGE).content.decode()
    assert call("GET", "/positionnements", raw).status_code == 200


def test_token_page_refuses_a_missing_name(owner):
    response = signed_in(owner).post(TOKENS_PAGE, {"name": "  "})

    assert response.status_code == 400
    assert "Donnez un nom à ce jeton" in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_token_page_refuses_a_token_beyond_the_active_limit(owner):
    for n in range(API_TOKENS_ACTIVE_MAX):
        token_of(owner, name=f"Outil {n}")

    response = signed_in(owner).post(TOKENS_PAGE, {"name": "Un de trop"})

    assert response.status_code == 400
    assert "révoquez-en un avant d'en créer un autre" in html.unescape(response.content.decode())
    assert ApiToken.objects.filter(user=owner).count() == API_TOKENS_ACTIVE_MAX


def test_token_page_lists_only_the_persons_own_tokens(owner, stranger):
    token_of(owner, name="Mon tableur")
    token_of(stranger, name="Son script")

    page = signed_in(owner).get(TOKENS_PAGE).content.decode()

    assert "Mon tableur" in page
    assert "Son script" not in page


def test_token_page_needs_signing_in(db):
    response = Client().get(TOKENS_PAGE)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_token_page_is_never_cached(owner):
    assert signed_in(owner).get(TOKENS_PAGE)["Cache-Control"] == "no-store"


def test_revoking_a_token_closes_the_api_to_it(owner, owner_token):
    token = ApiToken.objects.get(user=owner)

    response = signed_in(owner).post(reverse("accounts:api_token_revoke", args=[token.pk]))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert call("GET", "/positionnements", owner_token).status_code == 401


def test_someone_elses_token_cannot_be_revoked(owner, owner_token, stranger):
    token = ApiToken.objects.get(user=owner)

    response = signed_in(stranger).post(reverse("accounts:api_token_revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_positionings_page_links_to_the_token_page(owner):
    page = signed_in(owner).get(reverse("assessments:list")).content.decode()

    assert f'href="{TOKENS_PAGE}"' in page


# --- Authentication and rate limit -----------------------------------------------------------


def test_positionings_need_a_token(db):
    response = call("GET", "/positionnements")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"].startswith("Authentification requise")


@pytest.mark.parametrize("header", ["Bearer inconnu", "Bearer ", "Basic Y2FtaWxsZTp4"])
def test_unknown_tokens_are_401(db, header):
    response = Client().get(f"{API}/positionnements", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Authentification requise")


def test_revoked_token_is_401(owner, owner_token):
    revoke_api_token(token=ApiToken.objects.get(user=owner))

    assert call("GET", "/positionnements", owner_token).status_code == 401


def test_token_of_a_deactivated_person_is_401(owner, owner_token):
    User.objects.filter(pk=owner.pk).update(is_active=False)

    assert call("GET", "/positionnements", owner_token).status_code == 401


def test_token_use_is_recorded(owner, owner_token):
    assert ApiToken.objects.get(user=owner).last_used_at is None

    call("GET", "/positionnements", owner_token)

    assert ApiToken.objects.get(user=owner).last_used_at is not None


def test_personal_responses_are_never_cached(owner_token):
    assert call("GET", "/positionnements", owner_token)["Cache-Control"] == "no-store"


def test_failed_tokens_are_limited_per_client_address(owner_token):
    for _attempt in range(FAILURES_ALLOWED):
        assert call("GET", "/positionnements", "mauvais-jeton").status_code == 401

    refused = call("GET", "/positionnements", "mauvais-jeton")
    valid_from_same_address = call("GET", "/positionnements", owner_token)
    valid_from_elsewhere = call("GET", "/positionnements", owner_token, REMOTE_ADDR="192.0.2.7")

    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Trop de tentatives avec un jeton invalide")
    assert int(refused["Retry-After"]) == 600
    # Only failures are refused (issue 13): a valid token still works from the locked-out address.
    assert valid_from_same_address.status_code == 200
    assert valid_from_elsewhere.status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(owner_token, settings):
    settings.GRILLE_TRUSTED_PROXIES = 1
    proxied = {"REMOTE_ADDR": "127.0.0.1"}
    for _attempt in range(FAILURES_ALLOWED + 1):
        call("GET", "/positionnements", "mauvais-jeton", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxied)

    assert call("GET", "/positionnements", "mauvais-jeton", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxied).status_code == 429
    assert call("GET", "/positionnements", "mauvais-jeton", HTTP_X_FORWARDED_FOR="203.0.113.10", **proxied).status_code == 401


def test_a_forwarded_address_from_elsewhere_is_not_trusted(owner_token):
    direct = {"REMOTE_ADDR": "192.0.2.50"}
    for n in range(FAILURES_ALLOWED):
        # A client that changes the header at each attempt still counts as one address.
        call("GET", "/positionnements", "mauvais-jeton", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}", **direct)

    assert call("GET", "/positionnements", "mauvais-jeton", HTTP_X_FORWARDED_FOR="198.51.100.99", **direct).status_code == 429


# --- Positionings ------------------------------------------------------------------------------


def test_starting_a_positioning_makes_an_owned_draft_on_the_default_version(version, owner, owner_token):
    response = call("POST", "/positionnements", owner_token)

    assert response.status_code == 201
    body = response.json()
    assessment = Assessment.objects.get(uuid=body["id"])
    assert assessment.owner == owner
    assert assessment.version == version
    assert body["status"] == "draft"
    assert body["version"] == {"id": version.pk, "framework": "pratiques-ingenierie-territoriale", "code": "2024"}
    assert body["practices"] == 24
    assert body["answered"] == 0
    assert len(body["answers"]) == 24
    assert body["answers"][0] == {"practice": "1.1", "level": None, "wish": None, "carrying": None, "comment": ""}


def test_starting_without_a_published_grid_is_409(owner_token):
    response = call("POST", "/positionnements", owner_token)

    assert response.status_code == 409
    assert "Aucune grille n'est publiée" in response.json()["detail"]
    assert Assessment.objects.count() == 0


def test_list_shows_only_own_positionings_with_pagination(version, owner, owner_token, stranger_token):
    for _n in range(3):
        call("POST", "/positionnements", owner_token)
    call("POST", "/positionnements", stranger_token)
    mine = {str(u) for u in Assessment.objects.filter(owner=owner).values_list("uuid", flat=True)}

    first = call("GET", "/positionnements?limit=2", owner_token).json()
    rest = call("GET", "/positionnements?limit=2&offset=2", owner_token).json()

    assert (first["count"], first["limit"], first["offset"]) == (3, 2, 0)
    assert len(first["items"]) == 2 and len(rest["items"]) == 1
    assert {i["id"] for i in first["items"] + rest["items"]} == mine


def test_list_counts_answered_practices(version, draft, owner_token):
    answer_all(draft, ["1.1", "1.2"], level="2")
    answer(draft, "1.3", wish="oui")

    item = call("GET", "/positionnements", owner_token).json()["items"][0]

    assert item["answered"] == 2


def test_putting_an_answer_saves_it(draft, owner_token):
    response = call(
        "PUT", f"/positionnements/{draft.uuid}/reponses/1.2", owner_token,
        data={"level": "3", "wish": "priorite", "carrying": "partenariat", "comment": "Avec la région"},
    )

    assert response.status_code == 200
    assert response.json() == {
        "practice": "1.2", "level": "3", "wish": "priorite", "carrying": "partenariat",
        "comment": "Avec la région", "answered": 1,
    }
    detail = call("GET", f"/positionnements/{draft.uuid}", owner_token).json()
    assert detail["answers"][1] == {
        "practice": "1.2", "level": "3", "wish": "priorite", "carrying": "partenariat", "comment": "Avec la région",
    }
    assert detail["answered"] == 1


def test_putting_an_answer_again_replaces_it_whole(draft, owner_token):
    path = f"/positionnements/{draft.uuid}/reponses/1.1"
    call("PUT", path, owner_token, data={"level": "2", "wish": "oui", "comment": "x"})

    response = call("PUT", path, owner_token, data={"level": "nc"})

    assert response.json()["answered"] == 1
    assert call("GET", f"/positionnements/{draft.uuid}", owner_token).json()["answers"][0] == {
        "practice": "1.1", "level": "nc", "wish": None, "carrying": None, "comment": "",
    }


@pytest.mark.parametrize(
    ("code", "data", "message"),
    [
        ("1.1", {"level": "7"}, "« 7 » n'est pas une réponse possible"),
        ("1.1", {"level": "2", "carrying": "ailleurs"}, "« ailleurs » n'est pas une réponse possible"),
        ("9.9", {"level": "2"}, "La pratique « 9.9 » n'existe pas"),
        ("1.1", {"level": "2", "comment": "x" * 2001}, "Le commentaire est trop long"),
        ("1.1", {"level": 2}, "level : doit être une chaîne de caractères"),
        ("1.1", "{pas du json", "Requête invalide"),
        ("1.1", [1, 2], "Requête invalide"),
    ],
)
def test_bad_answers_are_400_and_keep_what_was_saved(draft, owner_token, code, data, message):
    answer(draft, "1.1", level="1", comment="déjà là")

    response = call("PUT", f"/positionnements/{draft.uuid}/reponses/{code}", owner_token, data=data)

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert call("GET", f"/positionnements/{draft.uuid}", owner_token).json()["answers"][0] == {
        "practice": "1.1", "level": "1", "wish": None, "carrying": None, "comment": "déjà là",
    }


def test_submitting_then_submitting_again_is_409(draft, owner_token):
    answer(draft, "1.1", level="2")
    path = f"/positionnements/{draft.uuid}/envoi"

    first = call("POST", path, owner_token)
    second = call("POST", path, owner_token)

    assert first.status_code == 200
    assert first.json()["status"] == "submitted"
    assert first.json()["submitted_at"] is not None
    assert second.status_code == 409
    assert "déjà été envoyé" in second.json()["detail"]


def test_answers_to_a_submitted_positioning_are_409(draft, owner_token):
    answer(draft, "1.1", level="2")
    call("POST", f"/positionnements/{draft.uuid}/envoi", owner_token)

    response = call("PUT", f"/positionnements/{draft.uuid}/reponses/1.1", owner_token, data={"level": "3"})

    assert response.status_code == 409
    assert call("GET", f"/positionnements/{draft.uuid}", owner_token).json()["answers"][0]["level"] == "2"


def test_answers_after_the_deadline_are_409(draft, owner_token):
    Assessment.objects.filter(pk=draft.pk).update(answers_until=timezone.now() - timedelta(days=1))

    response = call("PUT", f"/positionnements/{draft.uuid}/reponses/1.1", owner_token, data={"level": "3"})

    assert response.status_code == 409
    assert "La période de réponse est close" in response.json()["detail"]


def test_an_answer_with_an_earlier_edit_time_than_the_stored_one_is_409_and_keeps_it(draft, owner_token):
    # Issue 13: the later edit wins on every write path, by the same stamps as autosave.
    path = f"/positionnements/{draft.uuid}/reponses/1.1"
    stamp = int(time.time() * 1000)
    assert call("PUT", path, owner_token, data={"level": "3", "edited_at": stamp}).status_code == 200

    stale = call("PUT", path, owner_token, data={"level": "0", "edited_at": stamp - 60_000})
    later = call("PUT", path, owner_token, data={"level": "2", "comment": "x", "edited_at": stamp + 1})

    assert stale.status_code == 409
    assert "la réponse la plus récente est conservée" in stale.json()["detail"]
    assert later.status_code == 200
    assert call("GET", f"/positionnements/{draft.uuid}", owner_token).json()["answers"][0]["level"] == "2"


def test_an_answer_without_an_edit_time_is_stamped_by_the_server_and_beats_an_older_autosave(draft, owner_token):
    call("PUT", f"/positionnements/{draft.uuid}/reponses/1.1", owner_token, data={"level": "3"})

    stale = services.save_answers(
        assessment=draft, items=[services.AnswerInput("1.1", level="0")], edited_at=int(time.time() * 1000) - 60_000
    )

    assert [a.level.code for a in stale.kept] == ["3"]


@pytest.mark.parametrize("stamp", [-1, "soon", 10**16])
def test_a_malformed_edit_time_is_400(draft, owner_token, stamp):
    response = call("PUT", f"/positionnements/{draft.uuid}/reponses/1.1", owner_token, data={"level": "3", "edited_at": stamp})

    assert response.status_code == 400
    assert "edited_at" in response.json()["detail"]


def test_submitting_without_answers_is_400(draft, owner_token):
    response = call("POST", f"/positionnements/{draft.uuid}/envoi", owner_token)

    assert response.status_code == 400
    assert "Renseignez au moins une pratique" in response.json()["detail"]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_deleting_a_positioning_erases_it(draft, owner_token):
    response = call("DELETE", f"/positionnements/{draft.uuid}", owner_token)

    assert response.status_code == 204
    assert not Assessment.objects.filter(pk=draft.pk).exists()
    assert call("DELETE", f"/positionnements/{draft.uuid}", owner_token).status_code == 404


def test_profile_has_the_same_numbers_as_the_page_export(owner, draft, owner_token):
    answer(draft, "1.1", level="3", wish="priorite", carrying="partenariat")
    answer(draft, "1.2", level="nc")
    answer(draft, "4.1", level="1", wish="oui")

    response = call("GET", f"/positionnements/{draft.uuid}/profil", owner_token)
    export = signed_in(owner).get(reverse("assessments:export_json", args=[draft.uuid]))

    assert response.status_code == 200
    assert response.json() == json.loads(export.content)
    assert response.json() == json.loads(json.dumps(assessment_to_dict(draft, get_profile(draft))))
    assert response.json()["profil"]["pratiques_renseignees"] == 3
    assert response.json()["reponses"][0]["niveau"] == {"code": "3", "libelle": "C'est le cœur de mon activité", "valeur": 3}


def test_profile_is_the_download_key_for_key(owner, draft, owner_token):
    answer(draft, "1.1", level="3", wish="priorite", carrying="partenariat", comment="Avec la région.")

    response = call("GET", f"/positionnements/{draft.uuid}/profil", owner_token)
    export = signed_in(owner).get(reverse("assessments:export_json", args=[draft.uuid]))

    # One description of the document serialises both: the same keys, in the same order.
    assert json.dumps(response.json()) == json.dumps(json.loads(export.content))
    assert list(response.json()["reponses"][0]) == [
        "pratique", "libelle", "situation", "commentaire", "niveau", "souhait", "portage",
    ]


POSITIONING_CALLS = [
    ("GET", "/positionnements/{uuid}", None),
    ("GET", "/positionnements/{uuid}/profil", None),
    ("PUT", "/positionnements/{uuid}/reponses/1.1", {"level": "0"}),
    ("POST", "/positionnements/{uuid}/envoi", None),
    ("DELETE", "/positionnements/{uuid}", None),
]


@pytest.mark.parametrize(("method", "path", "data"), POSITIONING_CALLS)
def test_someone_elses_positioning_is_the_same_404_as_a_missing_one(draft, stranger_token, method, path, data):
    answer(draft, "1.1", level="2")

    theirs = call(method, path.format(uuid=draft.uuid), stranger_token, data=data)
    missing = call(method, path.format(uuid=uuid4()), stranger_token, data=data)

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json() == {"detail": "Introuvable."}
    assert Assessment.objects.get(pk=draft.pk).status == "draft"


@pytest.mark.parametrize(("method", "path", "data"), POSITIONING_CALLS)
def test_positioning_endpoints_need_a_token(draft, method, path, data):
    assert call(method, path.format(uuid=draft.uuid), data=data).status_code == 401


def test_a_positioning_opened_without_an_account_is_not_reachable(version, owner_token):
    browser = Client()
    browser.post(reverse("assessments:start"))
    anonymous = Assessment.objects.get(owner__isnull=True)

    assert call("GET", f"/positionnements/{anonymous.uuid}", owner_token).status_code == 404


def test_a_malformed_positioning_id_is_400(owner_token):
    response = call("GET", "/positionnements/pas-un-uuid", owner_token)

    assert response.status_code == 400
    assert "uuid : n'est pas un identifiant valide (UUID)" in response.json()["detail"]


def test_positioning_list_queries_do_not_grow_with_the_list(version, owner_token):
    call("POST", "/positionnements", owner_token)
    few = queries_for("GET", "/positionnements?limit=100", owner_token)
    for _n in range(6):
        call("POST", "/positionnements", owner_token)

    assert queries_for("GET", "/positionnements?limit=100", owner_token) == few


# --- Team map ----------------------------------------------------------------------------------


@pytest.fixture
def team(version, owner):
    """The owner facilitates a structure; two named members and one anonymous member shared."""
    organisation = create_organisation(user=owner, name="Communauté de communes du Val", structure_type="epci")
    facilitator = Membership.objects.get(organisation=organisation, user=owner)
    people = {}
    for email, name, answers, mode in [
        ("bruno@exemple.fr", "Bruno Membre", {"1.1": ("3", "oui", "partenariat"), "1.2": "1"}, ShareMode.NAMED),
        ("chloe@exemple.fr", "Chloé Membre", {"1.1": ("1", "non", "interne"), "1.2": "nc"}, ShareMode.NAMED),
        ("dora@exemple.fr", "Dora Discrète", {"1.1": "0"}, ShareMode.ANONYMOUS),
    ]:
        member = join(facilitator, make_user_named(email, name))
        share_assessment(membership=member, assessment=submitted_positioning(member.user, version, answers), mode=mode)
        people[email] = member
    return organisation, people


def make_user_named(email: str, name: str) -> User:
    return User.objects.create_user(email, display_name=name)


def test_facilitator_reads_the_team_figures(team, owner_token):
    organisation, _people = team

    response = call("GET", f"/structures/{organisation.uuid}/equipe", owner_token)

    assert response.status_code == 200
    body = response.json()
    assert body["organisation"] == {"id": str(organisation.uuid), "name": "Communauté de communes du Val"}
    assert (body["contributions"], body["named"], body["anonymous"], body["anonymous_pending"]) == (2, 2, 0, 1)
    # Anonymous shares are counted from five people on (and change by batches of three new ones).
    assert (body["anonymous_min"], body["approximate"]) == (ANONYMOUS_MIN, False) == (5, False)
    p11 = body["practices"][0]
    assert p11["practice"] == "1.1"
    assert (p11["answered"], p11["scored"], p11["regular"], p11["wish"], p11["partnership"]) == (2, 2, 1, 1, 1)
    assert p11["mean"] == 2.0
    assert {lv["level"]: lv["count"] for lv in p11["levels"]} == {"0": 0, "1": 1, "2": 0, "3": 1, "nc": 0}
    assert p11["approximate"] is False
    p12 = body["practices"][1]
    assert (p12["answered"], p12["scored"], p12["mean"]) == (2, 1, 1.0)
    situation_1 = body["situations"][0]
    assert situation_1["code"] == "1"
    # The mean of the members' scores: Bruno (3 + 1) / 2, Chloé 1 (« Non concerné·e » left out).
    assert (situation_1["mean"], situation_1["approximate"]) == (1.5, False)
    assert [m["name"] for m in body["members"]] == ["Bruno Membre", "Chloé Membre"]
    bruno = body["members"][0]
    assert bruno["answers"][0] == {"practice": "1.1", "level": "3", "wish": "oui", "carrying": "partenariat"}
    assert bruno["situations"]["1"] == 2.0


def test_anonymous_shares_count_in_batches_approximately_and_never_by_name(team, owner_token, version):
    organisation, people = team
    facilitator = Membership.objects.get(organisation=organisation, user__email="camille@exemple.fr")
    path = f"/structures/{organisation.uuid}/equipe"
    assert (ANONYMOUS_BATCH, ANONYMOUS_MIN) == (3, 5)
    anonymous = [people["dora@exemple.fr"]]

    def share_anonymously(n: int) -> None:
        member = join(facilitator, make_user_named(f"anonyme{n}@exemple.fr", f"Anonyme {n}"))
        share_assessment(
            membership=member, assessment=submitted_positioning(member.user, version, {"1.1": "0"}), mode=ShareMode.ANONYMOUS
        )
        anonymous.append(member)

    def counts() -> tuple:
        body = call("GET", path, owner_token).json()
        return body["contributions"], body["anonymous"], body["anonymous_pending"], body["approximate"]

    share_anonymously(1)
    # Two anonymous shares: waiting for a batch of three new ones.
    assert counts() == (2, 0, 2, False)
    share_anonymously(2)
    # Three: released as a batch, but not shown before five people.
    assert counts() == (2, 0, 3, False)
    for n in range(3, 9):
        share_anonymously(n)

    body = call("GET", path, owner_token).json()

    # Nine anonymous answers at level 0 on 1.1 read 7 to 11 after noise: shown; the empty cells are hidden.
    assert (body["named"], body["anonymous_pending"], body["approximate"]) == (2, 0, True)
    assert 7 <= body["anonymous"] <= 11
    assert body["contributions"] == 2 + body["anonymous"]
    p11 = body["practices"][0]
    anonymous_zeros = {lv["level"]: lv["count"] for lv in p11["levels"]}["0"]
    assert 7 <= anonymous_zeros <= 11
    assert (p11["answered"], p11["approximate"]) == (2 + anonymous_zeros, True)
    assert [m["name"] for m in body["members"]] == ["Bruno Membre", "Chloé Membre"]
    assert "Dora" not in json.dumps(body) and "Anonyme" not in json.dumps(body)

    # A departure shows no anonymous figure until the next batch of three new shares.
    withdraw_share(membership=anonymous[4])
    assert counts() == (2, 0, 8, False)
    share_anonymously(9)
    share_anonymously(10)
    assert counts() == (2, 0, 10, False)
    share_anonymously(11)
    contributions, shown, pending, approximate = counts()
    assert (pending, approximate) == (0, True)
    assert 9 <= shown <= 13 and contributions == 2 + shown


def test_members_who_do_not_facilitate_read_the_same_team_figures(team, owner_token):
    organisation, people = team
    path = f"/structures/{organisation.uuid}/equipe"

    response = call("GET", path, token_of(people["bruno@exemple.fr"].user))

    # One answer for the page, the reports and the API: every member sees the team map.
    assert response.status_code == 200
    assert response.json() == call("GET", path, owner_token).json()


def test_outsiders_get_404_and_anonymous_callers_401(team, stranger_token):
    organisation, _people = team

    outsider = call("GET", f"/structures/{organisation.uuid}/equipe", stranger_token)
    missing = call("GET", f"/structures/{uuid4()}/equipe", stranger_token)

    assert outsider.status_code == missing.status_code == 404
    assert outsider.json() == missing.json()
    assert call("GET", f"/structures/{organisation.uuid}/equipe").status_code == 401


def test_team_queries_do_not_grow_with_the_team(team, owner_token, version):
    organisation, _people = team
    path = f"/structures/{organisation.uuid}/equipe"
    few = queries_for("GET", path, owner_token)
    facilitator = Membership.objects.get(organisation=organisation, user__email="camille@exemple.fr")
    for n in range(4):
        member = join(facilitator, make_user_named(f"m{n}@exemple.fr", f"Membre {n}"))
        share_assessment(
            membership=member, assessment=submitted_positioning(member.user, version, {"1.1": "2"}), mode=ShareMode.NAMED
        )

    assert queries_for("GET", path, owner_token) == few


# --- Study results ------------------------------------------------------------------------------


@pytest.fixture
def analyst(owner) -> User:
    owner.user_permissions.add(Permission.objects.get(codename="run_studies"))
    return owner


@pytest.fixture
def campaign(version, analyst):
    now = timezone.now()
    return study_services.create_campaign(
        user=analyst, name="Étude des catalyseurs", wave_year=2024, version=version,
        opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=30),
        consent_text="J'accepte que mes réponses servent à l'étude.", threshold=5,
    )


def respond(campaign, n: int, *, structure: str = "association", level: str = "2") -> None:
    for i in range(n):
        make_respondent(
            campaign,
            profile={"structure": [structure], "territoire": ["rural"]},
            levels={"1.1": level, "1.2": str(i % 4), "4.1": "3", "8.3": "nc"},
        )


def results(campaign, token: str, query: str = ""):
    return call("GET", f"/etudes/{campaign.uuid}/resultats{query}", token)


def test_too_few_respondents_hide_every_figure(campaign, owner_token):
    respond(campaign, 4)

    response = results(campaign, owner_token)

    assert response.status_code == 200
    body = response.json()
    assert body["population_suppressed"] is True
    assert body["respondents"] is None
    assert body["situations"] == body["axes"] == body["practices"] == []
    assert body["threshold"] == 5


def test_study_results_are_the_dashboard_figures_with_suppression(campaign, owner_token):
    respond(campaign, 10)

    body = results(campaign, owner_token).json()
    board = build_dashboard(campaign)

    assert 8 <= body["respondents"] <= 12  # perturbed by at most 2
    assert body["population_suppressed"] is False
    p11 = body["practices"][0]
    assert p11["practice"] == "1.1"
    value = p11["levels"][2]["value"]
    assert p11["levels"][2] == {"level": "2", "value": value, "suppressed": False, "approximate": True}
    assert 8 <= value <= 12
    # Total and mean are made of the shown counts only.
    assert p11["total"] == {"value": value, "suppressed": False, "approximate": True}
    assert p11["mean"]["n"] == value and p11["mean"]["mean"] == 2.0 and p11["mean"]["approximate"] is True
    # 1.2: levels 0, 1, 2, 3, 0, 1, 2, 3, 0, 1 — each count is under k: only a 3 pushed to 5 by
    # the noise can show, never a 2, nor a zero (« Non concerné·e »).
    p12 = body["practices"][1]
    shown = {c["level"]: c["value"] for c in p12["levels"] if not c["suppressed"]}
    assert set(shown) <= {"0", "1"} and set(shown.values()) <= {5}
    # The same cells as the results page, one by one.
    for row, api_row in zip(board.practices, body["practices"], strict=True):
        assert [(c.suppressed, c.value) for _o, c in row.levels] == [(c["suppressed"], c["value"]) for c in api_row["levels"]]
        assert (row.answered.suppressed, row.answered.value) == (api_row["total"]["suppressed"], api_row["total"]["value"])
        assert (row.wish.suppressed, row.wish.value) == (api_row["wish"]["suppressed"], api_row["wish"]["value"])
        assert (row.mean.suppressed, row.mean.mean) == (api_row["mean"]["suppressed"], api_row["mean"]["mean"])
    assert [s["mean"]["mean"] for s in body["situations"]] == [c.mean for _s, c in board.situations]


@pytest.fixture
def fixed_record_keys(monkeypatch):
    """Record keys from a fixed seed: the cell-key noise, hence which small cell reads below k,
    is then the same on every run (with random keys a situation class can perturb to nothing)."""
    import random

    keys = random.Random(2024)
    # Field defaults are read through the cached `_get_default`, so that is what is replaced.
    monkeypatch.setattr(Assessment._meta.get_field("record_key"), "_get_default", lambda: keys.getrandbits(31))


def test_no_suppressed_figure_carries_a_value(campaign, owner_token, fixed_record_keys):
    respond(campaign, 8)
    respond(campaign, 10, structure="epci", level="3")
    respond(campaign, 2, structure="commune", level="0")

    body = results(campaign, owner_token, "?comparer=structure").json()

    def walk(node):
        if isinstance(node, dict):
            if node.get("suppressed") is True:
                figures = {k: v for k, v in node.items() if k not in {"suppressed", "level", "code", "label", "reason", "approximate"}}
                assert set(figures.values()) == {None}, node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body)
    segments = {s["code"]: s for s in body["segments"]}
    # 2 communes are under k; the other segments differ from everyone by 10 and 12 people.
    assert segments["commune"] == {"code": "commune", "label": "Commune", "size": None, "suppressed": True, "reason": "too-few"}
    assert segments["association"]["suppressed"] is False and 6 <= segments["association"]["size"] <= 10
    assert segments["epci"]["suppressed"] is False and 8 <= segments["epci"]["size"] <= 12
    situation_1 = body["situations"][0]["segments"]
    assert situation_1["commune"]["suppressed"] is True
    assert situation_1["epci"]["suppressed"] is False


def test_filters_use_the_page_rules_small_complements_included(campaign, owner_token):
    respond(campaign, 8)
    respond(campaign, 2, structure="commune")

    filtered = results(campaign, owner_token, "?filtre=structure:association").json()
    respond(campaign, 5, structure="commune")
    enough = results(campaign, owner_token, "?filtre=structure:association&filtre=territoire:rural").json()

    # 8 association answers, but the 2 left out could be recomputed from the whole: hidden.
    assert filtered["population_suppressed"] is True
    assert filtered["reason"] == "neighbour"
    assert filtered["filters"] == {"structure": "association"}
    assert enough["population_suppressed"] is False
    assert 6 <= enough["respondents"] <= 10
    assert enough["filters"] == {"structure": "association", "territoire": "rural"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?filtre=structure:inconnue", "Filtre inconnu"),
        ("?filtre=structure", "Filtre inconnu"),
        ("?filtre=nulle:part", "Filtre inconnu"),
        ("?filtre=structure:association&filtre=structure:commune", "Un seul filtre par question"),
        ("?comparer=inconnue", "Question de comparaison inconnue"),
        ("?filtre=structure:association&filtre=territoire:rural&comparer=region", "Au plus 2 questions"),
    ],
)
def test_bad_study_filters_are_400(campaign, owner_token, query, message):
    response = results(campaign, owner_token, query)

    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_study_results_queries_do_not_grow_with_the_campaign(campaign, owner_token):
    path = f"/etudes/{campaign.uuid}/resultats?comparer=structure"
    respond(campaign, 10)
    few = queries_for("GET", path, owner_token)
    respond(campaign, 10, structure="commune")

    assert queries_for("GET", path, owner_token) == few


def test_study_results_are_404_for_anyone_but_its_analysts(campaign, stranger_token, stranger):
    stranger.user_permissions.add(Permission.objects.get(codename="run_studies"))

    assert results(campaign, stranger_token).status_code == 404
    assert results(campaign, stranger_token).json() == call("GET", f"/etudes/{uuid4()}/resultats", stranger_token).json()
    assert call("GET", f"/etudes/{campaign.uuid}/resultats").status_code == 401


# --- Schema and docs --------------------------------------------------------------------------


def test_openapi_schema_describes_every_endpoint_and_the_token(db):
    response = call("GET", "/openapi.json")

    schema = response.json()
    assert response.status_code == 200
    assert schema["info"]["title"] == "Grille API"
    assert set(schema["paths"]) == {
        f"{API}{p}"
        for p in [
            "/frameworks", "/frameworks/{code}/versions", "/versions/{version_id}", "/positionnements",
            "/positionnements/{uuid}", "/positionnements/{uuid}/reponses/{code}", "/positionnements/{uuid}/envoi",
            "/positionnements/{uuid}/profil", "/structures/{uuid}/equipe", "/etudes/{uuid}/resultats",
        ]
    }
    assert schema["components"]["securitySchemes"] == {"ApiTokenAuth": {"type": "http", "scheme": "bearer"}}
    assert "security" not in schema["paths"][f"{API}/frameworks"]["get"]
    assert schema["paths"][f"{API}/positionnements"]["get"]["security"] == [{"ApiTokenAuth": []}]


def test_docs_page_loads_only_local_static_files_under_the_strict_policy(db):
    response = call("GET", "/docs")

    page = response.content.decode()
    assert response.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert len(urls) >= 4, page
    for url in urls:
        assert url.startswith("/static/ninja/"), url
        assert finders.find(url.removeprefix("/static/")), url
    # Every script is a file: the only inline one is JSON data, which a browser never runs.
    assert re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page) == [' type="application/json" id="swagger-settings"']
    # Swagger UI would otherwise send the schema to validator.swagger.io.
    assert '"validatorUrl": null' in page
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_other_pages_keep_the_strict_policy(version):
    assert Client().get(reverse("pages:home"))["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert call("GET", "/frameworks")["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


# --- Property-based: every GET operation against our own OpenAPI schema ------------------------


class DjangoTestApp:
    """A WSGI app over Django's test handler: the requests share the test's database
    transaction, as the test client's do (a plain WSGIHandler would close the connection)."""

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=True)

    def __call__(self, environ, start_response):
        response = self.handler(environ)
        headers = [*response.items(), *(("Set-Cookie", c.output(header="")) for c in response.cookies.values())]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]


@pytest.fixture
def world(version, owner, owner_token, team, campaign):
    """Real objects for the generated requests to reach, beside random identifiers."""
    own = submitted_positioning(owner, version, {"1.1": ("2", "oui", "interne"), "2.1": "nc"})
    respond(campaign, 6)
    organisation, _people = team
    return {
        "positionnements": {"uuid": str(own.uuid)},
        "structures": {"uuid": str(organisation.uuid)},
        "etudes": {"uuid": str(campaign.uuid)},
        "versions": {"version_id": version.pk},
        "frameworks": {"code": "pratiques-ingenierie-territoriale"},
    }


def _strategy(operation, world):
    """Valid and invalid random requests, and as many aimed at objects that exist, so that real
    figures are checked too."""
    strategies = [operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE)]
    fixed = world[operation.path.split("/")[3]] if "{" in operation.path else None
    if fixed is None:
        return st.one_of(strategies)
    strategies.append(operation.as_strategy(path_parameters=fixed))
    if operation.path.endswith("/resultats"):
        strategies += [
            operation.as_strategy(path_parameters=fixed, query={"comparer": "structure"}),
            operation.as_strategy(path_parameters=fixed, query={"filtre": ["territoire:rural"]}),
        ]
    return st.one_of(strategies)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_get_operations_answer_as_their_schema_says(world, owner_token):
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", DjangoTestApp()).include(method="GET")
    operations = [result.ok() for result in schema.get_all_operations()]
    headers = {"Authorization": f"Bearer {owner_token}"}
    statuses: set[int] = set()

    for operation in operations:

        @given(case=_strategy(operation, world))
        @settings(
            max_examples=25, deadline=None, derandomize=True, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def conforms(case):
            response = case.call(headers=headers)
            statuses.add(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=headers)

        conforms()

    assert len(operations) == 8
    assert {200, 400, 404} <= statuses
