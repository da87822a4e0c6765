"""Catalog pages of the portal: browsing, the item form, the answers on the ticket pages, "My
approvals", the signed email links and the deflection panel (the admin pages: agent/tests)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.apps import apps
from django.core import signing
from django.test import Client
from django.urls import reverse

from palier.catalog import links
from palier.catalog.models import Approval, CatalogItem, Submission
from palier.catalog.seed import seed
from palier.catalog.tests.builders import make_item, submit
from palier.notifications.models import OutgoingEmail
from palier.people import services as people
from palier.people.models import Organisation, User
from palier.tickets.models import Ticket

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
D = Approval.Decision


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def boss(requester: User, org: Organisation) -> User:
    boss = people.create_user(
        email="boss@acme.test", full_name="Bea Boss", organisation=org, password="pw-bea-123!", language="en"
    )
    requester.manager = boss
    requester.save(update_fields=["manager"])
    return boss


# --- browsing and the form ------------------------------------------------------------------------


def test_catalog_lists_visible_items_and_searches_by_name(
    client: Client, requester: User, other_org: Organisation
) -> None:
    seed(apps, None)  # idempotent: the starter items are there even after a transactional test's flush
    make_item(name="Ergonomic chair")
    hidden = make_item(name="Globex chair", visibility="organisations")
    hidden.organisations.set([other_org])
    make_item(name="Retired chair", is_active=False)
    c = signed_in(client, requester)
    html = c.get(reverse("catalog:home"), {"q": "chair"}, **EN).content.decode()
    assert "Ergonomic chair" in html
    assert "Globex chair" not in html and "Retired chair" not in html
    assert c.get(reverse("catalog:item", args=[hidden.pk])).status_code == 404
    seeded = c.get(reverse("catalog:home"), {"q": "password"}, **EN).content.decode()
    assert "Password reset" in seeded and "Ergonomic chair" not in seeded


def test_catalog_and_item_pages_query_count_does_not_grow(
    client: Client, requester: User, django_assert_max_num_queries: Any
) -> None:
    c = signed_in(client, requester)
    for n in range(15):
        make_item(name=f"Item {n}", fields=[{"key": f"k{i}", "kind": "short_text"} for i in range(6)])
    with django_assert_max_num_queries(8):
        assert c.get(reverse("catalog:home")).status_code == 200
    item = CatalogItem.objects.filter(name_en="Item 3").get()
    with django_assert_max_num_queries(8):
        assert c.get(reverse("catalog:item", args=[item.pk])).status_code == 200


def test_a_refused_form_keeps_the_answers_and_shows_each_error_beside_its_field(
    client: Client, requester: User
) -> None:
    item = make_item(
        fields=[
            {"key": "what", "kind": "short_text", "required": True},
            {"key": "qty", "kind": "number", "min_value": 1, "max_value": 5},
        ]
    )
    response = signed_in(client, requester).post(
        reverse("catalog:item", args=[item.pk]), {"f_what": "Docking station", "f_qty": "9"}, **EN
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="Docking station"' in html and 'value="9"' in html
    assert html.count('class="form-control') == 2  # styled like every other form
    assert re.search(r'id="id_f_qty_error">.*less than or equal to 5', html, re.S)
    assert not Ticket.objects.exists()


def test_submitting_shows_the_answers_on_the_portal_and_agent_ticket_pages(
    client: Client, requester: User, requester_b: User, agent: User
) -> None:
    item = make_item(
        name="Docking station",
        fields=[{"key": "what", "kind": "short_text", "required": True}, {"key": "desk", "kind": "short_text"}],
    )
    c = signed_in(client, requester)
    response = c.post(reverse("catalog:item", args=[item.pk]), {"f_what": "USB-C dock", "f_desk": "B-204"}, **EN)
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("portal:ticket-detail", args=[ticket.pk])
    portal = c.get(reverse("portal:ticket-detail", args=[ticket.pk]), **EN).content.decode()
    assert '<dt class="col-sm-4">Desk</dt><dd class="col-sm-8">B-204</dd>' in portal
    staff = signed_in(Client(), agent).get(reverse("agent:ticket-detail", args=[ticket.pk]), **EN).content.decode()
    assert "Catalog request: Docking station" in staff and "B-204" in staff
    # another requester sees neither the request nor its answers
    assert signed_in(Client(), requester_b).get(reverse("portal:ticket-detail", args=[ticket.pk])).status_code == 404


# --- approvals ------------------------------------------------------------------------------------


def test_my_approvals_lists_and_decides_only_my_own(
    client: Client, requester: User, boss: User, requester_b: User
) -> None:
    ticket = submit(make_item(name="Chair", stages=[{"kind": "manager"}]), requester)
    approval = Approval.objects.get()
    page = signed_in(client, boss).get(reverse("catalog:approvals"), **EN).content.decode()
    assert ticket.reference in page and "Alice Martin" in page
    other = signed_in(Client(), requester_b)
    assert ticket.reference not in other.get(reverse("catalog:approvals")).content.decode()
    url = reverse("catalog:decide", args=[approval.pk])
    assert other.post(url, {"decision": "approved"}).status_code == 404
    refused = client.post(url, {"decision": "rejected", "comment": ""}, **EN)
    assert refused.status_code == 400 and "Say why you reject" in refused.content.decode()
    assert client.post(url, {"decision": "approved"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


def _link(decision: str) -> str:
    text = OutgoingEmail.objects.get().text
    found = re.search(
        r"(http://\S+/catalog/approve/\S+/)", text.split("Approve:" if decision == "approved" else "Reject:")[1]
    )
    assert found
    return found.group(1).split("/catalog/", 1)[1]


def test_email_link_asks_to_confirm_then_decides_once(client: Client, requester: User, boss: User) -> None:
    ticket = submit(make_item(name="Chair", stages=[{"kind": "manager"}]), requester)
    url = "/catalog/" + _link("approved")
    page = client.get(url, **EN)  # no sign-in needed; a GET changes nothing
    assert page.status_code == 200 and "Confirm the approval" in page.content.decode()
    assert Approval.objects.get().decision == D.PENDING
    done = client.post(url, **EN)
    assert done.status_code == 200 and "You approved" in done.content.decode()
    approval = Approval.objects.get()
    assert approval.decision == D.APPROVED and approval.via == "link"
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW
    again = client.post(url, **EN)
    assert again.status_code == 409 and "Already decided" in again.content.decode()
    rejected_link = "/catalog/" + _link("rejected")
    assert client.post(rejected_link, {"comment": "no"}, **EN).status_code == 409
    assert Approval.objects.get().decision == D.APPROVED


def test_rejecting_from_the_link_needs_a_reason_and_closes_the_request(
    client: Client, requester: User, boss: User
) -> None:
    ticket = submit(make_item(name="Chair", stages=[{"kind": "manager"}]), requester)
    url = "/catalog/" + _link("rejected")
    assert client.post(url, {"comment": ""}, **EN).status_code == 400
    assert client.post(url, {"comment": "Not in the budget"}, **EN).status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert "Not in the budget" in ticket.comments.get().body


def test_tampered_and_expired_links_change_nothing(
    client: Client, requester: User, boss: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    submit(make_item(name="Chair", stages=[{"kind": "manager"}]), requester)
    approval = Approval.objects.get()
    token = links.make_token(approval_id=approval.pk, decision="approved")
    forged = signing.dumps({"a": approval.pk, "d": "approved"}, salt="another-salt")
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged):
        response = client.post(reverse("catalog:link", args=[bad]), **EN)
        assert response.status_code == 400 and "This link is not valid" in response.content.decode()
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - (links.LINK_DAYS + 1) * 86400)
    old = links.make_token(approval_id=approval.pk, decision="approved")
    monkeypatch.setattr(time, "time", real_time)
    response = client.post(reverse("catalog:link", args=[old]), **EN)
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert Approval.objects.get().decision == D.PENDING
    assert Submission.objects.get().ticket.status == Ticket.Status.PENDING_APPROVAL


# --- deflection panel -----------------------------------------------------------------------------


def test_the_deflection_panel_suggests_matching_catalog_items(client: Client, requester: User) -> None:
    item = make_item(name="Docking station")
    html = signed_in(client, requester).get(reverse("kb:suggest"), {"subject": "my docking is broken"}, **EN)
    assert reverse("catalog:item", args=[item.pk]) in html.content.decode()


def test_my_approvals_query_count_does_not_grow(
    client: Client, requester: User, boss: User, django_assert_max_num_queries: Any
) -> None:
    item = make_item(name="Chair", stages=[{"kind": "manager"}])
    c = signed_in(client, boss)
    submit(item, requester)
    with django_assert_max_num_queries(8) as first:
        c.get(reverse("catalog:approvals"))
    for _ in range(6):
        submit(item, requester)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert c.get(reverse("catalog:approvals")).content.decode().count('class="card mb-3 catalog-approval"') == 7
