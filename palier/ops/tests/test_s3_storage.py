"""Several machines: the uploads in an S3-compatible bucket (a real local server, moto in server
mode). Each path that touches files works on it: upload with its virus scan, download behind the
permission check, backup and restore, the orphans' trash, and ``/ready``."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from palier.backups.tests.helpers import instance_env, populate, postgres_database, run_palier
from palier.people import services as people
from palier.people.models import User
from palier.system import housekeeping
from palier.tickets.models import Attachment
from palier.tickets.tests.builders import make_ticket
from testsupport.clamav import eicar
from testsupport.processes import shared_database
from testsupport.s3 import client as s3_client
from testsupport.s3 import new_bucket, objects, s3_env

# the same on every database: runs in the PostgreSQL pass (conftest.py)
pytestmark = pytest.mark.engine_independent


def _api(user: User) -> Client:
    secret = people.create_api_token(user, scope="write").secret
    return Client(headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"})


def _s3_options(settings: Any, **options: str) -> None:
    default = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": {**default["OPTIONS"], **options}}}


@pytest.mark.django_db
def test_attachment_on_s3_is_scanned_stored_private_and_served_only_to_who_may_see_it(
    s3_media: str, s3_server: str, clamav: Path, requester: User, outsider: User, agent: User, settings: Any
) -> None:
    ticket = make_ticket(requester)
    api = _api(requester)
    refused = api.post(f"/api/v1/tickets/{ticket.pk}/attachments", {"file": SimpleUploadedFile("x.txt", eicar())})
    assert refused.status_code == 422  # scanned before it is stored: nothing reaches the bucket
    assert objects(s3_server, s3_media) == {}
    r = api.post(f"/api/v1/tickets/{ticket.pk}/attachments", {"file": SimpleUploadedFile("log.txt", b"erreur 42\n")})
    assert r.status_code == 201, r.content
    attachment = Attachment.objects.get()
    assert attachment.scan_status == Attachment.Scan.CLEAN
    assert objects(s3_server, s3_media) == {attachment.file.name: b"erreur 42\n"}
    assert not Path(settings.MEDIA_ROOT).exists()  # nothing written on this machine's disk
    grants = s3_client(s3_server).get_object_acl(Bucket=s3_media, Key=attachment.file.name)["Grants"]
    assert all("AllUsers" not in json.dumps(g) and "AuthenticatedUsers" not in json.dumps(g) for g in grants)

    url = reverse("portal:attachment", args=[attachment.pk])
    for user, status in ((requester, 200), (agent, 200), (outsider, 404)):
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert b"".join(response.streaming_content) == b"erreur 42\n"  # type: ignore[attr-defined]
            assert "amazonaws" not in response.get("Location", "") and s3_server not in str(response.headers)
    assert api.get(f"/api/v1/attachments/{attachment.pk}/download").status_code == 200
    assert _api(outsider).get(f"/api/v1/attachments/{attachment.pk}/download").status_code == 404


@pytest.mark.django_db(transaction=True)  # PostgreSQL: the export takes its snapshot in a transaction of its own
def test_a_data_export_reads_the_files_from_s3_and_is_kept_there(
    s3_media: str, s3_server: str, requester: User, admin_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    from palier.dataexport.models import DataExport
    from palier.dataexport.services import attachment_member
    from palier.tickets import services

    ticket = make_ticket(requester)
    attachment = services.add_attachment(ticket, by=requester, upload=SimpleUploadedFile("log.txt", b"erreur 42\n"))
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("agent:admin-data-export"), {"organisation": ""}).status_code == 302
    job = DataExport.objects.get()
    assert job.state == DataExport.State.DONE, job.error
    assert set(objects(s3_server, s3_media)) == {attachment.file.name, job.file}  # the archive is in the bucket
    response = client.get(reverse("agent:admin-data-export-download", args=[job.pk]))
    assert response.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(b"".join(response.streaming_content))) as archive:  # type: ignore[attr-defined]
        member = attachment_member(attachment.pk, attachment.filename)
        assert archive.extractfile(member).read() == b"erreur 42\n"  # type: ignore[union-attr]


@pytest.mark.django_db
def test_orphans_on_s3_go_to_the_trash_then_away(s3_media: str, s3_server: str, requester: User) -> None:
    ticket = make_ticket(requester)
    from palier.tickets import services

    kept = [
        services.add_attachment(ticket, by=requester, upload=SimpleUploadedFile(f"f{i}.txt", b"%d" % i))
        for i in range(3)
    ]
    lost = kept.pop()
    Attachment.objects.filter(pk=lost.pk).delete()  # the row is gone, the object stays
    assert housekeeping.remove_orphan_files().moved == 0  # younger than ORPHAN_MIN_AGE: untouched
    later = timezone.now() + housekeeping.ORPHAN_MIN_AGE + timedelta(minutes=1)
    sweep = housekeeping.remove_orphan_files(now=later)
    assert (sweep.moved, sweep.warning) == (1, "")
    stored = objects(s3_server, s3_media)
    [trashed] = [name for name in stored if name.startswith(housekeeping.TRASH + "/")]
    assert trashed.endswith(str(lost.file.name)) and stored[trashed] == b"2"
    assert lost.file.name not in stored and all(a.file.name in stored for a in kept)
    assert housekeeping.remove_orphan_files(now=later + timedelta(days=31)).purged == 1
    assert set(objects(s3_server, s3_media)) == {a.file.name for a in kept}
    # an abnormal share of orphans (an empty database by mistake) stops it: nothing moves
    Attachment.objects.all().delete()
    sweep = housekeeping.remove_orphan_files(now=later + timedelta(days=31))
    assert sweep.moved == 0 and "no attachment" in sweep.warning
    assert set(objects(s3_server, s3_media)) == {a.file.name for a in kept}


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_a_fresh_bucket_gives_the_same_files(
    s3_media: str, s3_server: str, requester: User, agent: User, manager: User, tmp_path: Path
) -> None:
    populate(requester=requester, agent=agent, manager=manager)
    source = objects(s3_server, s3_media)
    default_storage.save("attachments/2020/01/stray", ContentFile(b"no row refers to it"))  # not backed up
    assert len(source) == 4
    archive = tmp_path / "desk.tar.gz"
    # a fresh Palier with its own database and bucket; the bucket already holds a file of its own
    # and a different object under one of the archive's names
    bucket = new_bucket(s3_server)
    first = sorted(source)[0]
    s3_client(s3_server).put_object(Bucket=bucket, Key="kept.txt", Body=b"not in the archive")
    s3_client(s3_server).put_object(Bucket=bucket, Key=first, Body=b"older content")
    with contextlib.ExitStack() as stack:
        stack.enter_context(shared_database())
        call_command("backup", str(archive))
        url = stack.enter_context(postgres_database("s3")) if connection.vendor == "postgresql" else None
        run_palier(
            "restore", str(archive), env={**instance_env(tmp_path / "restored", url), **s3_env(s3_server, bucket)}
        )
    assert objects(s3_server, bucket) == {**source, "kept.txt": b"not in the archive"}
    assert not (tmp_path / "restored" / "media").exists()  # nothing went to the local folder


@pytest.mark.django_db
def test_ready_checks_the_bucket_and_says_not_why_it_failed(
    s3_media: str, s3_server: str, client: Client, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get("/ready")
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["checks"]["storage"] == "ok"
    # the S3 service down (nothing listens there): not ready, within the probe's timeout
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    _s3_options(settings, endpoint_url=closed)
    response = client.get("/ready")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["storage"] == "failed"
    assert "127.0.0.1" not in response.content.decode()
    # a bucket that is not there fails too
    _s3_options(settings, endpoint_url=s3_server, bucket_name="missing")
    assert client.get("/ready").status_code == 503
