"""``palier import-export``: an export loaded into an empty desk shows the same desk; bad archives
are refused with a clear message and leave the desk as it was."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from palier.audit.models import AuditEvent
from palier.dataexport.importing import ImportRefused, check_export, import_export
from palier.dataexport.services import export_data, find_organisation
from palier.identity import passwords
from palier.notifications.models import OutgoingEmail
from palier.people.models import Department, Membership, Organisation, SupportGroup, User
from palier.tickets import search, services, stream
from palier.tickets.models import (
    Attachment,
    Category,
    Comment,
    SearchEntry,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketLink,
)
from palier.tickets.tests.builders import make_ticket
from testsupport.clamav import SIGNATURE, eicar

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(requester: User, outsider: User, agent: User, agent_l2: User, l2: SupportGroup) -> dict[str, Any]:
    """Two organisations' tickets with replies, a note, files, tags, a watcher, a link, a resolution."""
    Department.objects.create(organisation=requester.organisation, name="Finance")
    printer = make_ticket(
        requester,
        subject="Imprimante réseau en panne",
        tags=["printer"],
        category=Category.objects.filter(parent__isnull=False).first(),
    )
    services.comment_on_ticket(printer, by=agent, body="Avez-vous redémarré la passerelle ?")
    services.comment_on_ticket(printer, by=agent, body="Internal: vendor is slow", internal=True)
    services.add_attachment(printer, by=requester, upload=SimpleUploadedFile("bourrage.txt", b"acme bytes"))
    printer = services.add_watcher(printer, user=agent_l2, by=agent)
    vpn = make_ticket(requester, subject="VPN lent", kind="request")
    services.transition_ticket(vpn, to=Ticket.Status.RESOLVED, by=agent, note="Fixed")
    globex = make_ticket(outsider, subject="Globex secret")
    services.comment_on_ticket(globex, by=outsider, body="Globex private reply")
    services.link_tickets(printer, target=vpn, kind="related", by=agent)
    services.link_tickets(printer, target=globex, kind="related", by=agent)
    return {"printer": printer, "vpn": vpn, "globex": globex}


def ms(at: datetime | None) -> datetime | None:
    """A time as the export writes it, to the millisecond."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000) if at else None


def seen() -> dict[str, Any]:
    """What people see of the desk, by natural keys (no database ids)."""
    emails = dict(User.objects.values_list("pk", "email"))
    bodies = dict(Comment.objects.values_list("pk", "body"))
    files = dict(Attachment.objects.values_list("pk", "filename"))

    def payload(event: TicketEvent) -> dict[str, Any]:
        data = dict(event.data)
        if "comment" in data and event.kind in ("commented", "noted"):
            data["comment"] = bodies[data["comment"]]
        if "attachment" in data:
            data["attachment"] = files[data["attachment"]]
        return data

    tickets = {}
    for t in Ticket.objects.select_related("group", "organisation", "category").order_by("kind", "number"):
        tickets[t.reference] = {
            "fields": (
                t.subject,
                t.description,
                t.status,
                t.priority,
                t.impact,
                t.urgency,
                t.channel,
                ms(t.created_at),
            ),
            "times": tuple(ms(at) for at in (t.updated_at, t.first_response_at, t.resolved_at, t.closed_at)),
            "requester": emails[t.requester_id],
            "assignee": emails.get(t.assignee_id),
            "group": t.group.name if t.group else None,
            "organisation": t.organisation.name if t.organisation else None,
            "category": t.category.slug if t.category else None,
            "tags": sorted(t.tags.values_list("name", flat=True)),
            "watchers": sorted(emails[w] for w in t.watchers.values_list("pk", flat=True)),
            "comments": [
                (emails[c.author_id], c.body, c.is_internal, ms(c.created_at)) for c in t.comments.order_by("id")
            ],
            "events": [
                (e.kind, emails.get(e.actor_id), e.is_internal, payload(e), ms(e.created_at))
                for e in t.events.order_by("id")
            ],
            "files": [
                (a.filename, a.sha256, a.is_internal, default_storage.open(a.file.name).read())
                for a in t.attachments.order_by("id")
            ],
            "links": sorted((link.target.reference, link.kind) for link in t.links_out.select_related("target")),
        }
    return {
        "tickets": tickets,
        "people": {
            u.email: (u.full_name, u.role, u.organisation.name if u.organisation else None, u.is_active)
            for u in User.objects.filter(is_system=False).select_related("organisation")
        },
        "groups": {
            g.name: (g.level, sorted(m.user.email for m in Membership.objects.filter(group=g).select_related("user")))
            for g in SupportGroup.objects.all()
        },
    }


def empty_desk(keep: tuple[User, ...] = ()) -> None:
    """The desk's own tables emptied, as in a fresh instance (keeping ``keep``'s accounts)."""
    Ticket.objects.all().delete()
    Membership.objects.all().delete()
    User.objects.filter(is_system=False).exclude(pk__in=[u.pk for u in keep]).delete()
    SupportGroup.objects.all().delete()
    Department.objects.all().delete()
    Organisation.objects.all().delete()
    TicketCounter.objects.all().delete()  # numbering starts afresh, as on a new instance
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for kind in Ticket.Kind.values:
                cursor.execute(f"ALTER SEQUENCE tickets_number_{kind}_seq RESTART WITH 1")


def test_a_whole_desk_comes_back_as_it_was(desk: dict[str, Any], agent: User, tmp_path: Path) -> None:
    before = seen()
    archive = tmp_path / "desk.tar.gz"
    export_data(archive)
    empty_desk(keep=(agent,))  # one person already there: linked, not duplicated, password kept
    out = io.StringIO()
    call_command("import-export", str(archive), stdout=out)
    assert "Imported" in out.getvalue() and "no password" in out.getvalue()

    after = seen()
    assert after["people"] == before["people"]
    assert after["groups"] == before["groups"]
    assert after["tickets"] == before["tickets"]
    assert User.objects.filter(email=agent.email).count() == 1
    assert User.objects.get(email=agent.email).check_password("pw-lea-123!")
    imported = User.objects.get(email="alice@acme.test")
    assert not imported.has_usable_password() and imported.department is None

    # numbering continues after the highest imported number, per kind
    requester = User.objects.get(email="alice@acme.test")
    highest = max(t.number for t in Ticket.objects.filter(kind="incident"))
    assert make_ticket(requester, subject="After the import").number == highest + 1

    # the search finds imported tickets and replies; the imported history is not news
    assert Ticket.objects.filter(search.matching("passerelle", include_internal=False)).count() == 1
    assert Ticket.objects.filter(search.matching("vendor", include_internal=False)).count() == 0
    assert SearchEntry.objects.count() == Ticket.objects.count() + Comment.objects.count()
    assert stream.consumers() and all(stream.lag(name) <= 1 for name in stream.consumers())  # the new ticket
    # the event payloads name the new rows
    comment_event = TicketEvent.objects.filter(kind="commented").first()
    assert comment_event is not None and Comment.objects.filter(pk=comment_event.data["comment"]).exists()


def test_an_organisation_moves_to_an_empty_desk(desk: dict[str, Any], tmp_path: Path) -> None:
    archive = tmp_path / "acme.tar.gz"
    export_data(archive, organisation=find_organisation("Acme"))
    acme_before = {ref: t for ref, t in seen()["tickets"].items() if t["organisation"] == "Acme"}
    empty_desk()
    result = import_export(archive)
    assert result.counts["tickets"] == 2 and result.files == 1
    assert stream.consumers() and all(stream.lag(name) == 0 for name in stream.consumers())
    after = seen()
    # the link to Globex's ticket was not exported; everything else is as it was
    printer = desk["printer"].reference
    acme_before[printer]["links"] = [(desk["vpn"].reference, "related")]
    assert after["tickets"] == acme_before
    assert "eve@globex.test" not in after["people"] and not Organisation.objects.filter(name="Globex").exists()
    assert AuditEvent.objects.filter(action="import.data").count() == 1

    # an imported person has no password and claims one through the reset flow
    alice = User.objects.get(email="alice@acme.test")
    passwords.request_reset(address=alice.email, ip=None)
    assert OutgoingEmail.objects.filter(recipient=alice, text__contains="/accounts/password/reset/").exists()


def test_a_desk_with_tickets_is_refused(desk: dict[str, Any], tmp_path: Path) -> None:
    archive = tmp_path / "desk.tar.gz"
    export_data(archive)
    with pytest.raises(CommandError, match="already has tickets"):
        call_command("import-export", str(archive))
    out = io.StringIO()  # checking it writes nothing, so it works on any desk
    call_command("import-export", str(archive), "--check", stdout=out)
    assert out.getvalue().startswith("The archive can be imported:") and " 3 tickets," in out.getvalue()
    assert Ticket.objects.count() == 3


# --- bad archives -----------------------------------------------------------------------------------


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]


def _write(
    path: Path, members: dict[str, bytes], *, manifest: bool = True, extra: tarfile.TarInfo | None = None
) -> None:
    """Write ``members`` (a fresh manifest unless ``manifest`` is False: then the old one stays)."""
    members = dict(members)
    if manifest:
        old = json.loads(members.pop("manifest.json"))
        old["members"] = {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} for name, data in members.items()
        }
        old["counts"] = {name[5:-6]: data.count(b"\n") for name, data in members.items() if name.startswith("data/")}
        members["manifest.json"] = json.dumps(old).encode()
    with tarfile.open(path, "w:gz") as archive:
        if extra is not None:
            archive.addfile(extra, io.BytesIO(b"x" * extra.size) if extra.isfile() else None)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _edit(members: dict[str, bytes], kind: str, change: Callable[[list[dict[str, Any]]], None]) -> None:
    rows = [json.loads(line) for line in members[f"data/{kind}.jsonl"].splitlines()]
    change(rows)
    members[f"data/{kind}.jsonl"] = b"".join(json.dumps(row).encode() + b"\n" for row in rows)


def _tampered(members: dict[str, bytes], path: Path) -> str:
    _edit(members, "comments", lambda rows: rows[0].update(body="Forged answer"))
    _write(path, members, manifest=False)
    return "differs from the manifest"


def _bad_schema(members: dict[str, bytes], path: Path) -> str:
    _edit(members, "tickets", lambda rows: rows[0].update(priority=9))
    _write(path, members)
    return "tickets.jsonl line 1: priority"


def _extra_key(members: dict[str, bytes], path: Path) -> str:
    _edit(members, "users", lambda rows: rows[0].update(password="pbkdf2$…"))
    _write(path, members)
    return "unknown \\['password'\\]"


def _dangling(members: dict[str, bytes], path: Path) -> str:
    _edit(members, "comments", lambda rows: rows[0].update(author_id=999999))
    _write(path, members)
    return "author_id 999999 names no row of users"


def _nul_in_history(members: dict[str, bytes], path: Path) -> str:
    _edit(members, "events", lambda rows: rows[0]["data"].update(note="a\x00b"))
    _write(path, members)
    return "events.jsonl line 1: holds a NUL character"


def _category_loop(members: dict[str, bytes], path: Path) -> str:
    def loop(rows: list[dict[str, Any]]) -> None:
        rows[0]["parent_id"], rows[1]["parent_id"] = rows[1]["id"], rows[0]["id"]

    _edit(members, "categories", loop)
    _write(path, members)
    return "is its own ancestor"


def _foreign_department(members: dict[str, bytes], path: Path) -> str:
    departments = [json.loads(line) for line in members["data/departments.jsonl"].splitlines()]

    def move(rows: list[dict[str, Any]]) -> None:  # Eve of Globex in Acme's Finance department
        (eve,) = [row for row in rows if row["email"] == "eve@globex.test"]
        eve["department_id"] = departments[0]["id"]

    _edit(members, "users", move)
    _write(path, members)
    return "is a department of another organisation"


def _escaping(members: dict[str, bytes], path: Path) -> str:
    members["../../etc/evil"] = b"boom"
    _write(path, members)
    return "may not leave the archive"


def _link_member(members: dict[str, bytes], path: Path) -> str:
    link = tarfile.TarInfo("files/attachments/1-link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    _write(path, members, extra=link)
    return "not a regular file"


def _attachment_path(members: dict[str, bytes], path: Path) -> str:
    _edit(members, "attachments", lambda rows: rows[0].update(member="files/attachments/../../../x"))
    _write(path, members)
    return "member: not an attachment member name"


def _huge(members: dict[str, bytes], path: Path) -> str:
    huge = tarfile.TarInfo("files/attachments/99-huge.bin")
    huge.size = 200_000
    _write(path, members, extra=huge)
    return "more than the 100,000 allowed"


@pytest.fixture
def _infected(clamav: None) -> Callable[[dict[str, bytes], Path], str]:
    def spoil(members: dict[str, bytes], path: Path) -> str:
        (name,) = [name for name in members if name.startswith("files/")]
        members[name] = eicar()
        _edit(members, "attachments", lambda rows: rows[0].update(sha256=hashlib.sha256(eicar()).hexdigest(), size=68))
        _write(path, members)
        return f"holds a virus \\({SIGNATURE}"

    return spoil


@pytest.mark.parametrize(
    "spoil",
    [
        _tampered,
        _bad_schema,
        _extra_key,
        _dangling,
        _nul_in_history,
        _category_loop,
        _foreign_department,
        _escaping,
        _link_member,
        _attachment_path,
        _huge,
        "_infected",
    ],
)
def test_a_bad_archive_is_refused_and_nothing_is_written(
    spoil: Any, desk: dict[str, Any], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if isinstance(spoil, str):  # needs a fixture (a real clamd)
        spoil = request.getfixturevalue(spoil)
    good = tmp_path / "desk.tar.gz"
    export_data(good)
    empty_desk()
    bad = tmp_path / "bad.tar.gz"
    message = spoil(_members(good), bad)

    def state() -> tuple[Any, ...]:
        files = sorted(str(p) for p in (tmp_path / "media").rglob("*") if p.is_file())
        return (*(m.objects.count() for m in (User, Organisation, SupportGroup, Category, Membership)), files)

    before = state()
    with pytest.raises(ImportRefused, match=message):
        check_export(bad, max_member=100_000)
    with pytest.raises(ImportRefused, match=message):
        import_export(bad, max_member=100_000)
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists() and not TicketLink.objects.exists()
    assert state() == before
    import_export(good)  # the good archive still loads after a refusal
    assert Ticket.objects.count() == 3


def test_a_failure_while_loading_leaves_no_row_and_no_file(
    desk: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "desk.tar.gz"
    export_data(archive)
    empty_desk()
    before = sorted(p for p in (tmp_path / "media").rglob("*") if p.is_file())

    def crash(first_id: int) -> int:  # the last step fails: every file is copied by then
        raise RuntimeError("disk full")

    monkeypatch.setattr("palier.reports.facts.recompute_from", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        import_export(archive)
    assert not Ticket.objects.exists() and not User.objects.filter(email="alice@acme.test").exists()
    assert sorted(p for p in (tmp_path / "media").rglob("*") if p.is_file()) == before
