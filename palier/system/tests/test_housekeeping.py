"""Housekeeping: old task results and orphan uploads go, nothing still in use is touched."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from palier.system import housekeeping
from palier.tickets import services
from palier.tickets.models import Attachment
from palier.tickets.tests.builders import make_ticket

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def _upload(name: str, content: bytes) -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def _age(name: str, hours: float) -> None:
    path = default_storage.path(name)
    then = (timezone.now() - timedelta(hours=hours)).timestamp()
    os.utime(path, (then, then))


def test_a_refused_reply_leaves_no_file_behind_once_housekeeping_ran(requester, settings):
    ticket = make_ticket(requester)
    kept = services.add_attachment(ticket, by=requester, upload=_upload("capture.png", PNG))
    settings.PALIER_MAX_ATTACHMENT_BYTES = len(PNG) + 10
    with pytest.raises(ValidationError):  # the second file is too large: the whole reply is refused
        services.comment_on_ticket(
            ticket,
            by=requester,
            body="Voici deux captures",
            uploads=[_upload("ok.png", PNG), _upload("big.png", PNG + b"\x00" * 100)],
        )
    on_disk = housekeeping._walk(default_storage, "attachments")
    orphans = [name for name in on_disk if name != kept.file.name]
    assert orphans, "the refused reply's first file was written before the rollback"
    assert housekeeping.remove_orphan_files() == 0  # too young: its transaction might still run
    for name in on_disk:
        _age(name, 7)
    assert housekeeping.remove_orphan_files() == len(orphans)
    assert housekeeping._walk(default_storage, "attachments") == [kept.file.name]
    assert Attachment.objects.get().file.read() == PNG


def test_old_task_results_are_pruned_recent_and_failed_ones_kept(db):
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()

    def result(status: str, days: int) -> None:
        DBTaskResult.objects.create(
            status=status,
            task_path="palier.system.tasks.housekeeping_task",
            args_kwargs={"args": [], "kwargs": {}},
            queue_name="default",
            backend_name="default",
            finished_at=now - timedelta(days=days),
        )

    result("SUCCESSFUL", 10)
    result("SUCCESSFUL", 2)
    result("FAILED", 10)
    result("FAILED", 40)
    assert housekeeping.prune_task_results(now=now) == 2
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED", "SUCCESSFUL"]
