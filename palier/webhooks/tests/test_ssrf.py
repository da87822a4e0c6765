"""Addresses Palier refuses to post to, at subscription and again at each delivery: not https,
credentials, loopback, private, link-local (cloud metadata), a name resolving to any of them,
IPv4-mapped IPv6 and the other spellings of an IPv4 address; an unknown event type; a
non-administrator."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from palier.integrations import outbound
from palier.lib.errors import PermissionDenied
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket
from palier.webhooks import services
from palier.webhooks.models import Attempt, Delivery, Subscription

from .receiver import Receiver

pytestmark = pytest.mark.django_db

PRIVATE = [
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://10.1.2.3/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "https://100.64.0.1/hook",  # shared address space
    "https://0.0.0.0/hook",
    "https://localhost/hook",  # a name resolving to loopback
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "https://[::ffff:a9fe:a9fe]/hook",  # 169.254.169.254, mapped
    "https://[fe80::1]/hook",
    "https://[fd00::1]/hook",
    "https://2130706433/hook",  # 127.0.0.1 in decimal
    "https://0x7f000001/hook",  # in hexadecimal
    "https://017700000001/hook",  # in octal
    "https://127.1/hook",  # short form
    "https://[::]/hook",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_and_local_addresses_are_refused_at_subscription(admin_user: User, url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        services.create_subscription(by=admin_user, name="Hook", url=url, event_types=["ticket.created"])
    assert "url" in refused.value.message_dict
    assert Subscription.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://example.com/hook", "https"),
        ("ftp://example.com/hook", "https"),
        ("https://user:pass@example.com/hook", "password"),
        ("https://user@example.com/hook", "password"),
        ("https://example.com:99999/hook", "valid"),
        ("javascript:alert(1)", "https"),
        ("https:///hook", "https"),
    ],
)
def test_bad_addresses_are_refused_with_a_reason(admin_user: User, url: str, words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        services.create_subscription(by=admin_user, name="Hook", url=url, event_types=["ticket.created"])
    assert words in " ".join(refused.value.message_dict["url"])


def test_a_name_with_one_private_address_among_public_ones_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every address of the name is checked: one private answer refuses it."""

    def answers(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", answers)
    target = outbound.parse_target("https://hooks.example.com/x", allow_http=False)
    with pytest.raises(outbound.UnsafeTarget):
        outbound.resolve(target, allow_private=False)
    assert outbound.resolve(target, allow_private=True) == ["93.184.215.14", "10.0.0.5"]


def test_public_addresses_pass_the_check() -> None:
    assert outbound.is_public("93.184.215.14") and outbound.is_public("2606:4700::1111")
    assert not outbound.is_public("::ffff:10.0.0.1") and not outbound.is_public("2002:7f00:1::1")  # 6to4 of 127.0.0.1


def test_unknown_event_types_and_non_administrators_are_refused(admin_user: User, agent: User) -> None:
    with pytest.raises(ValidationError) as refused:
        services.create_subscription(
            by=admin_user, name="Hook", url="https://93.184.215.14/x", event_types=["ticket.created", "ticket.eaten"]
        )
    assert "ticket.eaten" in refused.value.message_dict["event_types"][0]
    with pytest.raises(PermissionDenied):
        services.create_subscription(
            by=agent, name="Hook", url="https://93.184.215.14/x", event_types=["ticket.created"]
        )
    assert Subscription.objects.count() == 0


def test_the_address_is_checked_again_at_delivery(
    requester: User, local: Receiver, subscribe: Callable[..., Any], pump: Callable[[], int], settings: Any
) -> None:
    """Allowed when subscribed, refused once the desk no longer allows private addresses: nothing
    is sent, the delivery fails at once with the reason."""
    subscribe(["ticket.created"])
    settings.PALIER_WEBHOOKS_ALLOW_PRIVATE = False
    make_ticket(requester)
    pump()
    assert local.received == []
    delivery = Delivery.objects.get()
    assert delivery.state == "failed" and "private" in delivery.last_error
    assert Attempt.objects.get().status_code is None


def test_http_is_refused_at_delivery_unless_allowed(
    requester: User, local: Receiver, subscribe: Callable[..., Any], pump: Callable[[], int], settings: Any
) -> None:
    subscribe(["ticket.created"])
    settings.PALIER_WEBHOOKS_ALLOW_HTTP = False
    make_ticket(requester)
    pump()
    assert local.received == [] and Delivery.objects.get().state == "failed"
