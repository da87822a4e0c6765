"""``palier check --deploy`` warns about mailboxes that accept forged senders."""

from __future__ import annotations

import pytest
from django.core.checks import Tags, run_checks

from palier.mail.models import Mailbox

pytestmark = pytest.mark.django_db


def _mail_ids() -> list[str]:
    return sorted(
        m.id
        for m in run_checks(include_deployment_checks=True, tags=[Tags.security])
        if m.id and m.id.startswith("palier.mail.")
    )


def test_a_mailbox_without_sender_authentication_is_reported() -> None:
    assert _mail_ids() == []
    box = Mailbox.objects.create(name="desk", address="desk@palier.test")
    assert _mail_ids() == ["palier.mail.W001"]
    box.authserv_id = "mx.palier.test"
    box.save()
    assert _mail_ids() == ["palier.mail.W002"]
    box.require_sender_authentication = True
    box.password_env = "DATABASE_URL"  # saved before the PALIER_SECRET_ rule
    box.save()
    assert _mail_ids() == ["palier.mail.W003"]
    box.is_active = False
    box.save()
    assert _mail_ids() == []


def test_the_check_is_only_a_deployment_check() -> None:
    Mailbox.objects.create(name="desk", address="desk@palier.test")
    assert not [m for m in run_checks(tags=[Tags.security]) if m.id == "palier.mail.W001"]
