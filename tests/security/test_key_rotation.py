"""Rotating SECRET_KEY: what depends on the key and what does not.

Random links and API tokens are kept as hashes that owe nothing to the key. Sessions and the
personal study links are made with it: they stay valid while the old key is in
SECRET_KEY_FALLBACKS, and stop once it is dropped."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

NEW_KEY = "the-new-key-after-rotation-0123456789abcdefghijklmnopqrstuvwxyz"


def _statuses(world) -> dict[str, int]:
    """What each kind of link or credential opens to, followed by someone new (or by its holder)."""
    links = {
        "sign-in link": reverse("accounts:login_confirm", args=[world.login_raw]),
        "resume link": reverse("assessments:resume", args=[world.resume_raw]),
        "structure invitation": reverse("organisations:join", args=[world.invitation_raw]),
        "study invitation": reverse("studies:invited", args=[world.invitee_raw]),
        "study open link": reverse("studies:open", args=[world.open_raw]),
    }
    statuses = {name: Client().get(path).status_code for name, path in links.items()}
    api = Client().get("/api/v1/positionnements", headers={"Authorization": f"Bearer {world.api_tokens['owner']}"})
    statuses["API token"] = api.status_code
    statuses["session"] = world.clients["owner"].get(reverse("accounts:api_tokens")).status_code
    return statuses


@pytest.fixture
def before(world) -> dict[str, int]:
    return _statuses(world)


def test_everything_keeps_working_while_the_old_key_is_a_fallback(world, before, settings):
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = NEW_KEY

    assert _statuses(world) == before
    assert before["study invitation"] == before["session"] == 200


def test_only_sessions_and_study_invitations_depend_on_a_dropped_key(world, before, settings):
    settings.SECRET_KEY_FALLBACKS = []
    settings.SECRET_KEY = NEW_KEY

    assert _statuses(world) == {**before, "study invitation": 404, "session": 302}
