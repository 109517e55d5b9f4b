"""Issue 13, findings 4 and 12: no secret link in any log line, and a security log that records
sign-ins, refusals, exports, downloads and role changes with the client's address."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from grille.core.logging import MASK, TOKEN_ROUTES, MaskTokens, mask_tokens
from grille.core.ratelimit import BAD_RESUME_LINKS

from .conftest import World

ATTACKER = "192.0.2.66"


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What the handlers settings.LOGGING installed actually write, during the test."""
    out = io.StringIO()
    handlers = [
        handler
        for logger in (logging.getLogger(), logging.getLogger("grille.security"))
        for handler in logger.handlers
        if any(isinstance(f, MaskTokens) for f in handler.filters)
    ]
    assert len(handlers) == 2  # the console and the security log
    streams = [handler.setStream(out) for handler in handlers]  # type: ignore[attr-defined]
    yield out
    for handler, stream in zip(handlers, streams, strict=True):
        handler.setStream(stream)  # type: ignore[attr-defined]


@pytest.fixture
def security(caplog) -> Iterator[pytest.LogCaptureFixture]:
    """The records of the security log (which does not propagate to the root logger)."""
    logger = logging.getLogger("grille.security")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    yield caplog
    logger.removeHandler(caplog.handler)


def security_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "grille.security"]


# --- No tokens in logs ----------------------------------------------------------------------------


def test_every_route_with_a_secret_is_masked():
    def routes(patterns, prefix="") -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    secret = [route for route in routes(get_resolver().url_patterns) if "<str:token>" in route]

    assert len(secret) == len(TOKEN_ROUTES)
    for route in secret:
        path = "/" + route.replace("<str:token>", "SECRET123")
        assert mask_tokens(path) == path.replace("SECRET123", MASK), route


def test_a_run_of_attacks_leaves_no_token_in_the_logs(world: World, caplog, written, clock):
    caplog.set_level(logging.INFO)
    tokens = [world.login_raw, world.invitation_raw, world.resume_raw, world.invitee_raw, world.open_raw]
    links = [
        reverse("accounts:login_confirm", args=[world.login_raw]),
        reverse("organisations:join", args=[world.invitation_raw]),
        reverse("assessments:resume", args=[world.resume_raw]),
        reverse("studies:invited", args=[world.invitee_raw]),
        reverse("studies:open", args=[world.open_raw]),
    ]
    attacker = Client(REMOTE_ADDR=ATTACKER, enforce_csrf_checks=True)
    # Lock the address out with unknown resume links: the next unknown one is a 429.
    statuses = {
        attacker.get(reverse("assessments:resume", args=[f"inconnu{n}"])).status_code for n in range(BAD_RESUME_LINKS.limit + 1)
    }
    for link in links:
        statuses.add(attacker.get(link).status_code)
        statuses.add(attacker.post(link).status_code)  # no CSRF token: 403, logged with its path
        statuses.add(Client(REMOTE_ADDR=ATTACKER).put(link).status_code)  # 405, logged with its path
    signed_in = Client(REMOTE_ADDR=ATTACKER)
    signed_in.post(links[0])
    statuses.add(signed_in.post(links[0]).status_code)  # used up: 410
    # What runserver and gunicorn write about a request, and an error carrying the path.
    logging.getLogger("django.server").info('"%s" %s %s', f"GET {links[2]} HTTP/1.1", 200, 0)
    logging.getLogger("gunicorn.error").warning("Ignored request for %s", links[3])
    try:
        raise ValueError(f"lien cassé : {links[4]}")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: %s", links[4])

    # The attack reaches the logs: every link's path is written, but with « … » for its secret.
    assert {403, 405, 410, 429} <= statuses
    output = written.getvalue()
    assert "Forbidden" in output and "Method Not Allowed" in output and "Gone" in output and "ValueError" in output
    for link in links:
        assert mask_tokens(link) in output
    assert [token for token in tokens if token in output] == []
    assert re.search(r"inconnu\d", output) is None


def test_the_filter_masks_arguments_and_exception_text():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Gone: %s", ("/reprendre/abcDEF_123-x/",), None)
    try:
        raise RuntimeError("/etude/i/abcDEF_123-x/?page=2")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()

    MaskTokens().filter(record)

    assert record.getMessage() == "Gone: /reprendre/…/"
    assert "abcDEF" not in (record.exc_text or "") and "/etude/i/…/?page=2" in (record.exc_text or "")


# --- The security log -----------------------------------------------------------------------------


def test_a_link_sign_in_is_logged_with_the_address_and_the_id_only(world: World, security, written):
    link = reverse("accounts:login_confirm", args=[world.login_raw])
    client = Client(REMOTE_ADDR=ATTACKER)
    client.post(link)
    client.post(link)  # used up

    lines = security_lines(security)
    owner = world.users["owner"]
    assert owner is not None
    assert f"event=sign_in ip={ATTACKER} user={owner.pk}" in "\n".join(lines)
    assert any(line.startswith("event=bad_link") and "status=410" in line for line in lines)
    assert world.login_raw not in "\n".join(lines) + written.getvalue()
    assert "camille@exemple.fr" not in "\n".join(lines)


def test_admin_sign_ins_and_their_failures_are_logged(world: World, security):
    admin_login = reverse("admin:login")
    client = Client(REMOTE_ADDR=ATTACKER)
    client.post(admin_login, {"username": "root@exemple.fr", "password": "mauvais"})
    client.post(admin_login, {"username": "root@exemple.fr", "password": "mot-de-passe-du-test"})

    lines = security_lines(security)
    admin = world.users["admin"]
    assert admin is not None
    assert any(line.startswith(f"event=sign_in_failed ip={ATTACKER}") for line in lines)
    assert any(line.startswith(f"event=sign_in ip={ATTACKER} user={admin.pk}") and "staff=True" in line for line in lines)
    joined = "\n".join(lines)
    assert "mauvais" not in joined and "mot-de-passe" not in joined and "root@exemple.fr" not in joined


def test_refusals_are_logged_with_the_client_address(world: World, security):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for n in range(BAD_RESUME_LINKS.limit + 1):
        attacker.get(reverse("assessments:resume", args=[f"inconnu{n}"]))
    world.clients["outsider"].post(reverse("studies:export_microdata", args=[world.campaign.uuid, "csv"]))
    Client(REMOTE_ADDR=ATTACKER).get("/api/v1/positionnements", HTTP_AUTHORIZATION="Bearer mauvais")

    lines = security_lines(security)
    assert any(line.startswith(f"event=refused ip={ATTACKER}") and "status=429" in line and "/reprendre/…/" in line for line in lines)
    assert any(line.startswith(f"event=bad_link ip={ATTACKER}") and "status=404" in line for line in lines)
    assert any(line.startswith(f"event=refused ip={ATTACKER}") and "status=401" in line for line in lines)
    assert not re.search(r"inconnu\d", "\n".join(lines))


def test_exports_downloads_and_role_changes_are_logged(world: World, security, django_capture_on_commit_callbacks):
    analyst = world.users["analyst"]
    assert analyst is not None
    analyst_client = world.clients["analyst"]
    with django_capture_on_commit_callbacks(execute=True):  # the file is built once the request commits
        response = analyst_client.post(reverse("studies:export_microdata", args=[world.campaign.uuid, "csv"]))
    file_uuid = response["Location"].rstrip("/").split("/")[-1]
    download = analyst_client.get(reverse("files:download", args=[file_uuid]))
    assert download.status_code == 200
    b"".join(download.streaming_content)  # to the end, which closes the file

    facilitator = world.clients["facilitator"]
    facilitator.get(reverse("organisations:team_xlsx", args=[world.org.uuid]))
    facilitator.post(
        reverse("organisations:role", args=[world.org.uuid, world.member.pk]), {"role": "facilitator"},
    )

    joined = "\n".join(security_lines(security))
    assert f"event=export_requested ip=127.0.0.1 user={analyst.pk}" in joined
    assert f"event=download ip=127.0.0.1 user={analyst.pk}" in joined and f"file={file_uuid}" in joined
    assert f"event=export ip=127.0.0.1 user={world.users['facilitator'].pk}" in joined
    assert f"event=role_change ip=127.0.0.1 user={world.users['facilitator'].pk}" in joined
    assert f"member={world.member.user_id} role=facilitator" in joined


def test_values_are_quoted_and_never_break_the_line(db, security):
    from grille.core.security_log import security_event

    security_event("203.0.113.5", "test", note='deux mots "et" /reprendre/secret42/\nligne')

    (line,) = security_lines(security)
    assert line.startswith("event=test ip=203.0.113.5 note=\"deux mots")
    assert "secret42" not in line

