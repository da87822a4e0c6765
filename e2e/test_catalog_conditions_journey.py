"""A catalog form with conditions, then two approvals at the same time: the "laptop model" field
appears only once "new laptop" is chosen, offers only the laptop models, and the request goes to
finance and security together; it moves on once both approved."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from palier.catalog.models import Approval, ApprovalStep
from palier.catalog.tests.builders import make_item
from palier.people import services as people
from palier.tickets.models import Ticket

# a browser journey, the same on both engines: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent

KINDS = [{"value": "laptop", "fr": "Nouveau portable", "en": "New laptop"},
         {"value": "screen", "fr": "Écran", "en": "Screen"}]  # fmt: skip
MODELS = [{"value": "x1", "fr": "ThinkPad X1", "en": "ThinkPad X1"},
          {"value": "air", "fr": "MacBook Air", "en": "MacBook Air"},
          {"value": "u27", "fr": "Dell U27", "en": "Dell U27"}]  # fmt: skip


def test_conditional_field_then_two_parallel_approvals(
    transactional_db: None, url: Callable[[str], str], login: Callable[..., Page], open_page: Callable[..., Page]
) -> None:
    org = people.create_organisation(name="Acme", email_domain="acme.test")
    people.create_user(email="claire@acme.test", full_name="Claire Dubois", organisation=org, password="pw-claire-123!", language="en")  # fmt: skip
    finance = people.create_user(email="fin@acme.test", full_name="Fanny Finance", organisation=org, password="pw-fin-123!", language="en")  # fmt: skip
    security = people.create_user(email="sec@acme.test", full_name="Sam Security", organisation=org, password="pw-sec-123!", language="en")  # fmt: skip
    make_item(
        name="Equipment",
        fields=[
            {"key": "kind", "kind": "choice", "required": True, "choices": KINDS, "label_en": "What do you need"},
            {"key": "model", "kind": "choice", "required": True, "choices": MODELS, "label_en": "Laptop model",
             "conditions": {"show": {"field": "kind", "op": "equals", "value": "laptop"},
                            "filter": {"field": "kind", "map": {"laptop": ["x1", "air"], "screen": ["u27"]}}}},
            {"key": "reason", "kind": "short_text", "required": True, "label_en": "Reason"},
        ],
        stages=[{"kind": "people", "people": [finance]},
                {"kind": "people", "people": [security], "with_previous": True}],
    )  # fmt: skip

    page = login("claire@acme.test", "pw-claire-123!")
    page.goto(url("/catalog/"))
    page.get_by_role("link", name="Equipment").click()
    model = page.get_by_label("Laptop model")
    expect(model).to_be_hidden()
    page.get_by_label("What do you need").select_option("screen")
    expect(model).to_be_hidden()
    page.get_by_label("What do you need").select_option("laptop")
    expect(model).to_be_visible()
    expect(page.locator("#id_f_model option")).to_have_count(3)  # "—" and the two laptops, no screen
    model.select_option("air")
    page.get_by_label("Reason").fill("My laptop is five years old")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".catalog-answers")).to_contain_text("MacBook Air")
    ticket = Ticket.objects.get(kind=Ticket.Kind.REQUEST)
    states = list(ApprovalStep.objects.filter(submission__ticket=ticket).values_list("state", flat=True))
    assert states == ["open", "open"]  # asked together

    for email, password in (("fin@acme.test", "pw-fin-123!"), ("sec@acme.test", "pw-sec-123!")):
        approver = login(email, password, target=open_page())
        approver.goto(url("/catalog/approvals/"))
        card = approver.locator(".catalog-approval", has_text=ticket.reference)
        expect(card).to_contain_text("MacBook Air")
        card.get_by_role("button", name="Approve").click()
        expect(approver.locator("#approvals")).to_contain_text("Nothing waits for your decision.")
        if email.startswith("fin"):
            assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.PENDING_APPROVAL  # security still decides
    assert not Approval.objects.filter(decision=Approval.Decision.PENDING).exists()
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.NEW
