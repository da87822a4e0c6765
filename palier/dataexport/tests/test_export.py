"""``palier export-data``: one organisation's export holds all of its tickets and nothing of another."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from palier.dataexport.schema import FIELDS, KINDS
from palier.people.models import Organisation, User
from palier.tickets import services
from palier.tickets.models import Comment, Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def read(path: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], dict[str, bytes]]:
    """The manifest, the rows of each kind, and the other members' bytes; every hash checked."""
    with tarfile.open(path) as archive:
        members = {info.name: archive.extractfile(info).read() for info in archive.getmembers()}  # type: ignore[union-attr]
    manifest = json.loads(members.pop("manifest.json"))
    assert set(manifest["members"]) == set(members)
    for name, data in members.items():
        assert hashlib.sha256(data).hexdigest() == manifest["members"][name]["sha256"], name
    rows = {
        kind: [json.loads(line) for line in io.BytesIO(members.pop(f"data/{kind}.jsonl")).read().splitlines()]
        for kind in KINDS
    }
    return manifest, rows, members


@pytest.fixture
def desk(requester: User, outsider: User, agent: User) -> dict[str, Any]:
    """Acme's ticket with a reply, an internal note and a file; Globex's ticket; a link between them."""
    acme = make_ticket(requester, subject="Acme printer")
    services.comment_on_ticket(acme, by=agent, body="Public answer")
    note = services.comment_on_ticket(acme, by=agent, body="Internal: vendor is slow", internal=True)
    services.add_attachment(acme, by=requester, upload=SimpleUploadedFile("invoice.txt", b"acme bytes"))
    globex = make_ticket(outsider, subject="Globex secret")
    services.comment_on_ticket(globex, by=outsider, body="Globex private reply")
    services.link_tickets(acme, target=globex, kind="related", by=agent)
    return {"acme": acme, "globex": globex, "note": note}


def test_an_organisation_takes_all_of_its_tickets_and_nothing_else(
    desk: dict[str, Any], requester: User, outsider: User, agent: User, tmp_path: Path
) -> None:
    path = tmp_path / "acme.tar.gz"
    call_command("export-data", str(path), organisation="Acme", stdout=io.StringIO())
    manifest, rows, files = read(path)
    assert manifest["format"] == "palier-export" and manifest["scope"]["organisation"]["name"] == "Acme"
    for kind in KINDS:  # the documented keys, exactly
        assert all(list(row) == list(FIELDS[kind]) for row in rows[kind]), kind
        assert manifest["counts"][kind] == len(rows[kind])

    acme: Ticket = desk["acme"]
    assert [t["id"] for t in rows["tickets"]] == [acme.pk]
    assert {c["body"] for c in rows["comments"]} == {"Public answer", "Internal: vendor is slow"}
    assert {e["ticket_id"] for e in rows["events"]} == {acme.pk}
    assert len(rows["events"]) == TicketEvent.objects.filter(ticket=acme).count()
    assert rows["links"] == []  # the other end belongs to Globex
    assert [o["name"] for o in rows["organisations"]] == ["Acme"]
    assert {u["email"] for u in rows["users"]} == {requester.email, agent.email}  # its people, and who worked on it
    (attachment,) = rows["attachments"]
    assert files[attachment["member"]] == b"acme bytes"
    assert attachment["sha256"] == hashlib.sha256(b"acme bytes").hexdigest()

    everything = path.read_bytes()
    with tarfile.open(path) as archive:
        text = b"".join(archive.extractfile(m).read() for m in archive.getmembers())  # type: ignore[union-attr]
    for leak in (b"Globex", outsider.email.encode(), requester.password.encode(), agent.password.encode()):
        assert leak not in text, text[max(0, text.find(leak) - 300) : text.find(leak) + 100]
    assert path.stat().st_mode & 0o777 == 0o600 and everything


def test_the_whole_desk_and_without_internal_notes(desk: dict[str, Any], tmp_path: Path) -> None:
    whole = tmp_path / "desk.tar.gz"
    call_command("export-data", str(whole), stdout=io.StringIO())
    manifest, rows, _files = read(whole)
    assert manifest["scope"] == "desk"
    assert len(rows["tickets"]) == Ticket.objects.count() == 2
    assert len(rows["comments"]) == Comment.objects.count() == 3
    assert len(rows["users"]) == User.objects.count()
    assert len(rows["organisations"]) == Organisation.objects.count()
    assert len(rows["links"]) == 1

    public = tmp_path / "public.tar.gz"
    call_command("export-data", str(public), "--no-internal", stdout=io.StringIO())
    _manifest, rows, _files = read(public)
    assert desk["note"].pk not in {c["id"] for c in rows["comments"]}
    assert not any(e["is_internal"] for e in rows["events"])


def test_bad_requests_change_nothing(desk: dict[str, Any], tmp_path: Path) -> None:
    taken = tmp_path / "taken.tar.gz"
    taken.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="already exists"):
        call_command("export-data", str(taken))
    assert taken.read_bytes() == b"keep me"
    with pytest.raises(CommandError, match="No organisation"):
        call_command("export-data", str(tmp_path / "x.tar.gz"), organisation="Nobody")
    with pytest.raises(CommandError, match="not a folder"):
        call_command("export-data", str(tmp_path / "missing" / "x.tar.gz"))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "media") == ["taken.tar.gz"]


def test_a_job_runs_once_and_a_failure_is_recorded(
    desk: dict[str, Any], admin_user: User, settings: Any, tmp_path: Path
) -> None:
    from django.core.files.storage import default_storage

    from palier.dataexport import jobs
    from palier.dataexport.models import DataExport

    job = DataExport.objects.create(requested_by=admin_user)
    jobs.run_export(job.pk)
    jobs.run_export(job.pk)  # delivered twice: the second run finds it taken
    job.refresh_from_db()
    assert job.state == DataExport.State.DONE and job.counts["tickets"] == 2
    assert default_storage.listdir("data-exports")[1] == [Path(job.file).name]

    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    settings.MEDIA_ROOT = str(blocker / "media")  # the storage cannot take the archive
    failing = DataExport.objects.create(requested_by=admin_user)
    jobs.run_export(failing.pk)
    failing.refresh_from_db()
    assert failing.state == DataExport.State.FAILED and failing.error and not failing.file


def test_old_exports_and_their_archives_are_removed(admin_user: User) -> None:
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from palier.dataexport import jobs
    from palier.dataexport.models import DataExport

    now = timezone.now()
    name = default_storage.save("data-exports/old.tar.gz", ContentFile(b"old"))
    old = DataExport.objects.create(
        requested_by=admin_user, state="done", file=name, created_at=now - timedelta(days=8)
    )
    recent = DataExport.objects.create(requested_by=admin_user, state="done", created_at=now - timedelta(days=6))
    stalled = DataExport.objects.create(requested_by=admin_user, state="running", created_at=now - timedelta(hours=7))
    assert jobs.prune_exports(now=now) == 1
    assert not DataExport.objects.filter(pk=old.pk).exists() and not default_storage.exists(name)
    assert DataExport.objects.get(pk=recent.pk).state == "done"
    assert DataExport.objects.get(pk=stalled.pk).state == "failed"
