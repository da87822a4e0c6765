"""The automation forms at scale: a recurring ticket's requester is found by name or email instead of
being chosen among every person in a list, and a rule's rows are added (htmx) and removed without
saving the rule first."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.automation import services
from palier.automation.models import RecurringTicket, Rule
from palier.automation.services.rules import robot
from palier.automation.tests import conftest as automation_fixtures
from palier.people.models import Organisation, User

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
no_seeded_rules = automation_fixtures.no_seeded_rules
SEARCH = reverse("automation:recurring-requesters")


def _crowd(count: int, *, start: int = 0, org: Organisation | None = None) -> None:
    User.objects.bulk_create(
        User(email=f"crowd{n:04d}@acme.test", full_name=f"Crowd Person {n:04d}", organisation=org)
        for n in range(start, start + count)
    )


def _recurring(requester: Any, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Backups", "is_active": "on", "schedule": "0 8 * * 1", "time_zone": "Europe/Paris",
        "subject": "Check the backups", "description": "", "kind": "request", "requester": requester,
        "group": "", "category": "", "impact": "low", "urgency": "low", **extra,
    }  # fmt: skip


def _get(client: Client, url: str) -> str:
    response = client.get(url, **EN)  # type: ignore[arg-type]
    assert response.status_code == 200
    return response.content.decode()


# --- the requester picker -----------------------------------------------------------------------------


def test_the_recurring_pages_do_not_list_every_person(
    client: Client, admin_user: User, requester: User, requester_b: User, django_assert_max_num_queries: Any
) -> None:
    client.force_login(admin_user)
    _crowd(3)
    with django_assert_max_num_queries(8) as few:
        small = _get(client, reverse("automation:recurring"))
    assert 'name="requester_q"' in small and 'hx-get="/agent/automation/recurring/requesters/"' in small
    assert "crowd0001@acme.test" not in small and requester.email not in small
    _crowd(300, start=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        large = _get(client, reverse("automation:recurring"))
    assert len(large) == len(small)  # the page no longer grows with the people in the directory

    row = services.create_recurring(by=admin_user, name="R", subject="S", requester=requester, schedule="0 8 * * *")
    with django_assert_max_num_queries(8):
        edit = _get(client, reverse("automation:recurring-edit", args=[row.pk]))
    assert f'name="requester" id="id_requester_chosen_{requester.pk}" value="{requester.pk}" checked' in edit
    assert "Alice Martin &lt;alice@acme.test&gt;" in edit
    assert requester_b.email not in edit and "crowd0100@acme.test" not in edit


def test_the_search_finds_active_people_by_name_or_email(
    client: Client, agent: User, requester: User, org: Organisation, django_assert_max_num_queries: Any
) -> None:
    User.objects.create(email="gone@acme.test", full_name="Alice Gone", is_active=False)
    robot()  # "Palier (automation)", an .invalid address: never a requester
    client.force_login(agent)
    body = _get(client, f"{SEARCH}?requester_q=alice")
    assert f'type="radio" name="requester" id="id_requester_found_{requester.pk}" value="{requester.pk}"' in body
    assert "Alice Martin &lt;alice@acme.test&gt; · Acme" in body
    assert "gone@acme.test" not in body
    assert "palier.invalid" not in _get(client, f"{SEARCH}?requester_q=palier")
    assert requester.email in _get(client, f"{SEARCH}?requester_q=ALICE%40acme")  # email, any case
    assert "No one matches." in _get(client, f"{SEARCH}?requester_q=zzzz")
    assert "radio" not in _get(client, f"{SEARCH}?requester_q=")

    _crowd(5, org=org)
    with django_assert_max_num_queries(4) as few:
        client.get(f"{SEARCH}?requester_q=crowd")
    _crowd(200, start=5, org=org)
    with django_assert_max_num_queries(len(few.captured_queries)):
        many = _get(client, f"{SEARCH}?requester_q=crowd person")
    assert many.count('type="radio"') == 20
    assert "Only the first 20 matches are shown: type more to narrow the search." in many
    assert "crowd0019@acme.test" in many and "crowd0020" not in many
    assert _get(client, f"{SEARCH}?requester_q=person 0123").count('type="radio"') == 1


def test_the_search_is_for_agents_only(client: Client, requester: User) -> None:
    assert client.get(f"{SEARCH}?requester_q=alice").status_code == 302  # to the login page
    client.force_login(requester)
    assert client.get(f"{SEARCH}?requester_q=alice").status_code == 404


def test_a_picked_requester_is_saved(client: Client, admin_user: User, requester: User, org: Organisation) -> None:
    _crowd(30, org=org)
    picked = User.objects.get(email="crowd0017@acme.test")
    client.force_login(admin_user)
    response = client.post(reverse("automation:recurring"), _recurring(picked.pk, requester_q="0017"))
    assert response.status_code == 302
    row = RecurringTicket.objects.get()
    assert row.requester == picked
    response = client.post(reverse("automation:recurring-edit", args=[row.pk]), _recurring(requester.pk))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.requester == requester


@pytest.mark.parametrize("who", ["unknown", "inactive", "robot", "text", "missing"])
def test_a_bad_requester_is_refused_and_nothing_saved(
    client: Client, admin_user: User, requester: User, who: str
) -> None:
    gone = User.objects.create(email="gone@acme.test", full_name="Alice Gone", is_active=False)
    bad = {"unknown": 999_999, "inactive": gone.pk, "robot": robot().pk, "text": "alice", "missing": ""}[who]
    client.force_login(admin_user)
    response = client.post(reverse("automation:recurring"), _recurring(bad), **EN)  # type: ignore[arg-type]
    assert response.status_code == 400
    body = response.content.decode()
    message = "This field is required." if who == "missing" else "Choose an active person from the search results."
    assert f'<div class="invalid-feedback d-block" id="id_requester_error"><p class="mb-0">{message}</p>' in body
    assert 'value="Check the backups"' in body  # what was typed stays
    assert "gone@acme.test" not in body and "palier.invalid" not in body
    assert not RecurringTicket.objects.exists()

    row = services.create_recurring(by=admin_user, name="R", subject="S", requester=requester, schedule="0 8 * * *")
    edit = reverse("automation:recurring-edit", args=[row.pk])
    assert client.post(edit, _recurring(bad), **EN).status_code == 400  # type: ignore[arg-type]
    row.refresh_from_db()
    assert row.requester == requester and row.name == "R"


def test_a_refused_form_keeps_the_person_picked(client: Client, admin_user: User, requester: User) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("automation:recurring"), _recurring(requester.pk, schedule="lundi"), **EN)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert f'id="id_requester_chosen_{requester.pk}" value="{requester.pk}" checked' in response.content.decode()


# --- rule rows ------------------------------------------------------------------------------------------


def _rows(prefix: str, rows: list[dict[str, Any]], *, initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "30",
    }  # fmt: skip
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def test_add_a_row_without_saving(client: Client, admin_user: User, django_assert_max_num_queries: Any) -> None:
    client.force_login(admin_user)
    page = _get(client, reverse("automation:rule-new") + "?subject=ticket")
    assert page.count("data-condition-row") == 2 and page.count("data-action-row") == 1
    assert 'hx-get="/agent/automation/rules/rows/condition/"' in page and 'hx-include="#id_c-TOTAL_FORMS' in page
    assert 'name="c-TOTAL_FORMS" value="2"' in page
    assert "Add an action" in page and "Remove this row" in page and "automation/automation.js" in page

    url = reverse("automation:rule-row", args=["condition"])
    with django_assert_max_num_queries(8):  # the reference lists, task templates included
        row = _get(client, f"{url}?c-TOTAL_FORMS=2")
    assert row.count("data-condition-row") == 1
    assert 'name="c-2-field"' in row and 'name="c-2-DELETE"' in row and 'name="c-1-' not in row
    assert '<input type="hidden" name="c-TOTAL_FORMS" value="3" id="id_c-TOTAL_FORMS" hx-swap-oob="true">' in row
    action = _get(client, reverse("automation:rule-row", args=["action"]) + "?a-TOTAL_FORMS=1")
    assert 'name="a-1-type"' in action and 'name="a-TOTAL_FORMS" value="2"' in action

    # the page sends the raised counts with the added rows: all of them are saved
    data = {
        "name": "Three conditions", "is_active": "on", "trigger": "created", "wait_business": "on",
        **_rows("c", [
            {"part": "all", "field": "subject", "op": "contains", "text": "vpn"},
            {"part": "all", "field": "priority", "op": "lte", "choice": "priority:2"},
            {"part": "all", "field": "channel", "op": "is", "choice": "channel:email"},
        ]),
        **_rows("a", [{"type": "add_tags", "value": "vpn"}, {"type": "close"}]),
    }  # fmt: skip
    assert client.post(reverse("automation:rule-new"), data).status_code == 302
    rule = Rule.objects.get()
    assert [c["field"] for c in rule.conditions["all"]] == ["subject", "priority", "channel"]
    assert [a["type"] for a in rule.actions] == ["add_tags", "close"]


def test_the_row_endpoint_stops_at_the_limit_and_is_for_admins(client: Client, admin_user: User, agent: User) -> None:
    url = reverse("automation:rule-row", args=["action"])
    client.force_login(agent)
    assert client.get(f"{url}?a-TOTAL_FORMS=1").status_code == 404
    client.force_login(admin_user)
    full = _get(client, f"{url}?a-TOTAL_FORMS=20")
    assert "data-action-row" not in full and "TOTAL_FORMS" not in full
    assert 'id="action-limit" aria-live="polite" hx-swap-oob="true">No more rows: at most 20.' in full
    assert "data-condition-row" in _get(
        client, reverse("automation:rule-row", args=["condition"]) + "?c-TOTAL_FORMS=29"
    )
    assert client.get(f"{url}?a-TOTAL_FORMS=x").status_code == 400
    assert client.get(reverse("automation:rule-row", args=["other"]) + "?a-TOTAL_FORMS=1").status_code == 404


def test_a_removed_row_is_dropped_even_when_it_is_wrong(
    client: Client, admin_user: User, django_assert_max_num_queries: Any
) -> None:
    client.force_login(admin_user)
    rule = services.create_rule(
        by=admin_user, name="Two", trigger="created", actions=[{"type": "close"}],
        conditions={"all": [{"field": "subject", "op": "contains", "value": "vpn"},
                            {"field": "priority", "op": "lte", "value": 2}], "any": []},
    )  # fmt: skip
    edit = reverse("automation:rule-edit", args=[rule.pk])
    with django_assert_max_num_queries(11):  # with the backup check of admin pages and the task templates
        page = _get(client, edit)
    assert page.count("data-condition-row") == 4  # the two conditions and two empty rows
    data = {
        "name": "Two", "is_active": "on", "trigger": "created", "wait_business": "on",
        **_rows("c", [
            {"part": "all", "field": "subject", "op": "contains", "text": "vpn"},
            {"part": "all", "field": "priority", "op": "lte", "choice": "status:new", "DELETE": "on"},
            {"part": "all", "field": "priority", "op": "lte", "choice": "status:new", "DELETE": "on"},  # added
        ], initial=2),
        **_rows("a", [{"type": "close"}], initial=1),
    }  # fmt: skip
    assert client.post(edit, data).status_code == 302
    rule.refresh_from_db()
    assert rule.conditions == {"all": [{"field": "subject", "op": "contains", "value": "vpn"}], "any": []}
