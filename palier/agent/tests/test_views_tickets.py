"""Client tests for the agent workspace: queue, ticket page, reply, status, take it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from palier.people.models import SupportGroup, User
from palier.tickets import services
from palier.tickets.models import Attachment, Comment, Ticket, TicketViewer
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


@contextmanager
def freeze_seconds(seconds: int) -> Iterator[None]:
    """Pretend ``seconds`` have passed (for the 30-second presence window)."""
    later = timezone.now() + timedelta(seconds=seconds)
    with patch("django.utils.timezone.now", return_value=later):
        yield


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
    assert 'id="take-it"' not in response.content.decode()


def test_assign_to_me_outside_the_group_shows_why(client: Client, admin_user: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(admin_user)  # sees everything, but is no member of the triage group
    response = client.post(reverse("agent:ticket-take", args=[ticket.pk]), {"version": ticket.version})
    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.assignee is None


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
    print(f"ticket page: {len(few)} queries")


# --- side panel, collisions, presence, requester card ---------------------------------------------


def _edit(ticket: Ticket, field: str) -> str:
    return reverse("agent:ticket-edit", args=[ticket.pk, field])


def test_inline_edit_swaps_the_panel_timeline_and_stamp(client: Client, agent: User, requester: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    ticket = make_ticket(requester)
    client.force_login(agent)
    data = {"impact": "high", "urgency": "high", "version": ticket.version}
    response = client.post(_edit(ticket, "priority"), data, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="panel"' in html and 'id="timeline" hx-swap-oob="true"' in html
    assert 'id="reply-stamp" hx-swap-oob="true"' in html
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.version) == (1, 2)
    assert "changed the priority from “P4” to “P1”" in html
    assert f'name="version" value="{ticket.version}"' in html


def test_stale_inline_edit_changes_nothing_and_says_why(client: Client, agent: User, requester: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    ticket = make_ticket(requester)
    seen = ticket.version
    services.comment_on_ticket(ticket, by=agent, body="Someone else was faster")
    client.force_login(agent)
    response = client.post(_edit(ticket, "kind"), {"kind": "request", "version": seen}, headers=HTMX)
    html = response.content.decode()
    assert "changed by someone else" in html and "reply-stamp" not in html
    ticket.refresh_from_db()
    assert ticket.kind == "incident"
    assert f'value="{ticket.version}" class="form-control" id="edit-kind-version"' in html  # resubmitting is a choice
    plain = client.post(_edit(ticket, "kind"), {"kind": "request", "version": seen})
    assert plain.status_code == 409


def test_invalid_inline_edits_show_errors(
    client: Client, agent: User, agent_l2: User, requester: User, l2: SupportGroup
) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    ticket = make_ticket(requester)
    client.force_login(agent)
    html = client.post(
        _edit(ticket, "assignee"), {"assignee": agent_l2.pk, "version": ticket.version}, headers=HTMX
    ).content.decode()
    assert "not a member of the ticket" in html and "<details open" in html
    html = client.post(_edit(ticket, "status"), {"status": "closed", "version": 1}, headers=HTMX).content.decode()
    assert "Select a valid choice" in html
    assert client.post(_edit(ticket, "nonsense"), {"version": 1}).status_code == 404
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status, ticket.version) == (None, "new", 1)


def test_group_category_type_and_tags_edits(client: Client, agent: User, requester: User, l2: SupportGroup) -> None:
    from palier.tickets.models import Category

    ticket = make_ticket(requester)
    category = Category.objects.filter(is_active=True).first()
    assert category is not None
    client.force_login(agent)
    client.post(_edit(ticket, "tags"), {"tags": "vpn, Laptop", "version": 1})
    client.post(_edit(ticket, "category"), {"category": category.pk, "version": 2})
    client.post(_edit(ticket, "kind"), {"kind": "request", "version": 3})
    client.post(_edit(ticket, "assignee"), {"assignee": agent.pk, "version": 4})
    client.post(_edit(ticket, "group"), {"group": l2.pk, "version": 5})
    ticket.refresh_from_db()
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["laptop", "vpn"]
    assert (ticket.category, ticket.kind, ticket.group) == (category, "request", l2)
    assert ticket.assignee is None  # moving to a group the assignee is not in releases it


def test_watchers_and_links_from_the_panel(
    client: Client, agent: User, requester: User, requester_b: User, agent_l2: User, l2: SupportGroup
) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    ticket = make_ticket(requester)
    other = make_ticket(requester, subject="Other")
    hidden = make_ticket(requester, subject="Hidden", group=l2, by=agent_l2)
    client.force_login(agent)
    client.post(_edit(ticket, "watch"), {"email": "BOB@acme.test", "version": 1})
    assert list(ticket.watchers.all()) == [requester_b]
    missing = client.post(_edit(ticket, "watch"), {"email": "nobody@acme.test", "version": 2}, headers=HTMX)
    assert "No active account has this email address." in missing.content.decode()
    client.post(_edit(ticket, "unwatch"), {"user": requester_b.pk, "version": 2})
    assert not ticket.watchers.exists()
    refused = client.post(_edit(ticket, "link"), {"kind": "related", "reference": hidden.reference, "version": 3})
    assert refused.status_code == 409
    client.post(_edit(ticket, "link"), {"kind": "related", "reference": other.reference.lower(), "version": 3})
    html = client.get(_detail(ticket)).content.decode()
    assert f'is related to <a href="{_detail(other)}">{other.reference}</a>' in html
    link = ticket.links_out.get()
    client.post(_edit(ticket, "unlink"), {"link": link.pk, "version": 4})
    assert not ticket.links_out.exists()


def test_stale_reply_asks_for_confirmation(client: Client, agent: User, manager: User, requester: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    ticket = make_ticket(requester)
    client.force_login(agent)
    page = client.get(_detail(ticket))
    stamp = page.context["stamp"]
    services.comment_on_ticket(ticket, by=manager, body="I am on it already", internal=True)
    url = reverse("agent:ticket-reply", args=[ticket.pk])
    data = {"body": "Restart it", "visibility": "public", "version": stamp["version"], "since": stamp["since"]}
    response = client.post(url, data, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "This ticket changed while you were writing" in html
    assert "I am on it already" in html and "Send anyway" in html and "Restart it" in html
    assert Comment.objects.filter(author=agent).count() == 0
    ticket.refresh_from_db()
    assert f'name="version" value="{ticket.version}"' in html
    confirmed = client.post(url, {**data, "version": ticket.version}, headers=HTMX)
    assert "Reply sent." in confirmed.content.decode()
    assert Comment.objects.filter(author=agent, body="Restart it").exists()
    assert client.post(url, {**data, "version": 1}).status_code == 409  # without htmx too


def test_presence_shows_other_viewers_and_changes(client: Client, agent: User, manager: User, requester: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    ticket = make_ticket(requester)
    url = reverse("agent:ticket-presence", args=[ticket.pk])
    since = timezone.now().isoformat()
    client.force_login(manager)
    client.post(url, {"version": 1, "since": since}, headers=HTMX)
    client.force_login(agent)
    html = client.post(url, {"version": 1, "since": since}, headers=HTMX).content.decode()
    assert "Nina Manager is also viewing this ticket." in html and "was changed by" not in html
    services.update_ticket(ticket, by=manager, expected_version=None, changes={"urgency": "high"})
    html = client.post(url, {"version": 1, "since": since}, headers=HTMX).content.decode()
    assert "This ticket was changed by Nina Manager since you opened it." in html
    assert TicketViewer.objects.count() == 2
    with freeze_seconds(31):
        html = client.post(url, {"version": 2, "since": since}, headers=HTMX).content.decode()
    assert "is also viewing" not in html


def test_presence_of_a_hidden_ticket_is_404(client: Client, agent_l2: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent_l2)
    assert client.post(reverse("agent:ticket-presence", args=[ticket.pk]), {"version": 1}).status_code == 404
    assert client.post(_edit(ticket, "kind"), {"kind": "request", "version": 1}).status_code == 404
    assert not TicketViewer.objects.exists()


def test_requester_card_lists_other_open_tickets_visible_to_me(
    client: Client, agent: User, agent_l2: User, requester: User, l2: SupportGroup
) -> None:
    ticket = make_ticket(requester, subject="This one")
    for i in range(6):
        make_ticket(requester, subject=f"Other {i}")
    make_ticket(requester, subject="Network secret", group=l2, by=agent_l2)
    closed = make_ticket(requester, subject="Closed one")
    services.transition_ticket(closed, to="cancelled", by=agent)
    client.force_login(agent)
    response = client.get(_detail(ticket))
    others = [t.subject for t in response.context["other_open"]]
    assert others == ["Other 5", "Other 4", "Other 3", "Other 2", "Other 1"]
    html = response.content.decode()
    assert "alice@acme.test" in html and "Acme" in html and "Network secret" not in html


def test_ticket_page_shows_the_sla_countdown_and_timeline_and_the_portal_the_expected_answer(
    client: Client, agent: User, requester: User
) -> None:
    ticket = make_ticket(requester, subject="Printer on fire", impact="high", urgency="high")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(agent)
    html = client.get(reverse("agent:ticket-detail", args=[ticket.pk])).content.decode()
    assert 'id="sla-panel"' in html and "business time left" in html
    assert "SLA timeline" in html and "Started" in html
    client.force_login(requester)
    html = client.get(reverse("portal:ticket-detail", args=[ticket.pk])).content.decode()
    assert "We usually answer within" in html
