"""Failing mailboxes: counted, alerted once per failure streak (in-app and email), polled again
with a growing delay, and shown on the admin page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from palier.mail import health, imap
from palier.mail.models import Mailbox
from palier.mail.tests.dovecot import free_port
from palier.notifications.email import send_pending
from palier.notifications.models import Notification
from palier.people.models import User


@pytest.fixture
def broken(db: None) -> Mailbox:
    """An IMAP mailbox whose server does not answer (a closed port on 127.0.0.1)."""
    mailbox = Mailbox(
        name="desk", address="desk@palier.test", imap_host="127.0.0.1", imap_port=free_port(), imap_tls=False
    )
    mailbox.set_password("pw")
    mailbox.save()
    return mailbox


def _fail(mailbox: Mailbox, times: int) -> None:
    for _ in range(times):
        assert imap.fetch_mailbox(mailbox).error.startswith("ConnectionRefusedError")


def test_third_failure_alerts_every_admin_once_per_streak(
    broken: Mailbox, admin_user: User, agent: User, django_capture_on_commit_callbacks: pytest.FixtureRequest
) -> None:
    other_admin = User.objects.create_user(email="bob@desk.test", full_name="Bob", role=User.Role.ADMIN, language="en")
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        _fail(broken, 2)
        assert not Notification.objects.exists()
        _fail(broken, 3)  # the 3rd, 4th and 5th failures: one alert
    send_pending()
    alerts = Notification.objects.filter(kind=Notification.Kind.MAILBOX_FAILING)
    assert sorted(alerts.values_list("recipient__email", flat=True)) == ["bob@desk.test", "root@desk.test"]
    assert alerts.first().data["failures"] == 3  # type: ignore[union-attr]
    assert sorted(m.to[0] for m in mail.outbox) == ["bob@desk.test", "root@desk.test"]
    english = next(m for m in mail.outbox if m.to == [other_admin.email])
    assert english.subject.endswith("Mailbox desk cannot be read")
    assert "ConnectionRefusedError" in english.body and "/agent/mail/" in english.body

    health.record_success(mailbox_id=broken.pk)  # the server is back: the streak ends
    broken.refresh_from_db()
    assert (broken.consecutive_failures, broken.failing_since, broken.last_error) == (0, None, "")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        _fail(broken, 3)  # a new streak alerts again
    send_pending()
    assert alerts.count() == 4 and len(mail.outbox) == 2


def test_failing_mailbox_is_still_polled_less_often(broken: Mailbox) -> None:
    _fail(broken, 1)
    broken.refresh_from_db()
    assert broken.poll_delay_seconds == 120  # 60 s doubled after one failure
    assert imap.poll_due_mailboxes() == 0
    broken.refresh_from_db()
    assert broken.consecutive_failures == 1  # not due yet
    Mailbox.objects.filter(pk=broken.pk).update(last_attempt_at=timezone.now() - timedelta(seconds=121))
    imap.poll_due_mailboxes()
    broken.refresh_from_db()
    assert broken.consecutive_failures == 2  # tried again
    Mailbox.objects.filter(pk=broken.pk).update(consecutive_failures=40)
    broken.refresh_from_db()
    assert broken.poll_delay_seconds == 900  # never less often than every 15 minutes


def test_admin_page_shows_health(broken: Mailbox, admin_user: User, client: Client) -> None:
    _fail(broken, 2)
    client.force_login(admin_user)
    page = client.get(reverse("mail:mailboxes"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "desk@palier.test" in page and "ConnectionRefusedError" in page
    assert '<span class="badge text-bg-danger">2</span>' in page


def test_mailfetch_command_reports_failures(broken: Mailbox) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    err = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("mailfetch", stderr=err)
    assert exited.value.code == 1 and err.getvalue().startswith("desk: ConnectionRefusedError")
    with pytest.raises(CommandError, match="no IMAP mailbox named 'nope'"):
        call_command("mailfetch", mailbox="nope")
