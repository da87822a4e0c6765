"""Antivirus: every way a file comes in is scanned by a real clamd before it is stored; an infected
file is refused with a clear message (mail: the message is kept, the file quarantined), recorded
on the row, and never served. The daemon runs with a local signature for the EICAR test file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from palier.kb import services as kb_services
from palier.kb.tests.builders import make_article
from palier.lib import antivirus
from palier.lib.errors import Unavailable
from palier.mail import services as mail_services
from palier.mail.models import InboundMessage
from palier.people import services as people
from palier.people.models import User
from palier.tickets import services
from palier.tickets.models import Attachment, Comment, Ticket
from palier.tickets.tests.builders import make_ticket
from testsupport.clamav import SIGNATURE, eicar

pytestmark = pytest.mark.django_db


def _stored_files(settings: Any) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def _api(user: User) -> Client:
    secret = people.create_api_token(user, scope="write").secret
    return Client(headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"})


def test_the_daemon_tells_clean_from_infected(clamav: Path) -> None:
    import io

    assert antivirus.ping()
    assert antivirus.scan(io.BytesIO(b"bonjour\n")) == antivirus.Verdict(antivirus.CLEAN)
    assert antivirus.scan(io.BytesIO(b"logs before " + eicar() + b" and after")) == antivirus.Verdict(
        antivirus.INFECTED, SIGNATURE
    )


def test_api_upload_of_an_infected_file_is_refused_and_nothing_stored(
    clamav: Path, requester: User, settings: Any
) -> None:
    ticket = make_ticket(requester)
    r = _api(requester).post(
        f"/api/v1/tickets/{ticket.pk}/attachments", {"file": SimpleUploadedFile("invoice.txt", eicar())}
    )
    assert r.status_code == 422, r.content
    assert r["Content-Type"] == "application/problem+json"
    assert f"The file “invoice.txt” contains a virus ({SIGNATURE}) and was refused." in r.json()["errors"]["file"]
    assert not Attachment.objects.exists() and not _stored_files(settings)


def test_a_clean_upload_records_the_scan(clamav: Path, requester: User) -> None:
    ticket = make_ticket(requester)
    r = _api(requester).post(f"/api/v1/tickets/{ticket.pk}/attachments", {"file": SimpleUploadedFile("a.txt", b"ok")})
    assert r.status_code == 201, r.content
    attachment = Attachment.objects.get()
    assert attachment.scan_status == Attachment.Scan.CLEAN and attachment.scanned_at is not None


def test_portal_new_ticket_with_an_infected_file_opens_nothing(clamav: Path, client: Client, requester: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(requester)
    data = {"kind": "incident", "subject": "Printer", "description": "see file", "impact": "medium"}
    data["urgency"] = "medium"
    response = client.post(
        reverse("portal:ticket-new"), {**data, "attachments": [SimpleUploadedFile("x.txt", eicar())]}
    )
    assert "contains a virus" in response.content.decode()
    assert not Ticket.objects.exists()


def test_agent_reply_with_an_infected_file_sends_nothing(
    clamav: Path, client: Client, agent: User, requester: User
) -> None:
    ticket = make_ticket(requester)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(agent)
    response = client.post(
        reverse("agent:ticket-reply", args=[ticket.pk]),
        {
            "body": "the tool",
            "visibility": "public",
            "version": ticket.version,
            "attachments": [SimpleUploadedFile("tool.txt", eicar())],
        },
    )
    assert response.status_code == 400
    assert "contains a virus" in response.content.decode()
    assert not Comment.objects.exists()


def test_mail_with_an_infected_attachment_is_kept_and_the_file_quarantined(
    clamav: Path, client: Client, requester: User, agent: User, settings: Any
) -> None:
    raw = (
        b"From: alice@acme.test\r\nSubject: Invoice\r\nMessage-ID: <virus@x>\r\n"
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nPlease pay\r\n'
        b'--m\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="invoice.txt"\r\n\r\n'
        + eicar()
        + b'\r\n--m\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="note.txt"\r\n\r\n'
        b"fine\r\n--m--\r\n"
    )
    inbound = mail_services.receive_and_process(raw)
    assert inbound.state == InboundMessage.State.PROCESSED and inbound.ticket is not None
    assert eicar() in bytes(inbound.raw)  # the mail itself is kept
    infected = inbound.ticket.attachments.get(filename="invoice.txt")
    clean = inbound.ticket.attachments.get(filename="note.txt")
    assert (infected.scan_status, infected.scan_signature, infected.file.name) == ("infected", SIGNATURE, "")
    assert clean.scan_status == "clean"
    assert len(_stored_files(settings)) == 1  # only the clean file's bytes
    client.force_login(agent)
    download = client.get(reverse("portal:attachment", args=[infected.pk]))
    assert download.status_code == 404
    assert client.get(reverse("portal:attachment", args=[clean.pk])).status_code == 200
    assert _api(agent).get(f"/api/v1/attachments/{infected.pk}/download").status_code == 404


def test_kb_file_infected_is_refused(clamav: Path, agent: User) -> None:
    article = make_article(agent, en=("Tools", "x"))
    with pytest.raises(ValidationError) as refused:
        kb_services.add_article_file(article, by=agent, upload=SimpleUploadedFile("tool.txt", eicar()))
    assert "contains a virus" in str(refused.value)
    assert not article.files.exists()
    item = kb_services.add_article_file(article, by=agent, upload=SimpleUploadedFile("ok.txt", b"fine"))
    assert item.scan_status == "clean"


def test_a_file_stored_before_scanning_is_scanned_when_served(
    client: Client, agent: User, requester: User, settings: Any, clamd_socket: Path
) -> None:
    ticket = make_ticket(requester)
    old = services.add_attachment(ticket, by=requester, upload=SimpleUploadedFile("old.txt", eicar()))
    assert old.scan_status == "unscanned"  # scanning was off
    settings.PALIER_CLAMD = f"unix://{clamd_socket}"
    client.force_login(agent)
    assert client.get(reverse("portal:attachment", args=[old.pk])).status_code == 404
    old.refresh_from_db()
    assert (old.scan_status, old.scan_signature) == ("infected", SIGNATURE)


def test_scanner_down_refuses_the_upload_with_503(requester: User, settings: Any, tmp_path: Path) -> None:
    settings.PALIER_CLAMD = f"unix://{tmp_path}/no-such.sock"
    ticket = make_ticket(requester)
    with pytest.raises(Unavailable):
        services.add_attachment(ticket, by=requester, upload=SimpleUploadedFile("a.txt", b"ok"))
    r = _api(requester).post(f"/api/v1/tickets/{ticket.pk}/attachments", {"file": SimpleUploadedFile("a.txt", b"ok")})
    assert r.status_code == 503 and "could not be checked for viruses" in r.json()["detail"]
    assert not Attachment.objects.exists() and not _stored_files(settings)


def test_scanning_off_records_not_scanned(requester: User, settings: Any) -> None:
    settings.PALIER_CLAMD = ""
    ticket = make_ticket(requester)
    attachment = services.add_attachment(ticket, by=requester, upload=SimpleUploadedFile("a.txt", b"ok"))
    assert attachment.scan_status == "unscanned" and attachment.scanned_at is None


def test_admin_pages_say_when_scanning_is_off(client: Client, admin_user: User, settings: Any) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(admin_user)
    settings.PALIER_CLAMD = ""
    assert "Virus scanning is off" in client.get(reverse("agent:admin-users")).content.decode()
    settings.PALIER_CLAMD = "tcp://127.0.0.1:3310"
    assert "Virus scanning is off" not in client.get(reverse("agent:admin-users")).content.decode()


def test_an_infected_mail_attachment_is_marked_on_the_ticket_page(
    clamav: Path, client: Client, requester: User, agent: User
) -> None:
    ticket = make_ticket(requester)
    from palier.lib.files import QuarantineUpload

    services.add_attachment(ticket, by=requester, upload=QuarantineUpload(eicar(), "bad.txt"))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(agent)
    html = client.get(reverse("agent:ticket-detail", args=[ticket.pk])).content.decode()
    assert "bad.txt" in html and "virus found, quarantined" in html
    assert reverse("portal:attachment", args=[Attachment.objects.get().pk]) not in html


def test_a_kb_file_stored_before_scanning_is_scanned_when_served(
    client: Client, agent: User, settings: Any, clamd_socket: Path
) -> None:
    article = make_article(agent, en=("Tools", "x"))
    old = kb_services.add_article_file(article, by=agent, upload=SimpleUploadedFile("tool.txt", eicar()))
    assert old.scan_status == "unscanned"  # scanning was off
    settings.PALIER_CLAMD = f"unix://{clamd_socket}"
    client.force_login(agent)
    assert client.get(reverse("kb:file", args=[old.pk])).status_code == 404
    old.refresh_from_db()
    assert (old.scan_status, old.scan_signature) == ("infected", SIGNATURE)
