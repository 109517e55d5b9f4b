"""Personal study links through a rotation of SECRET_KEY: kept while the old key is a fallback,
refused once it is dropped, and the links sent before they were salted still open."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from grille.core.tokens import hash_token, token_text
from grille.studies import services
from grille.studies.models import Campaign, Invitee

from .test_views import logged_in

NEW_KEY = "the-new-key-after-rotation-0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def invited(campaign: Campaign) -> Invitee:
    services.import_invitees(campaign=campaign, raw=b"a@exemple.fr\n")
    return Invitee.objects.get()


def _send(campaign: Campaign, analyst, what: str) -> str:
    """Send invitations or reminders as the analyst does; the link of the last e-mail."""
    with TestCase.captureOnCommitCallbacks(execute=True):  # the outbox sends once the mailing commits
        logged_in(analyst).post(reverse("studies:send", args=[campaign.uuid]), {"what": what})
    return mail.outbox[-1].body.split("/etude/i/")[1].split("/")[0]


def _opens(token: str) -> bool:
    response = Client().get(reverse("studies:invited", args=[token]))
    assert response.status_code in (200, 404)
    return response.status_code == 200


def _rotate(settings, *, keep_old: bool) -> None:
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY] if keep_old else []
    settings.SECRET_KEY = NEW_KEY


def test_an_invitation_link_still_opens_after_the_key_is_rotated(campaign, analyst, invited, settings):
    link = _send(campaign, analyst, "invitations")

    _rotate(settings, keep_old=True)

    assert _opens(link)
    assert services.find_invitee(link) == invited


def test_an_invitation_link_is_refused_once_the_old_key_is_dropped(campaign, analyst, invited, settings):
    link = _send(campaign, analyst, "invitations")

    _rotate(settings, keep_old=False)

    assert not _opens(link)
    assert services.find_invitee(link) is None


def test_a_reminder_after_a_rotation_carries_the_link_of_the_invitation(campaign, analyst, invited, settings):
    link = _send(campaign, analyst, "invitations")

    _rotate(settings, keep_old=True)
    reminder = _send(campaign, analyst, "reminders")

    assert reminder == link
    assert _opens(reminder)


def test_a_reminder_after_the_old_key_is_dropped_carries_a_new_link_that_opens(campaign, analyst, invited, settings):
    link = _send(campaign, analyst, "invitations")

    _rotate(settings, keep_old=False)
    reminder = _send(campaign, analyst, "reminders")

    assert reminder != link
    assert (_opens(link), _opens(reminder)) == (False, True)
    invited.refresh_from_db()
    assert invited.token_hash == hash_token(reminder)


def test_a_link_sent_before_links_were_salted_still_opens_and_is_sent_again(campaign, analyst, invited, settings):
    digest = hmac.new(settings.SECRET_KEY.encode(), f"grille-invitee:{invited.link_key}".encode(), hashlib.sha256).digest()
    legacy = token_text(digest)
    Invitee.objects.filter(pk=invited.pk).update(token_hash=hash_token(legacy))

    assert _opens(legacy)
    assert _send(campaign, analyst, "invitations") == legacy
    _rotate(settings, keep_old=True)
    assert _opens(legacy)
    _rotate(settings, keep_old=False)
    assert not _opens(legacy)


def test_a_new_link_is_salted_not_a_raw_hmac_of_the_key(invited, settings):
    digest = hmac.new(settings.SECRET_KEY.encode(), f"grille-invitee:{invited.link_key}".encode(), hashlib.sha256).digest()

    token = services.invitee_token(invited)

    assert token != token_text(digest)
    assert len(token) == 32
    assert invited.token_hash == hash_token(token)
