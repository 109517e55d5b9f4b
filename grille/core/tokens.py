"""Secret links.

Most are 192 random bits shown once, only their SHA-256 kept: the hash does not depend on
SECRET_KEY, so rotating the key leaves them valid. A link that must be sent again unchanged (an
invitation and its reminders) is instead derived from a stored secret value with the server's key;
it stays valid while that key is SECRET_KEY or one of SECRET_KEY_FALLBACKS.
"""

import base64
import hashlib
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

TOKEN_BYTES = 24  # 192 bits, the same strength for random and derived links


def new_token() -> tuple[str, str]:
    """Return (raw token for the link, hash to store)."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def accepted_keys() -> list[str | bytes]:
    """The keys a derived link may have been made with: the current one first, then the fallbacks."""
    return [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]


def derived_token(purpose: str, value: str, *, key: str | bytes) -> str:
    """The link token for `value`, keyed by `key` and salted by `purpose` so that a token made for
    one use never works for another."""
    return token_text(salted_hmac(purpose, value, secret=key, algorithm="sha256").digest())


def token_text(digest: bytes) -> str:
    """A link token from a digest of at least TOKEN_BYTES: URL-safe, without padding."""
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode().rstrip("=")
