"""Client tests for the queue's exports: the current filters as CSV or XLSX with the viewer's
permissions, and long exports as a background job that only its owner may download."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from palier.people.models import SupportGroup, User
from palier.reports import services as report_services
from palier.reports.models import ExportJob
from palier.tickets import services
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.fixture
def en(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_csv_export_has_the_queue_filters_and_only_visible_tickets(
    en: Client, agent: User, agent_l2: User, requester: User, l2: SupportGroup
) -> None:
    urgent = make_ticket(requester, subject="=Urgent printer", impact="high", urgency="high")
    make_ticket(requester, subject="Low printer")
    make_ticket(requester, subject="Hidden in L2", group=l2, by=agent_l2)
    en.force_login(agent)
    rows = _csv(en.get(reverse("agent:ticket-export", args=["csv"])))
    assert rows[0][:4] == ["Number", "Type", "Subject", "Status"] and len(rows[0]) == 15
    assert sorted(r[2] for r in rows[1:]) == ["'=Urgent printer", "Low printer"]  # not L2's ticket
    filtered = _csv(en.get(reverse("agent:ticket-export", args=["csv"]), {"priority": str(urgent.priority)}))
    assert [r[0] for r in filtered[1:]] == [urgent.reference]


def test_xlsx_export_is_a_spreadsheet(en: Client, agent: User, requester: User) -> None:
    make_ticket(requester, subject="Printer")
    en.force_login(agent)
    response = en.get(reverse("agent:ticket-export", args=["xlsx"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(response.streaming_content)[:2] == b"PK"


def test_export_reads_a_constant_number_of_queries(
    en: Client, agent: User, requester: User, django_assert_max_num_queries: Any
) -> None:
    for i in range(12):
        make_ticket(requester, subject=f"Ticket {i}")
    en.force_login(agent)
    with django_assert_max_num_queries(12):
        assert len(_csv(en.get(reverse("agent:ticket-export", args=["csv"])))) == 13


def test_requesters_and_unknown_formats_get_no_export(client: Client, requester: User, agent: User) -> None:
    client.force_login(requester)
    assert client.get(reverse("agent:ticket-export", args=["csv"])).status_code == 404  # agent pages hide
    client.force_login(agent)
    assert client.get(reverse("agent:ticket-export", args=["pdf"])).status_code == 404


def test_queue_offers_both_export_links_with_its_filters(en: Client, agent: User) -> None:
    en.force_login(agent)
    page = en.get(reverse("agent:ticket-list"), {"status": "all"}).content.decode()
    assert f"{reverse('agent:ticket-export', args=['csv'])}?status=all" in page
    assert f"{reverse('agent:ticket-export', args=['xlsx'])}?status=all" in page


def test_a_long_export_runs_in_the_background_for_its_owner_only(
    en: Client,
    agent: User,
    requester: User,
    triage: SupportGroup,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PALIER_EXPORT_INLINE_ROWS = 1
    for i in range(3):
        make_ticket(requester, subject=f"Ticket {i}")
    en.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = en.get(reverse("agent:ticket-export", args=["csv"]))
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("agent:export-job", args=[job.pk])
    job.refresh_from_db()
    assert (job.state, job.rows_done, job.rows_total) == ("done", 3, 3)
    page = en.get(response["Location"], headers={"HX-Request": "true"})
    assert "export-download" in page.content.decode() and "hx-trigger" not in page.content.decode()
    download = en.get(reverse("agent:export-download", args=[job.pk]))
    assert len(_csv(download)) == 4
    # a colleague who sees the same tickets still cannot fetch someone else's export
    colleague = User.objects.create_user(email="zoe@desk.test", role=User.Role.AGENT)
    triage.members.add(colleague)
    en.force_login(colleague)
    assert en.get(reverse("agent:export-job", args=[job.pk])).status_code == 404
    assert en.get(reverse("agent:export-download", args=[job.pk])).status_code == 404


def test_a_queued_export_page_polls_and_running_again_does_nothing(en: Client, agent: User, requester: User) -> None:
    make_ticket(requester, subject="Ticket")
    from palier.tickets.selectors import TicketFilters

    job = report_services.queue_export(owner=agent, filters=TicketFilters(), fmt="xlsx", total=1)
    en.force_login(agent)
    page = en.get(reverse("agent:export-job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert report_services.run_export(job_id=job.pk) is not None
    job.refresh_from_db()
    first_file = job.file
    assert job.state == "done" and default_storage.exists(first_file)
    report_services.run_export(job_id=job.pk)  # a task delivered twice writes nothing more
    job.refresh_from_db()
    assert job.file == first_file


def test_exports_older_than_a_week_are_removed_with_their_files(agent: User, requester: User) -> None:
    from palier.tickets.selectors import TicketFilters

    make_ticket(requester, subject="Ticket")
    old = report_services.queue_export(owner=agent, filters=TicketFilters(), fmt="csv", total=1)
    report_services.run_export(job_id=old.pk)
    old.refresh_from_db()
    fresh = report_services.queue_export(owner=agent, filters=TicketFilters(), fmt="csv", total=1)
    later = timezone.now() + timedelta(days=7, minutes=1)
    ExportJob.objects.filter(pk=fresh.pk).update(created_at=later - timedelta(days=1))
    assert report_services.prune_exports(now=later) == 1
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not default_storage.exists(old.file)
    assert services  # the ticket services built the fixture


def test_an_export_too_long_for_a_spreadsheet_is_refused(
    en: Client, agent: User, requester: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from palier.reports import exports

    settings.PALIER_EXPORT_INLINE_ROWS = 1
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 2)
    for i in range(3):
        make_ticket(requester, subject=f"Ticket {i}")
    en.force_login(agent)
    response = en.get(reverse("agent:ticket-export", args=["xlsx"]), {"status": "all"}, follow=True)
    assert "do not fit in a spreadsheet" in response.content.decode()
    assert response.redirect_chain[-1][0] == f"{reverse('agent:ticket-list')}?status=all"
    assert not ExportJob.objects.exists()


def test_an_export_whose_worker_died_runs_again_then_fails_with_a_message(
    en: Client, agent: User, requester: User, django_capture_on_commit_callbacks: Any
) -> None:
    from palier.tickets.selectors import TicketFilters

    make_ticket(requester, subject="Imprimante")
    jobs = [report_services.queue_export(owner=agent, filters=TicketFilters(), fmt="csv", total=1) for _ in range(3)]
    now = timezone.now()
    silent = now - timedelta(minutes=11)
    # killed mid-way after one run; killed three times; still writing (a sign of life a minute ago)
    ExportJob.objects.filter(pk=jobs[0].pk).update(state="running", attempts=1, updated_at=silent, rows_done=40)
    ExportJob.objects.filter(pk=jobs[1].pk).update(state="running", attempts=3, updated_at=silent)
    ExportJob.objects.filter(pk=jobs[2].pk).update(state="running", attempts=1, updated_at=now - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert report_services.recover_stalled_exports(now=now) == 1
    states = {job.pk: job for job in ExportJob.objects.all()}
    again = states[jobs[0].pk]
    assert again.state == "done" and again.attempts == 2 and default_storage.exists(again.file)
    assert states[jobs[1].pk].state == "failed" and "interrupted" in states[jobs[1].pk].error
    assert states[jobs[2].pk].state == "running"  # alive: left alone
    en.force_login(agent)
    page = en.get(reverse("agent:export-job", args=[jobs[1].pk])).content.decode()
    assert "The export failed. Try again" in page  # its owner is told; the reason is kept for admins
