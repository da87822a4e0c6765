"""Client tests for the administrators' Backups page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from palier.backups.models import BackupRecord
from palier.people.models import User

pytestmark = pytest.mark.django_db


def test_only_admins_see_the_backups(client: Client, requester: User, agent: User, manager: User) -> None:
    url = reverse("agent:admin-backups")
    assert client.get(url).status_code == 302
    for user in (requester, agent, manager):
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_the_page_shows_the_last_backup_and_warns_when_old(
    client: Client, admin_user: User, settings: object, tmp_path: Path
) -> None:
    client.force_login(admin_user)
    settings.PALIER_BACKUP_DIR = ""  # type: ignore[attr-defined]
    page = client.get(reverse("agent:admin-backups"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "PALIER_BACKUP_DIR" in page  # not configured: said so
    settings.PALIER_BACKUP_DIR = str(tmp_path)  # type: ignore[attr-defined]
    record = BackupRecord.objects.create(
        finished_at=timezone.now() - timedelta(days=2), path=str(tmp_path / "a.tar.gz"), size=3 * 1024 * 1024
    )
    page = client.get(reverse("agent:admin-backups"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No successful backup in the last 24 hours" in page  # more than a day old
    assert re.search(r'id="last-backup"><time datetime="[^"]+">.*3[.,]0', page)  # when, and its size
    record.finished_at = timezone.now() - timedelta(hours=1)
    record.save()
    page = client.get(reverse("agent:admin-backups"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No successful backup" not in page and "No scheduled backup" not in page
    assert str(tmp_path / "a.tar.gz") in page


def test_the_query_count_does_not_grow_with_the_backups(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    url = reverse("agent:admin-backups")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    BackupRecord.objects.create(finished_at=timezone.now(), path="/b/1.tar.gz", size=1)
    one = queries()
    for n in range(2, 8):
        BackupRecord.objects.create(finished_at=timezone.now(), path=f"/b/{n}.tar.gz", size=n)
    assert queries() == one


def test_every_admin_page_warns_when_no_backup_succeeded_in_a_day(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    url = reverse("agent:admin-users")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="backup-overdue"' in page and "No backup has succeeded in the last 24 hours" in page
    assert reverse("agent:admin-backups") in page
    # the Backups page says it in its own words, once
    backups = client.get(reverse("agent:admin-backups"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="backup-overdue"' not in backups
    record = BackupRecord.objects.create(finished_at=timezone.now() - timedelta(hours=25), path="/b/1.tar.gz", size=1)
    assert 'id="backup-overdue"' in client.get(url).content.decode()
    record.finished_at = timezone.now() - timedelta(hours=23)
    record.save()
    assert 'id="backup-overdue"' not in client.get(url).content.decode()


def test_the_page_lists_the_outbox_work_not_done(client: Client, admin_user: User) -> None:
    from palier.core.models import OutboxItem

    OutboxItem.objects.create(kind="automation.webhook", key="d1", state="failed", last_error="HTTP 410", attempts=1)
    OutboxItem.objects.create(kind="notifications.event", key="42", last_error="RuntimeError: boom", attempts=2)
    OutboxItem.objects.create(kind="automation.webhook", key="d2", state="done", attempts=1)
    client.force_login(admin_user)
    page = client.get(reverse("agent:admin-backups"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "HTTP 410" in page and "RuntimeError: boom" in page and "d2" not in page
    assert "Failed" in page and "Waiting" in page
