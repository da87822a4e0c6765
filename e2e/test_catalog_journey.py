"""Service catalog: a requester asks for a laptop through the catalog; the request needs her
manager's approval, then a named person's. The manager approves on "My approvals", the second
approver from the link in the email (no sign-in, a confirmation page), the fulfilment tasks are
done by agents, and the requester sees her request resolved."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core import mail
from django.utils import translation
from playwright.sync_api import Page, expect

from palier.catalog.models import Submission
from palier.catalog.tests.builders import make_item
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets import display
from palier.tickets import services as tickets
from palier.tickets.models import Ticket

CHOICES = [{"value": "14", "fr": "14 pouces", "en": "14 inches"}, {"value": "16", "fr": "16 pouces", "en": "16 inches"}]


def _world() -> dict[str, Any]:
    org = people.create_organisation(name="Acme", email_domain="acme.test")
    boss = people.create_user(
        email="bea@acme.test", full_name="Bea Boss", organisation=org, password="pw-bea-123!", language="en"
    )
    claire = people.create_user(
        email="claire@acme.test", full_name="Claire Dubois", organisation=org, password="pw-claire-123!", language="en"
    )
    claire.manager = boss
    claire.save(update_fields=["manager"])
    victor = people.create_user(email="victor@acme.test", full_name="Victor Finance", organisation=org, language="en")
    triage = SupportGroup.objects.get(is_triage=True)
    agent = people.create_user(email="lea@desk.test", full_name="Léa L1", role=User.Role.AGENT, password="pw-lea-1!")
    people.add_group_member(triage, user=agent)
    item = make_item(
        name="New laptop",
        fields=[
            {"key": "model", "kind": "choice", "required": True, "choices": CHOICES},
            {"key": "reason", "kind": "long_text", "required": True},
        ],
        stages=[{"kind": "manager"}, {"kind": "people", "people": [victor]}],
        tasks=[("Prepare the laptop", triage), ("Hand it over", triage)],
        fulfilment="sequential",
    )
    return {"boss": boss, "claire": claire, "victor": victor, "agent": agent, "item": item}


def test_catalog_request_with_two_approvals_and_tasks(
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    open_page: Callable[..., Page],
) -> None:
    world = _world()
    mail.outbox.clear()

    page = login("claire@acme.test", "pw-claire-123!")
    page.goto(url("/catalog/"))
    page.get_by_role("link", name="New laptop").click()
    page.get_by_label("Model").select_option("16")
    page.get_by_role("button", name="Send the request").click()  # the reason is missing
    expect(page.locator("#id_f_reason_error")).to_be_visible()
    expect(page.get_by_label("Model")).to_have_value("16")  # the answers are kept
    page.get_by_label("Reason").fill("My laptop is five years old and overheats")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".catalog-answers")).to_contain_text("16 inches")
    ticket = Ticket.objects.get(kind=Ticket.Kind.REQUEST)
    assert ticket.status == Ticket.Status.PENDING_APPROVAL

    manager = login("bea@acme.test", "pw-bea-123!", target=open_page())
    manager.goto(url("/catalog/approvals/"))
    card = manager.locator(".catalog-approval", has_text=ticket.reference)
    expect(card).to_contain_text("overheats")
    card.get_by_role("button", name="Approve").click()
    expect(manager.locator("#approvals")).to_contain_text("Nothing waits for your decision.")

    message = next(m for m in mail.outbox if m.to == ["victor@acme.test"])
    found = re.search(r"Approve: (\S+)", str(message.body))
    assert found
    link = url("/catalog/" + found.group(1).split("/catalog/", 1)[1])
    anonymous = open_page()
    anonymous.goto(link)
    expect(anonymous.get_by_role("heading", name="Approve this request?")).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.PENDING_APPROVAL  # a GET decides nothing
    anonymous.get_by_role("button", name="Confirm the approval").click()
    expect(anonymous.locator("#link-done")).to_contain_text(ticket.reference)

    agent = world["agent"]
    for _ in range(2):  # in order: the second task opens when the first one is resolved
        task = Submission.objects.get(ticket=ticket).tasks.filter(ticket__status=Ticket.Status.NEW).get()
        assert task.ticket is not None
        tickets.transition_ticket(task.ticket, to=Ticket.Status.RESOLVED, by=agent)

    page.goto(url(f"/portal/requests/{ticket.pk}/"))
    with translation.override("en"):
        resolved = str(display.requester_status_label(Ticket.Status.RESOLVED))
    expect(page.locator("#status-title")).to_contain_text(resolved)
    expect(page.locator(".catalog-tasks")).to_contain_text("Hand it over")
