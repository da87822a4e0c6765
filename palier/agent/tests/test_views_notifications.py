"""The outbox of outgoing email: failed mail shown and sent again, administrators only."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from palier.notifications import email
from palier.notifications.models import OutgoingEmail
from palier.people.models import User

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _failed_email(address: str = "alice@acme.test") -> OutgoingEmail:
    email.queue_email(to=[address], subject="Hello", text="Body", key=f"k-{address}")
    row = OutgoingEmail.objects.get(address=address)
    OutgoingEmail.objects.filter(pk=row.pk).update(state="failed", attempts=6, last_error="SMTPRecipientsRefused: 550")
    return row


def test_outbox_shows_failed_mail_and_sends_it_again(
    client: Client, admin_user: User, django_capture_on_commit_callbacks: object
) -> None:
    row = _failed_email()
    client.force_login(admin_user)
    page = client.get(reverse("notifications:outbox") + "?state=failed", **EN).content.decode()
    assert "alice@acme.test" in page and "SMTPRecipientsRefused: 550" in page and "Send again" in page
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = client.post(reverse("notifications:outbox-retry", args=[row.pk]), **EN)
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.state == "sent" and row.attempts == 1
    assert [m.to for m in mail.outbox] == [["alice@acme.test"]]
    # sending a mail that did not fail is refused, nothing changes
    client.post(reverse("notifications:outbox-retry", args=[row.pk]), **EN)
    row.refresh_from_db()
    assert row.state == "sent" and len(mail.outbox) == 1


def test_outbox_is_for_administrators_only(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert client.get(reverse("notifications:outbox")).status_code == 404


def test_outbox_pages_with_constant_queries(
    client: Client, admin_user: User, django_assert_max_num_queries: object
) -> None:
    _failed_email("one@example.com")
    client.force_login(admin_user)
    url = reverse("notifications:outbox") + "?state=all"
    client.get(url)
    with django_assert_max_num_queries(10) as few:  # type: ignore[operator]
        client.get(url)
    for i in range(40):
        _failed_email(f"p{i}@example.com")
    with django_assert_max_num_queries(len(few.captured_queries)):  # type: ignore[operator]
        assert "Page 1 of 2" in client.get(url, **EN).content.decode()
