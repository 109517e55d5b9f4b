"""Issue 13, finding 11: a member removed while the workshop page is open stops seeing the team.

The attack: the member keeps the workshop page open (it fetches its live part again every few
seconds); a facilitator removes them; the next refresh must not hand them the team's figures, and
the page must say why it stopped (live.js reads the message from the page, see
tests/browser/test_workshop_removed_journey.py for the page in Chromium)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.urls import reverse

from grille.organisations.models import Membership

REMOVED = "Vous ne faites plus partie de cette structure"


def signed_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_a_removed_member_gets_404_at_the_next_refresh(facilitator, member, share):
    share(member, {"1.1": "2"})
    share(facilitator, {"1.1": "3"})
    uuid = facilitator.organisation.uuid
    live = reverse("organisations:workshop_live", args=[uuid])
    watcher = signed_in(member)
    page = watcher.get(reverse("organisations:workshop", args=[uuid]))
    assert page.status_code == 200
    before = watcher.get(live)
    assert before.status_code == 200
    assert 'data-count>2<' in before.content.decode()

    removed = signed_in(facilitator).post(reverse("organisations:remove_member", args=[uuid, member.pk]))
    assert removed.status_code == 302
    after = watcher.get(live)

    assert after.status_code == 404
    text = after.content.decode()
    assert "data-count" not in text and "Par situation" not in text
    assert watcher.get(reverse("organisations:workshop", args=[uuid])).status_code == 404


def test_the_facilitators_refresh_still_works_after_removing_someone(facilitator, member, share):
    share(member, {"1.1": "2"})
    uuid = facilitator.organisation.uuid
    client = signed_in(facilitator)

    client.post(reverse("organisations:remove_member", args=[uuid, member.pk]))
    live = client.get(reverse("organisations:workshop_live", args=[uuid]))

    assert live.status_code == 200
    assert "data-count>0<" in live.content.decode()  # the removed member's share was withdrawn


def test_the_workshop_page_carries_the_message_shown_when_access_ends(facilitator):
    page = signed_in(facilitator).get(reverse("organisations:workshop", args=[facilitator.organisation.uuid]))

    match = re.search(r'<div id="workshop-live"[^>]*\sdata-gone-message="([^"]+)"', page.content.decode())
    assert match, "the live block carries the message live.js shows when access ends"
    assert html.unescape(match.group(1)).startswith(REMOVED)


def test_workshop_script_stops_and_shows_the_message_on_404_and_403():
    script = (Path(settings.BASE_DIR) / "grille/core/static/grille/live.js").read_text()

    assert '"data-" + kind + "-message"' in script and '"gone"' in script
    assert "404" in script and "403" in script
    # The old figures are taken off the page, not left on the projector.
    assert "replaceChildren" in script
