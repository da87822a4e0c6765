"""A real SMTP server (aiosmtpd) on a free 127.0.0.1 port that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    port: int
    envelopes: list[tuple[list[str], bytes]] = field(default_factory=list)

    def messages(self) -> list[EmailMessage]:
        parsed = [email.message_from_bytes(raw, policy=email.policy.default) for _to, raw in self.envelopes]
        return [m for m in parsed if isinstance(m, EmailMessage)]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # the name aiosmtpd calls
        self.envelopes.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[Received]:
    received = Received(port=free_port())
    controller = Controller(received, hostname="127.0.0.1", port=received.port)
    controller.start()
    try:
        yield received
    finally:
        controller.stop()


def use_smtp(settings: Any, port: int) -> None:
    """Point Django's SMTP backend at 127.0.0.1:``port``."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
