"""The automation pages: admins only, a rule built from rows (no JSON), per-row errors, dry run,
run log and recurring tickets, with query counts that do not grow with rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import reverse

from palier.automation.models import RecurringTicket, Rule, RuleRun
from palier.automation.tests import conftest as automation_fixtures
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

no_seeded_rules = automation_fixtures.no_seeded_rules
make_rule = automation_fixtures.make_rule
pump = automation_fixtures.pump


def _formset(prefix: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "30",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def _post(name: str, conditions: list[dict[str, Any]], actions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "name": name, "is_active": "on", "trigger": "created", "wait_status": "", "wait_hours": "",
        "wait_business": "on", **_formset("c", conditions), **_formset("a", actions), **extra,
    }  # fmt: skip


def test_only_admins_see_the_pages(client: Client, agent: User, manager: User, admin_user: User) -> None:
    for user in (agent, manager):
        client.force_login(user)
        assert client.get(reverse("automation:rules")).status_code == 404
        assert client.get(reverse("automation:recurring")).status_code == 404
    client.force_login(admin_user)
    assert client.get(reverse("automation:rules")).status_code == 200
    assert client.get(reverse("automation:rule-new")).status_code == 200


def test_create_a_rule_from_rows(client: Client, admin_user: User, l2: SupportGroup) -> None:
    client.force_login(admin_user)
    data = _post(
        "VPN",
        [
            {"part": "all", "field": "subject", "op": "contains", "text": "vpn"},
            {"part": "all", "field": "priority", "op": "lte", "choice": "priority:2"},
            {"part": "any", "field": "channel", "op": "is", "choice": "channel:email"},
            {"part": "any", "field": "group", "op": "unset"},
            {"part": "all", "field": "", "op": "is"},  # an empty row is left out
        ],
        [
            {"type": "set_group", "target": f"group:{l2.pk}"},
            {"type": "email", "target": "to:requester", "value": "Reçu {reference}", "text": "Bonjour"},
            {"type": "", "target": ""},
        ],
    )
    response = client.post(reverse("automation:rule-new"), data)
    assert response.status_code == 302
    rule = Rule.objects.get()
    assert rule.conditions == {
        "all": [
            {"field": "subject", "op": "contains", "value": "vpn"},
            {"field": "priority", "op": "lte", "value": 2},
        ],
        "any": [
            {"field": "channel", "op": "is", "value": "email"},
            {"field": "group", "op": "unset", "value": None},
        ],
    }
    assert rule.actions == [
        {"type": "set_group", "value": l2.pk},
        {"type": "email", "to": "requester", "subject": "Reçu {reference}", "text": "Bonjour"},
    ]
    assert rule.created_by == admin_user
    page = client.get(reverse("automation:rule-edit", args=[rule.pk]), **EN)  # type: ignore[arg-type]
    assert page.status_code == 200
    assert 'value="Reçu {reference}"' in page.content.decode()


def test_bad_rows_show_their_error_and_save_nothing(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    data = _post(
        "Bad",
        [{"part": "all", "field": "priority", "op": "lte", "choice": "status:new"}],
        [{"type": "email", "target": "to:requester", "value": "Sujet", "text": "{unknown}"}],
    )
    response = client.post(reverse("automation:rule-new"), data, **EN)  # type: ignore[arg-type]
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose a value of this field." in body
    assert "Unknown placeholder {unknown}" in body
    assert not Rule.objects.exists()


def test_a_time_based_rule_needs_its_status_and_hours(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    data = _post("Timer", [], [{"type": "close"}], trigger="timer")
    response = client.post(reverse("automation:rule-new"), data, **EN)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert "Choose the status the ticket stays in." in response.content.decode()
    data.update(wait_status="resolved", wait_hours="168")
    assert client.post(reverse("automation:rule-new"), data).status_code == 302
    assert Rule.objects.get().wait_hours == 168
    listing = client.get(reverse("automation:rules"), **EN)  # type: ignore[arg-type]
    assert "Resolved for 168 business hours" in listing.content.decode()


def test_list_shows_a_disabled_rule_with_its_reason(
    client: Client, admin_user: User, make_rule: Callable[..., Rule], django_assert_max_num_queries: Any
) -> None:
    client.force_login(admin_user)
    for n in range(3):
        make_rule(f"Rule {n}", actions=[{"type": "note", "text": "x"}])
    Rule.objects.filter(name="Rule 1").update(
        is_active=False, disabled_reason="The group #9 it refers to no longer exists"
    )
    with django_assert_max_num_queries(8):
        response = client.get(reverse("automation:rules"), **EN)  # type: ignore[arg-type]
    assert "The group #9 it refers to no longer exists" in response.content.decode()
    for n in range(3, 30):
        make_rule(f"Rule {n}", actions=[{"type": "note", "text": "x"}])
    with django_assert_max_num_queries(8):
        client.get(reverse("automation:rules"))


def test_toggle_and_order(client: Client, admin_user: User, make_rule: Callable[..., Rule]) -> None:
    client.force_login(admin_user)
    first = make_rule("First", actions=[{"type": "close"}])
    second = make_rule("Second", actions=[{"type": "close"}])
    client.post(reverse("automation:rule-active", args=[first.pk]))
    client.post(reverse("automation:rule-move", args=[second.pk, "up"]))
    assert list(Rule.objects.order_by("position").values_list("name", "is_active")) == [
        ("Second", True), ("First", False),
    ]  # fmt: skip


def test_dry_run_counts_the_open_tickets_matching_now(
    client: Client, admin_user: User, requester: User, make_rule: Callable[..., Rule]
) -> None:
    client.force_login(admin_user)
    rule = make_rule(
        "Printers", conditions=[{"field": "subject", "op": "contains", "value": "imprimante"}],
        actions=[{"type": "close"}],
    )  # fmt: skip
    for n in range(27):
        make_ticket(requester, subject=f"Imprimante {n}")
    make_ticket(requester, subject="Écran")
    Ticket.objects.filter(subject="Imprimante 0").update(status="closed")
    response = client.get(reverse("automation:rule-dry-run", args=[rule.pk]), **EN)  # type: ignore[arg-type]
    body = response.content.decode()
    assert "26 open tickets match the conditions now." in body
    assert body.count('href="/agent/tickets/') == 25
    page2 = client.get(reverse("automation:rule-dry-run", args=[rule.pk]) + "?page=2").content.decode()
    assert page2.count('href="/agent/tickets/') == 1
    assert Ticket.objects.filter(status="closed").count() == 1  # nothing changed


def test_run_log_is_paginated(
    client: Client, admin_user: User, requester: User, make_rule: Callable[..., Rule],
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    client.force_login(admin_user)
    rule = make_rule("Log", actions=[{"type": "close"}])
    ticket = make_ticket(requester)
    RuleRun.objects.bulk_create(
        [RuleRun(rule=rule, ticket=ticket, trigger="created", outcome="applied", detail=f"run {n}") for n in range(30)]
    )
    with django_assert_max_num_queries(8):
        response = client.get(reverse("automation:rule-runs", args=[rule.pk]), **EN)  # type: ignore[arg-type]
    assert response.content.decode().split("<main", 1)[1].count(ticket.reference) == 25


def test_recurring_list_queries_do_not_grow(
    client: Client, admin_user: User, requester: User, django_assert_max_num_queries: Any
) -> None:
    from palier.automation import services

    client.force_login(admin_user)

    def add(count: int) -> None:
        for n in range(count):
            services.create_recurring(
                by=admin_user, name=f"R{n}", subject="S", requester=requester, schedule="0 8 * * *"
            )

    add(2)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("automation:recurring"))
    add(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("automation:recurring"))
    assert response.content.decode().count("data-recurring=") == 25


def test_recurring_pages(client: Client, admin_user: User, requester: User) -> None:
    client.force_login(admin_user)
    data = {
        "name": "Backups", "is_active": "on", "schedule": "0 8 * * 1", "time_zone": "Europe/Paris",
        "subject": "Vérifier les sauvegardes", "description": "", "kind": "request", "requester": requester.pk,
        "group": "", "category": "", "impact": "low", "urgency": "low",
    }  # fmt: skip
    bad = client.post(reverse("automation:recurring"), {**data, "schedule": "lundi"}, **EN)  # type: ignore[arg-type]
    assert bad.status_code == 400 and "Enter five fields" in bad.content.decode()
    assert client.post(reverse("automation:recurring"), data).status_code == 302
    row = RecurringTicket.objects.get()
    page = client.get(reverse("automation:recurring"), **EN).content.decode()  # type: ignore[arg-type]
    assert "At 08:00, only on Monday" in page
    french = client.get(reverse("automation:recurring")).content.decode()
    assert "À 08:00, uniquement le lundi" in french
    client.post(reverse("automation:recurring-active", args=[row.pk]))
    row.refresh_from_db()
    assert not row.is_active and row.next_run_at is None
    edit = client.post(reverse("automation:recurring-edit", args=[row.pk]), {**data, "schedule": "0 9 1 * *"})
    assert edit.status_code == 302
    row.refresh_from_db()
    assert row.schedule == "0 9 1 * *" and row.is_active
