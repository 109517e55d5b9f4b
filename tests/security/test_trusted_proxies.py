"""Issue 13, finding 5: which X-Forwarded-For is believed is configuration (GRILLE_TRUSTED_PROXIES),
by count or by address, and nothing by default; and only failures count towards a link limit."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from grille.assessments.services import start_assessment
from grille.core.ratelimit import BAD_RESUME_LINKS, client_ip

CLIENT = "203.0.113.9"
SPOOFED = "198.51.100.1"


def ip(remote: str, forwarded: str | None = None) -> str:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


def test_by_default_no_forwarded_header_is_believed(settings):
    assert settings.GRILLE_TRUSTED_PROXIES == []
    # Not even from loopback: a proxy that does not set the header would let the client choose.
    assert ip("127.0.0.1", SPOOFED) == "127.0.0.1"
    assert ip("10.0.0.5", SPOOFED) == "10.0.0.5"
    assert ip(CLIENT) == CLIENT


def test_with_one_proxy_the_client_is_the_address_it_appended(settings):
    settings.GRILLE_TRUSTED_PROXIES = 1
    assert ip("127.0.0.1", CLIENT) == CLIENT
    # The client wrote its own header; the proxy appended the real address after it.
    assert ip("127.0.0.1", f"{SPOOFED}, 192.0.2.200, {CLIENT}") == CLIENT
    # A proxy elsewhere than on loopback works the same.
    assert ip("10.0.0.5", CLIENT) == CLIENT
    # The header missing (a request that bypassed the proxy): the connection's address.
    assert ip(CLIENT) == CLIENT


def test_with_two_proxies_the_client_is_second_from_the_right(settings):
    settings.GRILLE_TRUSTED_PROXIES = 2
    # CDN -> nginx -> gunicorn: the CDN appended the client, nginx appended the CDN.
    assert ip("127.0.0.1", f"{SPOOFED}, {CLIENT}, 172.16.0.3") == CLIENT
    # Fewer addresses than proxies: the leftmost one, never an index error.
    assert ip("127.0.0.1") == "127.0.0.1"


def test_with_addresses_the_walk_skips_only_the_trusted_ones(settings):
    settings.GRILLE_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert ip("127.0.0.1", CLIENT) == CLIENT
    assert ip("10.0.0.5", f"{SPOOFED}, {CLIENT}, 10.1.2.3") == CLIENT
    # From a peer that is not a trusted proxy, its header is ignored.
    assert ip(CLIENT, SPOOFED) == CLIENT
    # A client pretending to be a trusted proxy, or writing garbage, gets no further than itself.
    assert ip("127.0.0.1", f"{SPOOFED}, {CLIENT}") == CLIENT
    assert ip("127.0.0.1", f"10.9.9.9, {CLIENT}") == CLIENT
    assert ip("127.0.0.1", "pas-une-adresse") == "pas-une-adresse"
    # Every address trusted: the leftmost one.
    assert ip("127.0.0.1", "10.0.0.1") == "10.0.0.1"


def test_ipv6_proxies_and_networks(settings):
    settings.GRILLE_TRUSTED_PROXIES = ["::1", "fd00::/8"]
    assert ip("::1", f"{SPOOFED}, 2001:db8::7, fd00::2") == "2001:db8::7"


def test_a_spoofing_client_cannot_escape_its_limit(db, settings):
    settings.GRILLE_TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for n in range(BAD_RESUME_LINKS.limit):
        # A new made-up address in front each time: the proxy's appended address is what counts.
        proxy.get(reverse("assessments:resume", args=[f"x{n}"]), HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, {CLIENT}")

    again = proxy.get(reverse("assessments:resume", args=["x"]), HTTP_X_FORWARDED_FOR=f"{SPOOFED}, {CLIENT}")
    neighbour = proxy.get(reverse("assessments:resume", args=["x"]), HTTP_X_FORWARDED_FOR="192.0.2.44")

    assert (again.status_code, neighbour.status_code) == (429, 404)


def test_a_locked_out_address_still_opens_a_valid_link(db, version, settings):
    settings.GRILLE_TRUSTED_PROXIES = 1
    _assessment, raw = start_assessment(version=version)
    proxy = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=CLIENT)
    misses = [proxy.get(reverse("assessments:resume", args=[f"x{n}"])).status_code for n in range(BAD_RESUME_LINKS.limit + 1)]

    valid = proxy.get(reverse("assessments:resume", args=[raw]))
    still_refused = proxy.get(reverse("assessments:resume", args=["encore"]))

    assert misses[-1] == 429
    assert valid.status_code == 302
    assert still_refused.status_code == 429


@pytest.mark.parametrize(("value", "expected"), [("", "[]"), ("2", "2"), ("127.0.0.1, 10.0.0.0/8", "['127.0.0.1', '10.0.0.0/8']")])
def test_the_setting_is_read_from_the_environment(value, expected):
    assert _settings_of(value).stdout.strip() == expected


def test_a_wrong_setting_refuses_to_start():
    result = _settings_of("nginx")
    assert result.returncode != 0
    assert "GRILLE_TRUSTED_PROXIES" in result.stderr and "nginx" in result.stderr


def _settings_of(value: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRILLE_DEV": "1", "GRILLE_TRUSTED_PROXIES": value}
    code = "import grille.settings as s; print(s.GRILLE_TRUSTED_PROXIES)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
