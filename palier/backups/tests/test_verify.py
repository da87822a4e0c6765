"""``palier backup --verify`` finds any difference between an archive and its manifest, and a
database member that does not open; a referenced file that is missing fails the backup."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from palier.backups.models import BackupRecord
from palier.backups.tests.helpers import manifest, populate
from palier.people.models import User
from palier.tickets.models import Attachment
from testsupport.processes import shared_database

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def archive(requester: User, agent: User, manager: User, tmp_path: Path) -> Path:
    populate(requester=requester, agent=agent, manager=manager)
    path = tmp_path / "desk.tar.gz"
    with shared_database():
        call_command("backup", str(path))
    return path


def rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes | None], *, rehash: bool = False) -> Path:
    """Copy an archive member by member through ``change`` (None drops the member); with ``rehash``
    the manifest is updated to match, as a careful forger would."""
    members: dict[str, bytes] = {}
    with tarfile.open(source) as tar:
        for member in tar:
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            changed = data if member.name == "manifest.json" else change(member.name, data)
            if changed is not None:
                members[member.name] = changed
    if rehash:
        listed = json.loads(members["manifest.json"])
        for name, data in members.items():
            if name != "manifest.json":
                listed["members"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        members["manifest.json"] = json.dumps(listed).encode()
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def verify(path: Path) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="NOT a sound backup"):
        call_command("backup", "--verify", str(path), stderr=err)
    return err.getvalue()


def test_a_sound_archive_passes(archive: Path) -> None:
    out = io.StringIO()
    call_command("backup", "--verify", str(archive), stdout=out)
    assert "every member matches the manifest" in out.getvalue()
    facts = manifest(archive)
    assert facts["palier_version"] and facts["missing"] == []
    assert facts["row_counts"]["tickets_ticket"] == 4
    assert ["tickets", "0001_initial"] in facts["migrations"]
    assert oct(archive.stat().st_mode & 0o777) == "0o600"


def test_a_changed_attachment_fails(archive: Path, tmp_path: Path) -> None:
    def flip(name: str, data: bytes) -> bytes:
        return data.replace(b"second file", b"secund file") if name.startswith("media/") else data

    problems = verify(rewrite(archive, tmp_path / "t.tar.gz", flip))
    assert "content differs from the manifest" in problems


def test_a_removed_member_fails(archive: Path, tmp_path: Path) -> None:
    gone = next(name for name in manifest(archive)["members"] if name.startswith("media/attachments/"))
    problems = verify(rewrite(archive, tmp_path / "t.tar.gz", lambda name, data: None if name == gone else data))
    assert f"{gone}: in the manifest but not in the archive" in problems


def test_a_damaged_database_fails_even_with_a_matching_manifest(archive: Path, tmp_path: Path) -> None:
    def damage(name: str, data: bytes) -> bytes:
        return data[:4096] + b"\xff" * 8192 + data[12288:] if name.startswith("database/") else data

    problems = verify(rewrite(archive, tmp_path / "t.tar.gz", damage, rehash=True))
    assert "database" in problems and ("damaged" in problems or "does not open" in problems)


def test_a_truncated_archive_fails(archive: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert "cannot be read" in verify(cut) or "no manifest" in verify(cut)


def test_a_missing_file_fails_the_backup_unless_allowed(
    requester: User, agent: User, manager: User, tmp_path: Path, settings: object
) -> None:
    populate(requester=requester, agent=agent, manager=manager)
    lost = Attachment.objects.order_by("pk").first()
    assert lost is not None
    os.remove(lost.file.path)
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    with shared_database():
        with pytest.raises(CommandError, match="missing"):
            call_command("backup", str(tmp_path / "strict.tar.gz"))
        assert manifest(tmp_path / "strict.tar.gz")["missing"] == [lost.file.name]
        assert not BackupRecord.objects.exists()
        call_command("backup", "--allow-missing")  # the default path, under the data folder
        written = list((tmp_path / "backups").glob("palier-*.tar.gz"))
        assert len(written) == 1 and oct(written[0].stat().st_mode & 0o777) == "0o600"
        assert manifest(written[0])["missing"] == [lost.file.name]
        assert BackupRecord.objects.get().size == written[0].stat().st_size


def test_a_hostile_archive_writes_nothing_outside_its_folder(tmp_path: Path) -> None:
    from palier.backups import archive as archive_format

    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(hostile, "w:gz") as tar:
        for name in ("../escaped.txt", "media/../../escaped.txt", "/tmp/escaped.txt", "other/x.txt"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"bad"))
        link = tarfile.TarInfo("media/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    staging = tmp_path / "staging"
    staging.mkdir()
    found = archive_format.read(hostile, extract_to=staging, keep=lambda name: True)
    assert len([p for p in found.problems if p.startswith("unexpected member")]) == 5
    assert "the archive has no manifest.json" in found.problems
    assert list(staging.rglob("*")) == [] and not (tmp_path / "escaped.txt").exists()
