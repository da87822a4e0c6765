"""Client tests for the agent queue: navigation views, table, live refresh, bulk actions,
"take it" from a row and personal saved filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from palier.agent import contexts
from palier.people.models import SupportGroup, User
from palier.tickets import services
from palier.tickets.models import Comment, SavedFilter, Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
LIST = "agent:ticket-list"


def _items(client: Client, **params: Any) -> list[str]:
    return [t.subject for t in client.get(reverse(LIST), params).context["table"].page.items]


@pytest.fixture
def en(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_queue_filters_sort_and_pages(
    en: Client, client: Client, agent: User, requester: User, l2: SupportGroup, settings: Any
) -> None:
    settings.PALIER_PAGE_SIZE = 2
    mine = make_ticket(requester, subject="Assigned to Lea")
    services.update_ticket(mine, by=agent, expected_version=None, changes={"assignee": agent})
    for i in range(3):
        make_ticket(requester, subject=f"Waiting {i}", impact="high" if i == 2 else "low")
    client.force_login(agent)
    assert _items(client, assignee="me") == ["Assigned to Lea"]
    first = client.get(reverse(LIST), {"assignee": "none", "sort": "created"})
    table = first.context["table"]
    assert [t.subject for t in table.page.items] == ["Waiting 0", "Waiting 1"]
    assert table.is_first_page and "First page" not in first.content.decode()
    second = client.get(reverse(LIST) + "?" + table.next_query)
    assert [t.subject for t in second.context["table"].page.items] == ["Waiting 2"]
    assert "First page" in second.content.decode()
    assert _items(client, status="resolved") == []
    assert _items(client, group=l2.pk) == []
    assert _items(client, priority="3") == ["Waiting 2"]
    assert _items(client, kind="request") == []


def test_navigation_views_and_capped_counts(
    en: Client, agent: User, agent_l2: User, requester: User, l2: SupportGroup, monkeypatch: Any
) -> None:
    monkeypatch.setattr(contexts, "COUNT_CAP", 3)
    for i in range(4):
        make_ticket(requester, subject=f"Triage {i}")
    pending = make_ticket(requester, subject="Waiting for Alice")
    services.transition_ticket(pending, to="pending_requester", by=agent)
    services.update_ticket(pending, by=agent, expected_version=None, changes={"assignee": agent})
    make_ticket(requester, subject="Network", group=l2, by=agent_l2)
    en.force_login(agent)
    response = en.get(reverse(LIST))
    nav = {item.label: item for item in response.context["nav"]}
    assert nav["My open tickets"].count_text == "1"
    assert nav["Unassigned in my groups"].count_text == "2+"  # 4 unassigned, capped
    assert nav["Pending"].count_text == "1"
    assert nav["Resolved"].count is None
    assert _items(en, status="pending") == ["Waiting for Alice"]
    assert "Network" not in _items(en, group="mine", status="all")
    html = en.get(reverse(LIST), {"assignee": "me"}).content.decode()
    assert 'aria-current="page"' in html


def test_header_sort_links_toggle(client: Client, agent: User, requester: User) -> None:
    make_ticket(requester)
    client.force_login(agent)
    response = client.get(reverse(LIST), {"sort": "priority", "q": "x y"})
    sorts = response.context["table"].sorts
    assert sorts["priority"].aria_sort == "ascending" and "sort=-priority" in sorts["priority"].query
    assert sorts["updated"].aria_sort == "none" and "sort=updated" in sorts["updated"].query
    assert "q=x+y" in sorts["number"].query


def test_sla_due_sort_pages_through_tickets_without_a_due_time_last(
    en: Client, agent: User, requester: User, settings: Any
) -> None:
    settings.PALIER_PAGE_SIZE = 2
    now = timezone.now()
    due = {
        "Due later": now + timedelta(hours=5),
        "Overdue": now - timedelta(minutes=30),
        "Due soon": now + timedelta(hours=1),
    }
    for subject in ["No SLA 1", *due, "No SLA 2"]:
        ticket = make_ticket(requester, subject=subject)
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due.get(subject))
    en.force_login(agent)

    def walk(sort: str) -> list[str]:
        seen: list[str] = []
        query = f"sort={sort}&status=all"
        while True:
            table = en.get(reverse(LIST) + "?" + query).context["table"]
            seen += [t.subject for t in table.page.items]
            if not table.next_query:
                return seen
            query = table.next_query

    assert walk("sla") == ["Overdue", "Due soon", "Due later", "No SLA 1", "No SLA 2"]
    assert walk("-sla") == ["Due later", "Due soon", "Overdue", "No SLA 2", "No SLA 1"]
    html = en.get(reverse(LIST), {"sort": "sla"}).content.decode()
    assert "SLA due" in html and "overdue" in html


def test_bad_cursor_starts_again(client: Client, agent: User, requester: User) -> None:
    make_ticket(requester, subject="Still there")
    client.force_login(agent)
    assert _items(client, cursor="not-a-cursor") == ["Still there"]


def test_poll_returns_the_table_and_highlights_changed_rows(en: Client, agent: User, requester: User) -> None:
    old = make_ticket(requester, subject="Old one")
    since = timezone.now()
    fresh = make_ticket(requester, subject="Brand new")
    en.force_login(agent)
    response = en.get(reverse(LIST), {"since": since.isoformat()}, headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html and 'id="queue-table"' in html
    assert response.context["table"].changed == {fresh.pk}
    assert f'id="ticket-row-{fresh.pk}" class="row-changed"' in html
    assert f'id="ticket-row-{old.pk}" class="row-changed"' not in html
    assert "1 ticket changed since the last refresh." in html
    assert 'hx-trigger="queue-poll, queue-refresh from:body" data-poll-seconds="15"' in html and "since=" in html


def test_bulk_assign_status_and_note_with_partial_failure(
    en: Client, agent: User, requester: User, agent_l2: User, l2: SupportGroup
) -> None:
    a = make_ticket(requester, subject="A")
    b = make_ticket(requester, subject="B")
    services.transition_ticket(b, to="cancelled", by=agent)
    hidden = make_ticket(requester, subject="Hidden", group=l2, by=agent_l2)
    en.force_login(agent)
    data = {"tickets": [a.pk, b.pk, hidden.pk], "assignee": "me", "status": "in_progress", "note": "Bulk note"}
    response = en.post(reverse("agent:ticket-bulk"), data, headers=HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "queue-refresh"
    html = response.content.decode()
    assert f"{a.reference} — Done." in html
    assert f"{b.reference} — A resolved, closed or cancelled ticket cannot be edited" in html
    assert hidden.reference not in html  # the ticket of another group is absent
    assert "1 selected ticket is not available to you." in html
    a.refresh_from_db()
    b.refresh_from_db()
    hidden.refresh_from_db()
    assert (a.assignee, a.status) == (agent, "in_progress")
    assert (b.assignee, b.status) == (None, "cancelled")
    assert hidden.assignee is None
    assert list(Comment.objects.filter(is_internal=True).values_list("ticket_id", flat=True)) == [a.pk]


def test_bulk_illegal_transition_is_reported_per_ticket(en: Client, agent: User, requester: User) -> None:
    a = make_ticket(requester, subject="A")
    b = make_ticket(requester, subject="B")
    services.transition_ticket(b, to="resolved", by=agent)
    en.force_login(agent)
    response = en.post(reverse("agent:ticket-bulk"), {"tickets": [a.pk, b.pk], "status": "pending_vendor"})
    assert response.status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == ("pending_vendor", "resolved")
    page = en.get(reverse(LIST)).content.decode()
    assert f"{b.reference}: A ticket cannot go from “Resolved” to “Pending vendor”." in page


def test_bulk_needs_a_selection_and_a_change(en: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    en.force_login(agent)
    nothing = en.post(reverse("agent:ticket-bulk"), {"status": "in_progress"}, headers=HTMX)
    assert "Select at least one ticket." in nothing.content.decode()
    no_change = en.post(reverse("agent:ticket-bulk"), {"tickets": [ticket.pk]}, headers=HTMX)
    assert "Choose at least one change to apply." in no_change.content.decode()
    ticket.refresh_from_db()
    assert ticket.version == 1


def test_take_it_from_the_queue(en: Client, agent: User, admin_user: User, requester: User) -> None:
    ticket = make_ticket(requester)
    en.force_login(admin_user)  # sees everything but is no member of the triage group
    refused = en.post(reverse("agent:queue-take", args=[ticket.pk]), headers=HTMX)
    assert "The assignee is not a member of the ticket" in refused.content.decode()
    en.force_login(agent)
    html = en.get(reverse(LIST)).content.decode()
    assert f'aria-label="Take {ticket.reference}"' in html
    done = en.post(reverse("agent:queue-take", args=[ticket.pk]), headers=HTMX)
    assert f"{ticket.reference} is yours." in done.content.decode() and done["HX-Trigger"] == "queue-refresh"
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    plain = en.post(reverse("agent:queue-take", args=[ticket.pk]), {"next": "https://evil.test/"})
    assert plain.url == reverse(LIST)


def test_saved_filters_belong_to_their_owner(client: Client, agent: User, manager: User, requester: User) -> None:
    make_ticket(requester, subject="P1 thing", impact="high", urgency="high")
    client.force_login(agent)
    response = client.post(reverse("agent:filter-save"), {"name": "Urgent", "query": "priority=1&status=all"})
    assert response.url == reverse(LIST) + "?priority=1&status=all"
    saved = SavedFilter.objects.get()
    page = client.get(reverse(LIST), {"priority": "1", "status": "all"})
    assert [(i.label, i.current) for i in page.context["saved"]] == [("Urgent", True)]
    client.force_login(manager)
    assert client.get(reverse(LIST)).context["saved"] == []
    assert client.post(reverse("agent:filter-delete", args=[saved.pk])).status_code == 404
    client.force_login(agent)
    client.post(reverse("agent:filter-delete", args=[saved.pk]))
    assert not SavedFilter.objects.exists()


def test_agent_outside_the_group_never_sees_its_tickets(
    en: Client, client: Client, agent_l2: User, requester: User, agent: User
) -> None:
    ticket = make_ticket(requester, subject="Triage secret")
    client.force_login(agent_l2)
    assert "Triage secret" not in client.get(reverse(LIST), {"status": "all"}).content.decode()
    assert client.post(reverse("agent:queue-take", args=[ticket.pk])).status_code == 404
    response = client.post(reverse("agent:ticket-bulk"), {"tickets": [ticket.pk], "status": "resolved"}, headers=HTMX)
    html = response.content.decode()
    assert ticket.reference not in html and "1 selected ticket is not available to you." in html
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_queue_runs_a_constant_number_of_queries(
    client: Client, agent: User, requester: User, django_assert_max_num_queries: Any
) -> None:
    make_ticket(requester)
    client.force_login(agent)
    services.save_filter(user=agent, name="Mine", query="assignee=me")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(LIST))
    for i in range(20):
        ticket = make_ticket(requester, subject=f"T{i}")
        if i % 2:
            services.update_ticket(ticket, by=agent, expected_version=None, changes={"assignee": agent})
    services.save_filter(user=agent, name="Other", query="status=all")
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse(LIST))
    assert len(response.context["table"].page.items) == 21
    with django_assert_max_num_queries(len(few)):
        client.get(reverse(LIST), {"since": timezone.now().isoformat()}, headers=HTMX)
    print(f"queue page: {len(few)} queries")


def test_requesters_cannot_use_the_queue(client: Client, requester: User) -> None:
    client.force_login(requester)
    assert client.get(reverse(LIST)).status_code == 404
    assert client.post(reverse("agent:ticket-bulk"), {"tickets": [1]}).status_code == 404
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(("language", "text"), [("fr", "il y a 5\xa0minutes"), ("en", "5\xa0minutes ago")])
def test_last_update_is_a_relative_time_in_the_agents_language(
    client: Client, agent: User, requester: User, language: str, text: str
) -> None:
    ticket = make_ticket(requester)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() - timedelta(minutes=5, seconds=10))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    client.force_login(agent)
    assert text in client.get(reverse(LIST)).content.decode()


def test_queue_filters_of_the_dashboards_drill_down(
    en: Client,
    admin_user: User,
    agent_l2: User,
    requester: User,
    outsider: User,
    l2: SupportGroup,
    triage: SupportGroup,
) -> None:
    now = timezone.now()
    make_ticket(requester, subject="By email", channel="email")
    make_ticket(requester, subject="At L2", group=l2, by=agent_l2)
    resolved = make_ticket(requester, subject="Resolved yesterday", impact="high", urgency="high")
    old = make_ticket(outsider, subject="Old one")
    # test builder: the dates are set by hand
    Ticket.objects.filter(pk=resolved.pk).update(status="resolved", resolved_at=now - timedelta(days=1))
    Ticket.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=40))
    en.force_login(admin_user)
    assert _items(en, channel="email") == ["By email"]
    assert _items(en, level="2") == ["At L2"]
    assert _items(en, level=["1", "2"], sort="created") == ["Old one", "By email", "At L2"]
    assert _items(en, groups=[str(l2.pk)]) == ["At L2"]
    assert "At L2" not in _items(en, groups=[str(triage.pk)])
    since, until = (now - timedelta(days=2)).isoformat(), now.isoformat()
    assert _items(en, status="all", resolved_after=since, resolved_before=until) == ["Resolved yesterday"]
    assert _items(en, created_before=(now - timedelta(days=30)).isoformat()) == ["Old one"]
    assert _items(en, created_after=(now - timedelta(days=30)).isoformat(), sort="created") == ["By email", "At L2"]
    assert _items(en, organisation=str(old.organisation_id)) == ["Old one"]
    assert _items(en, priority=["1", "2"], status="all") == ["Resolved yesterday"]
    assert len(_items(en, priority="")) == 3  # an empty value (an old link) means any priority
    form = en.get(reverse(LIST), {"channel": "email", "level": "2"}).context["form"]
    html = str(form["channel"]) + str(form["level"])
    assert 'value="email" selected' in html and 'value="2" selected' in html


def test_every_ticket_of_a_view_is_counted_confirmed_and_bounded(
    en: Client, agent: User, agent_l2: User, requester: User, settings: Any
) -> None:
    a, b = make_ticket(requester, subject="One"), make_ticket(requester, subject="Two")
    en.force_login(agent)
    assert en.get(reverse("agent:queue-count"), {"status": "new"}).json() == {
        "count": 2,
        "limit": 1000,
        "too_many": False,
    }
    bulk_url = reverse("agent:ticket-bulk")
    stale = en.post(bulk_url, {"all_matching": "status=new", "expected": "3", "status": "in_progress"}, headers=HTMX)
    assert "The view now has 2 tickets, not 3" in stale.content.decode()
    bad = en.post(bulk_url, {"all_matching": "created_after=yesterday", "expected": "2", "status": "in_progress"})
    assert bad.status_code == 302
    assert set(Ticket.objects.values_list("status", flat=True)) == {"new"}  # nothing changed so far
    done = en.post(bulk_url, {"all_matching": "status=new", "expected": "2", "status": "in_progress"}, headers=HTMX)
    assert done.content.decode().count("text-success") == 2
    assert set(Ticket.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"in_progress"}
    # someone outside the group counts and changes nothing of it
    en.force_login(agent_l2)
    assert en.get(reverse("agent:queue-count"), {"status": "all"}).json()["count"] == 0
    none = en.post(bulk_url, {"all_matching": "status=all", "expected": "2", "status": "new"}, headers=HTMX)
    assert "The view now has 0 tickets, not 2" in none.content.decode()


def test_density_is_remembered_and_checked(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert client.post(reverse("agent:queue-density"), {"density": "comfortable"}).status_code == 302
    agent.refresh_from_db()
    assert agent.queue_density == "comfortable"
    assert 'class="queue-table queue-comfortable"' in client.get(reverse(LIST)).content.decode()
    assert client.post(reverse("agent:queue-density"), {"density": "<script>"}).status_code == 400
    agent.refresh_from_db()
    assert agent.queue_density == "comfortable"


def test_subjects_and_names_are_escaped_in_the_rows(client: Client, agent: User, requester: User) -> None:
    make_ticket(requester, subject='<img src=x onerror="alert(1)">')
    client.force_login(agent)
    html = client.get(reverse(LIST)).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
