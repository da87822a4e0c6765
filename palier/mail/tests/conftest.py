from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def email_bytes() -> Callable[..., bytes]:
    def build(
        *,
        sender: str = "Alice Martin <alice@acme.test>",
        subject: str = "Printer jammed",
        body: str = "The printer on floor 2 is jammed.",
        message_id: str = "m1@acme.test",
        headers: str = "",
        to: str = "desk@palier.test",
    ) -> bytes:
        lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
        if message_id:
            lines.append(f"Message-ID: <{message_id}>")
        lines += [h for h in headers.split("\n") if h]
        lines += ["Content-Type: text/plain; charset=utf-8", "", body]
        return "\r\n".join(lines).encode("utf-8")

    return build


@pytest.fixture(autouse=True)
def _fresh_desk_addresses() -> Iterator[None]:
    """Each test sees the mailboxes it creates (the intake caches desk addresses for 30 s)."""
    from palier.mail import services

    services.clear_desk_addresses()
    yield
    services.clear_desk_addresses()
