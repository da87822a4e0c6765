"""Client tests for the agent workspace: queue, ticket page, reply, status, take it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.people.models import SupportGroup, User
from palier.tickets import services
from palier.tickets.models import Attachment, Comment, Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _detail(ticket: Ticket) -> str:
    return reverse("agent:ticket-detail", args=[ticket.pk])


def test_workspace_is_for_agents_only(client: Client, requester: User) -> None:
    assert client.get(reverse("agent:ticket-list")).url.startswith(reverse("login"))
    ticket = make_ticket(requester)
    client.force_login(requester)
    assert client.get(reverse("agent:ticket-list")).status_code == 404
    assert client.get(_detail(ticket)).status_code == 404


def test_agent_sees_the_queue_and_the_ticket(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester, subject="VPN down")
    client.force_login(agent)
    html = client.get(reverse("agent:ticket-list")).content.decode()
    assert "VPN down" in html and ticket.reference in html
    html = client.get(_detail(ticket)).content.decode()
    assert "VPN down" in html and "Alice Martin" in html


def test_agent_outside_the_group_gets_404(client: Client, agent_l2: User, requester: User) -> None:
    ticket = make_ticket(requester, subject="Triage only")  # lands in the triage group
    upload = SimpleUploadedFile("a.txt", b"x", content_type="text/plain")
    attachment = services.add_attachment(ticket, by=requester, upload=upload)
    client.force_login(agent_l2)
    assert client.get(_detail(ticket)).status_code == 404
    assert client.post(reverse("agent:ticket-reply", args=[ticket.pk]), {"body": "x"}).status_code == 404
    assert client.get(reverse("portal:attachment", args=[attachment.pk])).status_code == 404
    assert "Triage only" not in client.get(reverse("agent:ticket-list")).content.decode()


def test_agent_replies_publicly_and_adds_an_internal_note(client: Client, agent: User, requester: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the browser asks for English
    ticket = make_ticket(requester)
    client.force_login(agent)
    url = reverse("agent:ticket-reply", args=[ticket.pk])
    response = client.post(url, {"body": "Please restart", "visibility": "public"})
    assert response.status_code == 302
    upload = SimpleUploadedFile("trace.txt", b"trace", content_type="text/plain")
    client.post(url, {"body": "Looks like a driver bug", "visibility": "internal", "attachments": [upload]})
    public, note = Comment.objects.order_by("id")
    assert (public.is_internal, note.is_internal) == (False, True)
    assert Attachment.objects.get().is_internal
    html = client.get(_detail(ticket)).content.decode()
    assert "Please restart" in html and "Looks like a driver bug" in html
    assert "entry-note" in html and "Internal note" in html
    client.force_login(requester)
    html = client.get(reverse("portal:ticket-detail", args=[ticket.pk])).content.decode()
    assert "Please restart" in html and "Looks like a driver bug" not in html


def test_htmx_reply_returns_the_workspace_partial(client: Client, agent: User, requester: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the browser asks for English
    ticket = make_ticket(requester)
    client.force_login(agent)
    url = reverse("agent:ticket-reply", args=[ticket.pk])
    response = client.post(url, {"body": "Swapped in", "visibility": "public"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="workspace"' in html and "Swapped in" in html
    assert "Reply sent." in html


def test_htmx_reply_error_stays_in_the_form(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    response = client.post(
        reverse("agent:ticket-reply", args=[ticket.pk]), {"body": "", "visibility": "public"}, headers=HTMX
    )
    assert response.status_code == 200
    assert 'id="id_body_error"' in response.content.decode()
    assert not Comment.objects.exists()


def test_status_change_and_readable_history(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    url = reverse("agent:ticket-status", args=[ticket.pk])
    response = client.post(url, {"status": "in_progress", "version": ticket.version})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    html = client.get(_detail(ticket)).content.decode()
    assert "changed the status from “New” to “In progress”" in html or "“Nouveau”" in html


def test_stale_status_change_shows_a_message_and_changes_nothing(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    seen = ticket.version
    services.comment_on_ticket(ticket, by=agent, body="Someone else was faster")  # bumps the version
    client.force_login(agent)
    url = reverse("agent:ticket-status", args=[ticket.pk])
    response = client.post(url, {"status": "resolved", "version": seen})
    assert response.status_code == 409
    html = response.content.decode()
    assert "alert-danger" in html
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert f'name="version" value="{ticket.version}"' in html  # resubmitting uses the fresh version
    htmx = client.post(url, {"status": "resolved", "version": seen}, headers=HTMX)
    assert htmx.status_code == 200 and "alert-danger" in htmx.content.decode()


def test_illegal_status_is_refused(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    response = client.post(reverse("agent:ticket-status", args=[ticket.pk]), {"status": "closed", "version": 1})
    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_assign_to_me(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    response = client.post(reverse("agent:ticket-take", args=[ticket.pk]), {"version": ticket.version}, headers=HTMX)
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (agent, "assigned")
    assert "Assign to me" not in response.content.decode()


def test_assign_to_me_outside_the_group_shows_why(client: Client, admin_user: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(admin_user)  # sees everything, but is no member of the triage group
    response = client.post(reverse("agent:ticket-take", args=[ticket.pk]), {"version": ticket.version})
    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_queue_filters_sort_and_next_page(
    client: Client, agent: User, agent_l2: User, requester: User, l2: SupportGroup, settings: Any
) -> None:
    settings.PALIER_PAGE_SIZE = 2
    mine = make_ticket(requester, subject="Assigned to Lea")
    services.update_ticket(mine, by=agent, expected_version=None, changes={"assignee": agent})
    for i in range(3):
        make_ticket(requester, subject=f"Waiting {i}")
    client.force_login(agent)
    page = client.get(reverse("agent:ticket-list"), {"assignee": "me"}).context["page"]
    assert [t.subject for t in page.items] == ["Assigned to Lea"]
    first = client.get(reverse("agent:ticket-list"), {"assignee": "none", "sort": "created"})
    assert [t.subject for t in first.context["page"].items] == ["Waiting 0", "Waiting 1"]
    assert first.context["next_query"]
    second = client.get(reverse("agent:ticket-list") + "?" + first.context["next_query"])
    assert [t.subject for t in second.context["page"].items] == ["Waiting 2"]
    resolved = client.get(reverse("agent:ticket-list"), {"status": "resolved"}).context["page"]
    assert resolved.items == []
    by_group = client.get(reverse("agent:ticket-list"), {"group": l2.pk}).context["page"]
    assert by_group.items == []


def test_queue_runs_a_constant_number_of_queries(
    client: Client, agent: User, requester: User, django_assert_max_num_queries: Any
) -> None:
    make_ticket(requester)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("agent:ticket-list"))
    for i in range(20):
        ticket = make_ticket(requester, subject=f"T{i}")
        if i % 2:
            services.update_ticket(ticket, by=agent, expected_version=None, changes={"assignee": agent})
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("agent:ticket-list"))
    assert len(response.context["page"].items) == 21


def test_ticket_page_runs_a_constant_number_of_queries(
    client: Client, agent: User, requester: User, django_assert_max_num_queries: Any
) -> None:
    ticket = make_ticket(requester)
    services.comment_on_ticket(ticket, by=agent, body="first")
    client.force_login(agent)
    with CaptureQueriesContext(connection) as few:
        client.get(_detail(ticket))
    for i in range(10):
        upload = SimpleUploadedFile(f"f{i}.txt", b"data", content_type="text/plain")
        services.comment_on_ticket(
            ticket,
            by=requester if i % 2 else agent,
            body=f"message {i}",
            uploads=[upload],
            internal=i % 3 == 0 and i % 2 == 0,
        )
        services.transition_ticket(ticket, to="pending_requester" if i % 2 == 0 else "pending_vendor", by=agent)
    with django_assert_max_num_queries(len(few)):
        response = client.get(_detail(ticket))
    assert "message 9" in response.content.decode()
