"""Issue 13, finding 7: whatever goes wrong, the API answers {"detail": "…"} in JSON and in French.

The attacks: a method an address does not take (405), a body over Django's size limit (413), a body
that is not JSON, an address the API does not have."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from grille.api.api import api
from tests.api.test_api import API, bearer, call, token_of
from tests.factories import make_user

SOME_UUID = "00000000-0000-4000-8000-000000000013"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _concrete(path: str) -> str:
    """An address of the operation: numbers for numeric ids, a fresh UUID for the others."""
    path = path.replace("{version_id}", "1").replace("{code}", "1.1")
    return re.sub(r"\{[^}]+\}", lambda _m: SOME_UUID, path)


def _wrong_methods() -> list[tuple[str, str, list[str]]]:
    cases = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        allowed = sorted(method.upper() for method in operations)
        for method in METHODS:
            if method not in allowed:
                cases.append((method, _concrete(path), allowed))
    return cases


WRONG_METHODS = _wrong_methods()


def assert_json_error(response, status: int) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert list(body) == ["detail"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body["detail"]


def test_every_route_is_covered():
    assert len({path for _method, path, _allowed in WRONG_METHODS}) == len(api.get_openapi_schema()["paths"])


@pytest.mark.parametrize(("method", "path", "allowed"), WRONG_METHODS, ids=[f"{m} {p}" for m, p, _a in WRONG_METHODS])
def test_a_wrong_method_is_a_json_405_in_french(db, method, path, allowed):
    response = Client().generic(method, path, "", content_type="application/json")

    detail = assert_json_error(response, 405)
    assert detail.startswith("Méthode non autorisée")
    for name in allowed:
        assert name in detail
    assert sorted(m.strip() for m in response["Allow"].split(",")) == allowed


def test_a_wrong_method_with_a_token_is_the_same_405(db):
    token = token_of(make_user("camille@exemple.fr"))
    response = call("PATCH", "/positionnements", token)

    assert_json_error(response, 405)


@pytest.fixture
def small_uploads(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/positionnements/{draft}/reponses/1.1"), ("POST", "/positionnements/{draft}/envoi"), ("POST", "/positionnements")],
)
def test_an_over_size_body_is_a_json_413_in_french(version, small_uploads, method, path):
    owner = make_user("camille@exemple.fr")
    token = token_of(owner)
    draft = call("POST", "/positionnements", token).json()["id"]
    body = json.dumps({"level": "2", "padding": "x" * (small_uploads * 2)})

    response = Client().generic(
        method, f"{API}{path.format(draft=draft)}", body, content_type="application/json", **bearer(token)
    )

    detail = assert_json_error(response, 413)
    assert "trop volumineu" in detail


def test_an_over_size_body_without_a_token_is_still_json(db, small_uploads):
    response = Client().generic(
        "POST", f"{API}/positionnements", "x" * (small_uploads * 2), content_type="application/json"
    )

    assert response.status_code in (401, 413)
    assert_json_error(response, response.status_code)


@pytest.mark.parametrize("body", ["{pas du json", "[1, 2", "\x00\xff", '{"level": }'])
def test_a_malformed_json_body_is_a_json_400_in_french(version, body):
    token = token_of(make_user("camille@exemple.fr"))
    draft = call("POST", "/positionnements", token).json()["id"]

    response = call("PUT", f"/positionnements/{draft}/reponses/1.1", token, data=body)

    detail = assert_json_error(response, 400)
    assert detail.startswith("Requête invalide")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", [f"{API}/nulle-part", f"{API}/positionnements/pas-un-uuid/rien", "/api/v2/"])
def test_an_unknown_api_address_is_a_json_404(db, method, path):
    response = Client().generic(method, path, "", content_type="application/json")

    assert assert_json_error(response, 404) == "Introuvable."


def test_an_unreadable_content_length_is_a_json_400(db):
    response = Client().generic("POST", f"{API}/positionnements", "{}", content_type="application/json", CONTENT_LENGTH="beaucoup")

    assert assert_json_error(response, 400).startswith("Requête invalide")


def test_pages_outside_the_api_keep_their_html_errors(db):
    response = Client().post("/api-documentation-inexistante/")

    assert response.status_code in (404, 405)
    assert response["Content-Type"].startswith("text/html")
