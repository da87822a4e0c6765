"""Client tests of merging and splitting from the agent workspace: the ticket page's card and
the queue's "merge the selection into" row."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from palier.people.models import SupportGroup, User
from palier.tickets import services
from palier.tickets.models import Comment, Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def en(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_merge_from_the_ticket_page_then_undo(en: Client, agent: User, requester: User, requester_b: User) -> None:
    keep, dup = make_ticket(requester, subject="VPN"), make_ticket(requester_b, subject="VPN again")
    en.force_login(agent)
    page = en.get(reverse("agent:ticket-detail", args=[keep.pk])).content.decode()
    assert 'id="merge-card"' in page
    response = en.post(reverse("agent:ticket-merge", args=[keep.pk]), {"tickets": dup.reference.lower()}, follow=True)
    assert f"Merged {dup.reference} into this ticket." in response.content.decode()
    assert dup.reference in response.content.decode()
    assert Ticket.objects.get(pk=dup.pk).merged_into_id == keep.pk
    merged_page = en.get(reverse("agent:ticket-detail", args=[dup.pk])).content.decode()
    assert f"This ticket was merged into {keep.reference}." in merged_page and 'id="undo-merge"' in merged_page
    undone = en.post(reverse("agent:ticket-unmerge", args=[dup.pk]), follow=True).content.decode()
    assert "The merge is undone." in undone
    assert Ticket.objects.get(pk=dup.pk).merged_into_id is None


def test_ticket_page_refuses_with_a_message_and_changes_nothing(
    en: Client, agent: User, requester: User, agent_l2: User, l2: SupportGroup
) -> None:
    keep = make_ticket(requester)
    hidden = make_ticket(requester, by=agent_l2, group=l2)
    en.force_login(agent)
    for value, said in (
        (hidden.reference, f"No ticket {hidden.reference} that you can see."),
        (keep.reference, "A ticket cannot be merged into itself."),
        ("nothing", "Give the numbers of the tickets to merge"),
    ):
        html = en.post(reverse("agent:ticket-merge", args=[keep.pk]), {"tickets": value}, follow=True).content.decode()
        assert said in html
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()
    # a ticket of another group: the page itself is absent
    assert en.post(reverse("agent:ticket-merge", args=[hidden.pk]), {"tickets": keep.reference}).status_code == 404


def test_requester_cannot_reach_the_merge_pages(client: Client, requester: User) -> None:
    keep, dup = make_ticket(requester), make_ticket(requester)
    client.force_login(requester)
    response = client.post(reverse("agent:ticket-merge", args=[keep.pk]), {"tickets": dup.reference})
    assert response.status_code in (302, 403, 404)
    assert Ticket.objects.get(pk=dup.pk).merged_into_id is None


def test_split_from_the_ticket_page(en: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    other = services.comment_on_ticket(ticket, by=requester, body="Autre souci: l'écran")
    en.force_login(agent)
    response = en.post(
        reverse("agent:ticket-split", args=[ticket.pk]), {"comment": other.pk, "subject": "Écran"}, follow=True
    )
    new = Ticket.objects.get(subject="Écran")
    assert response.redirect_chain[-1][0] == reverse("agent:ticket-detail", args=[new.pk])
    assert f"Split from {ticket.reference} into this new ticket." in response.content.decode()
    assert Comment.objects.get(pk=other.pk).ticket_id == new.pk


def test_queue_merges_the_selection(en: Client, agent: User, requester: User) -> None:
    a, b, c = make_ticket(requester, subject="A"), make_ticket(requester, subject="B"), make_ticket(requester)
    en.force_login(agent)
    data = {"tickets": [a.pk, b.pk, c.pk], "merge_into": a.reference}
    response = en.post(reverse("agent:ticket-bulk-merge"), data, headers=HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "queue-refresh"
    assert f"Merged {b.reference}, {c.reference} into {a.reference}." in response.content.decode()
    assert set(Ticket.objects.filter(merged_into=a).values_list("pk", flat=True)) == {b.pk, c.pk}


def test_queue_merge_is_all_or_nothing(
    en: Client, agent: User, requester: User, agent_l2: User, l2: SupportGroup
) -> None:
    a, b = make_ticket(requester), make_ticket(requester)
    hidden = make_ticket(requester, by=agent_l2, group=l2)
    en.force_login(agent)
    html = en.post(
        reverse("agent:ticket-bulk-merge"), {"tickets": [b.pk, hidden.pk], "merge_into": a.reference}, headers=HTMX
    ).content.decode()
    assert "nothing was merged" in html
    html = en.post(
        reverse("agent:ticket-bulk-merge"), {"tickets": [b.pk], "merge_into": "INC-99999"}, headers=HTMX
    ).content.decode()
    assert "No ticket INC-99999 that you can see." in html
    html = en.post(reverse("agent:ticket-bulk-merge"), {"tickets": [b.pk], "merge_into": ""}).content.decode()
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_ticket_page_query_count_with_merges(
    en: Client, agent: User, requester: User, django_assert_max_num_queries: object
) -> None:
    keep = make_ticket(requester)
    few = [make_ticket(requester)]
    services.merge_tickets(keep, merged=[t.pk for t in few], by=agent)
    en.force_login(agent)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        en.get(reverse("agent:ticket-detail", args=[keep.pk]))
    other = make_ticket(requester)
    many = [make_ticket(requester) for _ in range(8)]
    services.merge_tickets(other, merged=[t.pk for t in many], by=agent)
    with django_assert_max_num_queries(len(small)):  # type: ignore[operator]
        en.get(reverse("agent:ticket-detail", args=[other.pk]))
