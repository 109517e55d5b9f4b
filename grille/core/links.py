"""Absolute links for e-mails, built where no request is at hand (services, commands)."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """The site's public address (settings.SITE_URL) followed by a local path such as a reverse()."""
    site_url: str = settings.SITE_URL
    return site_url.rstrip("/") + path
