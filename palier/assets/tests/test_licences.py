"""Licences: the compliance report, expiring licences, and the owner group's reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from palier.assets import licences, reminders
from palier.assets import secrets as asset_secrets
from palier.assets.models import Installation, Licence
from palier.assets.tests.builders import make_asset
from palier.mail import secrets
from palier.notifications.models import Notification, OutgoingEmail

pytestmark = pytest.mark.django_db


def _installed(tag: str, agent, *names: str) -> None:
    machine = make_asset(tag, by=agent, status="deployed")
    Installation.objects.bulk_create(
        [Installation(asset=machine, name=n, product=n.lower(), version="1") for n in names]
    )


def test_compliance_compares_seats_owned_installed_and_assigned(agent, requester, django_assert_max_num_queries):
    licences.create_licence(agent, {"tag": "LIC-1", "name": "Visio A"}, {"product": "Microsoft Visio", "seats": 1})
    licences.create_licence(agent, {"tag": "LIC-2", "name": "Visio B"}, {"product": "microsoft visio", "seats": 1})
    office = licences.create_licence(agent, {"tag": "LIC-3", "name": "Office"}, {"product": "Office", "seats": 10})
    _installed("PC-1", agent, "Microsoft Visio Professional 2021", "Office 2019")
    _installed("PC-2", agent, "Microsoft Visio Standard", "7-Zip")
    _installed("PC-3", agent, "Microsoft Visio Viewer")
    licences.assign_seat(agent, office, user=requester)
    with django_assert_max_num_queries(2):
        rows = {row.product.lower(): row for row in licences.compliance(agent)}
    visio, office_row = rows["microsoft visio"], rows["office"]
    assert (visio.licences, visio.owned, visio.installed, visio.state) == (2, 2, 3, "over_deployed")
    assert (office_row.owned, office_row.assigned, office_row.installed, office_row.state) == (10, 1, 1, "under_used")


def test_reminders_reach_the_owner_group_once(agent, triage, admin_user, requester):
    today = timezone.localdate()
    make_asset("LT-1", by=agent, owner_group=triage, warranty_end=today + timedelta(days=10))
    make_asset("LT-2", by=agent, warranty_end=today + timedelta(days=90))  # not yet
    licences.create_licence(
        agent,
        {"tag": "LIC-9", "name": "Acrobat"},
        {"product": "Adobe Acrobat", "expires_on": today + timedelta(days=5)},
    )
    assert reminders.send_reminders(today=today) == 2
    assert reminders.send_reminders(today=today) == 0  # a rerun sends nothing new
    notes = Notification.objects.filter(kind=reminders.KIND).order_by("data__tag")
    assert [(n.recipient, n.data["tag"], n.data["what"]) for n in notes] == [
        (admin_user, "LIC-9", "licence"),  # no owner group: the administrators
        (agent, "LT-1", "warranty"),
    ]
    mail = OutgoingEmail.objects.get(recipient=agent)
    assert "LT-1" in mail.subject and f"/agent/assets/{notes[1].data['asset']}/" in mail.text
    expiring = licences.expiring(agent, days=30)
    assert [lic.asset.tag for lic in expiring] == ["LIC-9"]
    counts = reminders.warning_counts(agent)
    assert counts["unowned"] == 2  # LT-2 and the licence have no owner group and nobody using them


def test_rotate_secrets_re_encrypts_the_licence_keys(agent, settings):
    licences.create_licence(agent, {"tag": "LIC-K", "name": "Key"}, {"product": "Tool", "key": "KEY-123-456"})
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert asset_secrets.rotate() == (1, [])
    settings.SECRET_KEY_FALLBACKS = []
    assert secrets.decrypt(Licence.objects.get().key_encrypted) == "KEY-123-456"
