"""Guessing passwords: failed sign-ins are throttled per account and per address with a growing
lock, every failure is in the audit log, and /django-admin/ (a second sign-in page) is gone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.audit.models import AuditEvent
from palier.people import signin
from palier.people.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "pw-alice-123!"  # the requester persona's password


@pytest.fixture(autouse=True)
def _small_limits(settings: Any) -> None:
    settings.PALIER_LOGIN_FAILURES = 3
    settings.AXES_FAILURE_LIMIT = 3
    settings.PALIER_LOGIN_LOCKOUT_MINUTES = 10


def sign_in(email: str, password: str, ip: str = "198.51.100.7") -> Any:
    return Client(REMOTE_ADDR=ip).post(reverse("login"), {"username": email, "password": password})


def test_an_account_is_locked_after_repeated_failures_even_with_the_right_password(requester: User) -> None:
    assert [sign_in(requester.email, "guess").status_code for _ in range(3)] == [200, 200, 429]
    client = Client(REMOTE_ADDR="203.0.113.9", HTTP_ACCEPT_LANGUAGE="en")  # another address, same account
    locked = client.post(reverse("login"), {"username": requester.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 600
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_address_is_locked_whatever_account_it_tries(requester: User, requester_b: User) -> None:
    for n in range(3):
        sign_in(f"nobody{n}@acme.test", "guess", ip="192.0.2.1")
    assert sign_in(requester_b.email, "pw-bob-123!", ip="192.0.2.1").status_code == 429
    assert sign_in(requester_b.email, "pw-bob-123!", ip="192.0.2.2").status_code == 302


def test_the_lock_ends_and_grows_with_further_failures(requester: User) -> None:
    for _ in range(3):
        sign_in(requester.email, "guess")
    assert sign_in(requester.email, PASSWORD).status_code == 429
    _shift_attempts(-timedelta(minutes=11))
    assert sign_in(requester.email, PASSWORD).status_code == 302, "the first lock lasts 10 minutes"
    for _ in range(3):
        sign_in(requester.email, "guess")
    _shift_attempts(-timedelta(minutes=11))  # six failures today: the second lock lasts 20 minutes
    assert sign_in(requester.email, PASSWORD).status_code == 429


def test_backoff_doubles_the_lock_per_round_of_failures(requester: User, rf: Any) -> None:
    request = rf.post(reverse("login"), {"username": requester.email}, REMOTE_ADDR="198.51.100.7")
    assert signin.cooloff(request) == timedelta(minutes=10)
    for _ in range(6):
        sign_in(requester.email, "guess")
    request = rf.post(reverse("login"), {"username": requester.email.upper()}, REMOTE_ADDR="198.51.100.8")
    assert signin.cooloff(request) == timedelta(minutes=20)
    for _ in range(30):
        sign_in(requester.email, "guess")
    request = rf.post(reverse("login"), {"username": requester.email}, REMOTE_ADDR="198.51.100.8")
    assert signin.cooloff(request) == timedelta(days=1)


def test_failures_sign_ins_and_sign_outs_are_audited(requester: User) -> None:
    sign_in(requester.email.upper(), "guess", ip="198.51.100.7")
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.post(reverse("login"), {"username": requester.email, "password": PASSWORD})
    client.post(reverse("logout"))
    rows = list(
        AuditEvent.objects.filter(action__startswith="auth.").order_by("id").values_list("action", "actor_email", "ip")
    )
    assert rows == [
        ("auth.login_failed", requester.email, "198.51.100.7"),
        ("auth.login", requester.email, "198.51.100.7"),
        ("auth.logout", requester.email, "198.51.100.7"),
    ]
    assert PASSWORD not in str(list(AuditEvent.objects.values()))


def test_a_success_resets_the_account_counter(requester: User) -> None:
    sign_in(requester.email, "guess")
    sign_in(requester.email, "guess")
    assert sign_in(requester.email, PASSWORD).status_code == 302
    sign_in(requester.email, "guess")
    sign_in(requester.email, "guess")
    assert sign_in(requester.email, PASSWORD).status_code == 302


def test_the_api_session_of_a_signed_in_person_still_works(requester: User) -> None:
    client = Client(REMOTE_ADDR="198.51.100.7")
    assert client.post(reverse("login"), {"username": requester.email, "password": PASSWORD}).status_code == 302
    assert client.get("/api/v1/users/me").json()["email"] == requester.email


def test_the_test_clients_login_is_not_a_web_sign_in(requester: User) -> None:
    assert Client().login(username=requester.email, password=PASSWORD)
    assert not AuditEvent.objects.filter(action="auth.login_failed").exists()


def test_django_admin_is_gone(client: Client, admin_user: User) -> None:
    assert client.get("/django-admin/").status_code == 404
    client.force_login(admin_user)
    assert client.get("/django-admin/login/").status_code == 404


def _shift_attempts(delta: timedelta) -> None:
    """Move every recorded failure back in time (as if minutes had passed)."""
    from axes.models import AccessAttempt

    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time + delta)
    # the audit's failures keep their time: the backoff counts the whole day


def test_the_sign_in_signals_are_wired_from_the_map() -> None:
    from django.contrib.auth import signals as auth_signals

    from palier import events

    for name, path in events.AUTH_SIGNALS.items():
        sync_receivers, _async = getattr(auth_signals, name)._live_receivers(None)
        assert events.resolve(path) in sync_receivers, name
