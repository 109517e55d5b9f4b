"""Text a person chooses that Grille then puts in an e-mail (an organisation's name, a campaign's
name, a display name) must stay one plain line: a line break in a subject makes the sending fail
or forge a header, and invisible or direction-changing characters let the sender disguise what
the recipient reads. Forms and services both check it; subjects also pass through `single_line`,
so that a row saved before the check cannot make a sending fail.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# C0 and C1 controls (line breaks and tabs among them), DEL, the Unicode line and paragraph
# separators, and the bidirectional overrides, embeddings and isolates.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

# A web address in a name is how a sender slips a link of their own into Grille's message.
WEB_ADDRESS = re.compile(r"(?:[a-z][a-z0-9+.-]*://|\bwww\.)", re.IGNORECASE)

# What of a chosen text a subject line shows; the body shows it whole.
SUBJECT_TEXT_MAX = 80


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


def validate_single_line(value: str) -> None:
    """Refuse line breaks, tabs, control characters and direction overrides."""
    if has_control_characters(value):
        raise ValidationError(
            _("Ce texte contient un retour à la ligne, une tabulation ou un caractère invisible : écrivez-le sur une seule ligne, sans caractère spécial."),
            code="control_characters",
        )


def validate_no_web_address(value: str) -> None:
    """Refuse a web address (http://…, www.…) in a name that is mailed to others."""
    if WEB_ADDRESS.search(value):
        raise ValidationError(
            _("Ce nom ne peut pas contenir d'adresse web (http://…, www.…)."), code="web_address"
        )


def validate_mailed_name(value: str) -> None:
    """A name that Grille writes into e-mails to other people: one line, and no web address."""
    validate_single_line(value)
    validate_no_web_address(value)


def single_line(value: str, *, max_length: int | None = None) -> str:
    """`value` made safe for a subject or a one-line mention: every control character becomes a
    space, runs of spaces one, and a text longer than `max_length` is cut with an ellipsis."""
    text = " ".join(CONTROL_CHARACTERS.sub(" ", value).split())
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return text
