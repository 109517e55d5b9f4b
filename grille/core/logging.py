"""Keeps secret links out of the logs.

Sign-in, resume, invitation and study links carry their secret in the path; Django writes paths
into its logs (django.request: « Not Found: /reprendre/<token>/ », django.server: the request
line). `MaskTokens` sits on every handler of settings.LOGGING and replaces each such secret with
« … » before anything is written, in the message, its arguments and an exception's text.
"""

from __future__ import annotations

import logging
import re

# Every route whose path carries a secret (`<str:token>` in the urlconfs); a test walks the
# urlconfs and fails if one is missing here.
TOKEN_ROUTES = ("connexion/lien", "reprendre", "invitation", "etude/i", "etude/o")
MASK = "…"

_ROUTES = "|".join(re.escape(route) for route in TOKEN_ROUTES)
_TOKEN_IN_PATH = re.compile(rf"(/(?:{_ROUTES})/)[^/\s\"'?#]+")


def mask_tokens(text: str) -> str:
    """`text` with the secret segment of every link path replaced by « … »."""
    return _TOKEN_IN_PATH.sub(rf"\g<1>{MASK}", text)


class MaskTokens(logging.Filter):
    """A handler filter: the record leaves with its message already formatted and masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_tokens(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_tokens(record.exc_text)
        return True
