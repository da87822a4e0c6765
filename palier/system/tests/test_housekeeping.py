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
    assert housekeeping.remove_orphan_files().moved == 0  # too young: its transaction might still run
    for name in on_disk:
        _age(name, 7)
    assert housekeeping.remove_orphan_files().moved == len(orphans)
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


def _files(ticket, by, count: int) -> list[Attachment]:
    return [services.add_attachment(ticket, by=by, upload=_upload(f"c{i}.png", PNG)) for i in range(count)]


def test_orphans_go_to_a_trash_kept_for_trash_days_then_removed(requester, settings):
    """An orphan is moved, not deleted: a database restored from an older backup finds its files in
    the trash for ``PALIER_TRASH_DAYS``; after that the trash is emptied."""
    settings.PALIER_TRASH_DAYS = 30
    ticket = make_ticket(requester)
    attachments = _files(ticket, requester, 10)
    lost = attachments[0]
    Attachment.objects.filter(pk=lost.pk).delete()  # the row is gone (an older database), the file stays
    for name in housekeeping._walk(default_storage, "attachments"):
        _age(name, 7)
    sweep = housekeeping.remove_orphan_files()
    assert (sweep.moved, sweep.warning) == (1, "")
    [trashed] = housekeeping._walk(default_storage, housekeeping.TRASH)
    assert trashed.endswith(lost.file.name) and default_storage.open(trashed).read() == PNG
    assert housekeeping.remove_orphan_files(now=timezone.now() + timedelta(days=29)).purged == 0
    assert housekeeping.remove_orphan_files(now=timezone.now() + timedelta(days=31)).purged == 1
    assert housekeeping._walk(default_storage, housekeeping.TRASH) == []


def test_an_abnormal_share_of_orphans_stops_the_cleanup_with_a_warning(requester, caplog):
    """Started against an empty database by mistake, or after restoring a much older one, most
    files have no row: nothing is touched, and the administrators are warned."""
    from django.core.files.base import ContentFile

    ticket = make_ticket(requester)
    _files(ticket, requester, 2)
    for i in range(10):  # files of tickets the (restored, older) database does not have
        default_storage.save(f"attachments/2020/01/{i:032x}", ContentFile(PNG))
    names = housekeeping._walk(default_storage, "attachments")
    for name in names:
        _age(name, 7)
    sweep = housekeeping.remove_orphan_files()
    assert sweep.moved == 0 and "10 of 12" in sweep.warning
    assert "10 of 12" in caplog.text
    Attachment.objects.all().delete()  # an empty database
    sweep = housekeeping.remove_orphan_files()
    assert sweep.moved == 0 and "no attachment" in sweep.warning
    assert sorted(housekeeping._walk(default_storage, "attachments")) == sorted(names)  # every file still there
