"""Client tests for the administrators' Data export page."""

from __future__ import annotations

import tarfile
from io import BytesIO
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.audit.models import AuditEvent
from palier.dataexport.models import DataExport
from palier.people.models import Organisation, User
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def test_only_admins_export(client: Client, requester: User, agent: User, manager: User) -> None:
    url = reverse("agent:admin-data-export")
    assert client.post(url, {"organisation": ""}).status_code == 302  # to the sign-in page
    for user in (requester, agent, manager):
        client.force_login(user)
        assert client.post(url, {"organisation": ""}).status_code == 404
    assert not DataExport.objects.exists()


def test_an_admin_exports_an_organisation_and_downloads_it(
    client: Client,
    admin_user: User,
    requester: User,
    outsider: User,
    org: Organisation,
    agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_ticket(requester, subject="Acme printer")
    make_ticket(outsider, subject="Globex secret")
    client.force_login(admin_user)
    url = reverse("agent:admin-data-export")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The whole desk" in page and "Acme" in page and "Globex" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"organisation": str(org.pk), "internal": "on"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    job = DataExport.objects.get()
    assert job.state == DataExport.State.DONE and job.counts["tickets"] == 1 and job.organisation == org
    assert AuditEvent.objects.filter(action="export.data", actor=admin_user, target_label="Acme").exists()

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    download = reverse("agent:admin-data-export-download", args=[job.pk])
    assert download in page and "1 ticket" in page
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/gzip"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    with tarfile.open(fileobj=BytesIO(body)) as archive:
        tickets = archive.extractfile("data/tickets.jsonl").read()  # type: ignore[union-attr]
    assert b"Acme printer" in tickets and b"Globex" not in tickets
    assert AuditEvent.objects.filter(action="export.data_downloaded", actor=admin_user).exists()

    client.force_login(agent)  # anyone else: as if it did not exist
    assert client.get(download).status_code == 404


def test_bad_input_changes_nothing(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    url = reverse("agent:admin-data-export")
    for value in ("999999", "abc", "1 OR 1=1"):
        response = client.post(url, {"organisation": value}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200  # the form again, with its error
    assert not DataExport.objects.exists()
    assert client.get(reverse("agent:admin-data-export-download", args=[12345])).status_code == 404
