"""The scheduled backup (PALIER_BACKUP_DIR), its retention, and the deployment check that warns
when no recent backup exists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.utils import timezone

from palier.backups import services
from palier.backups.checks import check_recent_backup
from palier.backups.models import BackupRecord
from palier.backups.tasks import scheduled_backup_task
from testsupport.processes import shared_database


def archive_name(when: datetime) -> str:
    return when.strftime(services.NAME_FORMAT)


def test_retention_keeps_the_newest_of_each_recent_day_and_week() -> None:
    start = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # a Monday
    names = [Path(archive_name(start - timedelta(hours=12 * n))) for n in range(80)]  # two a day, 40 days
    gone = set(services.backups_to_prune([*names, Path("notes.txt")], keep_daily=7, keep_weekly=4))
    kept = [name for name in names if name not in gone]
    days = [datetime.strptime(p.name, services.NAME_FORMAT).replace(tzinfo=UTC) for p in kept]
    assert Path("notes.txt") not in gone  # only Palier's archives are ever deleted
    # the newest of each of the last 7 days, then the newest of each of the 4 last ISO weeks
    assert [d.date() for d in days[:7]] == [(start - timedelta(days=n)).date() for n in range(7)]
    assert [d.hour for d in days[:7]] == [3] + [15] * 6  # the later of the two of each day
    assert len(kept) == 7 + 2  # weeks 49 and 48 have their newest among the daily ones; 47 and 46 add one each
    assert {d.isocalendar()[1] for d in days} == {50, 49, 48, 47}


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_job_backs_up_daily_and_prunes(tmp_path: Path, settings: object) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [folder / archive_name(timezone.now() - timedelta(days=n)) for n in range(1, 40)]
    for path in old:
        path.write_bytes(b"an older archive")
    settings.PALIER_BACKUP_DIR = str(folder)  # type: ignore[attr-defined]
    with shared_database():
        result = scheduled_backup_task.enqueue().return_value
        record = BackupRecord.objects.get()
        assert record.kind == BackupRecord.Kind.SCHEDULED
        assert record.size == Path(record.path).stat().st_size == result["size"]
        assert Path(record.path).parent == folder
        assert services.verify_backup(Path(record.path)) == []
        # run again within the day (a restarted scheduler runs its jobs at start): nothing new
        assert scheduled_backup_task.enqueue().return_value == {"skipped": True}
        assert BackupRecord.objects.count() == 1
    left = sorted(folder.iterdir())
    assert len(left) <= 7 + 4 and Path(record.path) in left


@pytest.mark.django_db
def test_no_scheduled_backup_without_a_folder(settings: object) -> None:
    settings.PALIER_BACKUP_DIR = ""  # type: ignore[attr-defined]
    assert scheduled_backup_task.enqueue().return_value == {"skipped": True}
    assert not BackupRecord.objects.exists()


@pytest.mark.django_db
def test_deploy_check_warns_without_a_recent_backup(settings: object, tmp_path: Path) -> None:
    settings.PALIER_BACKUP_DIR = ""  # type: ignore[attr-defined]
    assert [m.id for m in check_recent_backup()] == ["palier.backups.W001"]
    assert "palier.backups.W001" in {m.id for m in run_checks(include_deployment_checks=True, tags=["security"])}
    settings.PALIER_BACKUP_DIR = str(tmp_path)  # type: ignore[attr-defined]
    assert "never" in check_recent_backup()[0].msg
    record = BackupRecord.objects.create(finished_at=timezone.now() - timedelta(days=2), path="x", size=1)
    assert [m.id for m in check_recent_backup()] == ["palier.backups.W001"]
    record.finished_at = timezone.now() - timedelta(hours=2)
    record.save()
    assert check_recent_backup() == []
