from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string


def send_templated_mail(*, to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    """Send a plain-text e-mail once the surrounding transaction has committed."""
    body = render_to_string(template, context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [to], fail_silently=False))
