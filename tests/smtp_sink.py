"""A real SMTP server on this machine for the e-mail tests (aiosmtpd): down, slow, or refusing
one recipient, and counting what it accepted, per recipient and per Message-ID."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    recipients: list[str]
    message: Message

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def body(self) -> str:
        payload = self.message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode(self.message.get_content_charset() or "utf-8")


@dataclass
class SmtpSink:
    """start() / stop() at will: while stopped, nothing listens on the port (connection refused)."""

    port: int = field(default_factory=free_port)
    delay: float = 0.0  # seconds before each message is accepted: a slow server
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    # Called with the number of the message being accepted (1, 2, ...) before it is: False drops
    # it with a 451, as a server does when its client vanished before the end of the exchange.
    before_accept: Callable[[int], bool] | None = None
    received: list[Received] = field(default_factory=list)
    _controller: Controller | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: int = 0

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 Destinataire inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self._arrived += 1
            number = self._arrived
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.before_accept is not None and not await asyncio.to_thread(self.before_accept, number):
            return "451 4.3.0 Abandonné"
        content = envelope.original_content or b""
        with self._lock:
            self.received.append(Received(list(envelope.rcpt_tos), message_from_bytes(content, policy=policy.default)))
        return "250 Message accepté"

    def start(self) -> None:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd narrates every command
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self) -> dict[str, object]:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": self.port, "EMAIL_USE_TLS": False,
            "EMAIL_HOST_USER": "", "EMAIL_HOST_PASSWORD": "", "EMAIL_TIMEOUT": 10,
        }

    def per_recipient(self) -> Counter[str]:
        with self._lock:
            return Counter(r for received in self.received for r in received.recipients)

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [received for received in self.received if address in received.recipients]
