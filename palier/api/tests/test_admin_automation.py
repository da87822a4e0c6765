"""Automation through the API: rules (validation of the rule form, order, dry run, run log,
delete), recurring tickets (schedule checks, pause), and nobody but an administrator."""

from __future__ import annotations

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.automation.models import RecurringTicket, Rule, RuleRun, SubjectRun
from palier.automation.services.rules import _bump
from palier.people import services as people
from palier.tickets.tests.builders import make_ticket

NOTE = [{"type": "note", "text": "Seen by {rule}"}]
VPN = {"all": [{"field": "subject", "op": "contains", "value": "vpn"}], "any": []}


@pytest.fixture(autouse=True)
def no_seeded_rules(db):
    Rule.objects.all().delete()
    _bump()


def _rule(client, name="VPN", **fields):
    body = {"name": name, "trigger": "created", "conditions": VPN, "actions": NOTE, **fields}
    made = client.call("POST", "/automation-rules", body)
    assert made.status_code == 201, made.content
    return made


def test_requesters_and_agents_cannot_touch_rules_or_recurring_tickets(client_for, requester, agent, admin_user):
    rule = _rule(client_for(admin_user)).json()
    for user in (requester, agent):
        client = client_for(user)
        assert_problem(client.call("GET", "/automation-rules"), 403)
        assert_problem(client.call("POST", "/automation-rules", {"name": "x", "trigger": "created"}), 403)
        assert_problem(client.call("PATCH", f"/automation-rules/{rule['id']}", {"name": "x"}, **{"If-Match": "*"}), 403)
        assert_problem(client.call("DELETE", f"/automation-rules/{rule['id']}"), 403)
        assert_problem(client.call("PUT", "/automation-rules/order", {"ids": [rule["id"]]}), 403)
        assert_problem(client.call("POST", f"/automation-rules/{rule['id']}/dry-run"), 403)
        assert_problem(client.call("GET", f"/automation-rules/{rule['id']}/runs"), 403)
        assert_problem(
            client.call(
                "POST",
                "/recurring-tickets",
                {"name": "x", "subject": "x", "requester": user.pk, "schedule": "0 8 * * 1"},
            ),
            403,
        )
    assert list(Rule.objects.values_list("name", flat=True)) == ["VPN"]
    assert not RecurringTicket.objects.exists()


def test_rules_are_created_read_changed_and_deleted(client_for, admin_user):
    client = client_for(admin_user)
    made = client.call(
        "POST",
        "/automation-rules",
        {"name": "VPN", "trigger": "created", "conditions": VPN, "actions": NOTE},
        **{"Idempotency-Key": "r1"},
    )
    assert made.status_code == 201, made.content
    again = client.call(
        "POST",
        "/automation-rules",
        {"name": "VPN", "trigger": "created", "conditions": VPN, "actions": NOTE},
        **{"Idempotency-Key": "r1"},
    )
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    assert Rule.objects.count() == 1
    rule = made.json()
    assert "secret" not in made.content.decode()
    assert Rule.objects.get().secret not in made.content.decode()
    read = client.get(f"{API}/automation-rules/{rule['id']}")
    assert read["ETag"] == made["ETag"] and read.json()["conditions"] == VPN
    assert_problem(client.call("PATCH", f"/automation-rules/{rule['id']}", {"name": "Renamed"}), 428)
    changed = client.call("PATCH", f"/automation-rules/{rule['id']}", {"name": "Renamed"}, **{"If-Match": made["ETag"]})
    assert changed.status_code == 200 and changed.json()["name"] == "Renamed"
    assert changed.json()["actions"] == NOTE  # what was not sent stays
    assert_problem(
        client.call("PATCH", f"/automation-rules/{rule['id']}", {"name": "Stale"}, **{"If-Match": made["ETag"]}), 412
    )
    off = client.call("PATCH", f"/automation-rules/{rule['id']}", {"is_active": False}, **{"If-Match": changed["ETag"]})
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert client.call("DELETE", f"/automation-rules/{rule['id']}").status_code == 204
    assert not Rule.objects.exists()


def test_bad_conditions_actions_and_timers_are_refused_with_the_forms_messages(client_for, admin_user):
    client = client_for(admin_user)
    group = people.create_group(name="Network", level=1)
    bad_field = {"all": [{"field": "nonsense", "op": "eq", "value": "x"}], "any": []}
    assert_problem(
        client.call("POST", "/automation-rules", {"name": "x", "trigger": "created", "conditions": bad_field}),
        422,
        "conditions",
    )
    assert_problem(
        client.call("POST", "/automation-rules", {"name": "x", "trigger": "created", "actions": [{"type": "explode"}]}),
        422,
        "actions",
    )
    gone = [{"type": "set_group", "value": group.pk + 1000}]
    body = assert_problem(
        client.call("POST", "/automation-rules", {"name": "x", "trigger": "created", "actions": gone}), 422, "actions"
    )
    assert f"#{group.pk + 1000}" in body["errors"]["actions"][0]
    assert_problem(client.call("POST", "/automation-rules", {"name": "x", "trigger": "timer"}), 422, "wait_status")
    assert_problem(client.call("POST", "/automation-rules", {"name": "x", "trigger": "sometimes"}), 422, "trigger")
    assert_problem(
        client.call(
            "POST",
            "/automation-rules",
            {"name": "x", "trigger": "timer", "wait_status": "pending_requester", "wait_hours": 0},
        ),
        422,
        "wait_hours",
    )
    assert_problem(
        client.call("POST", "/automation-rules", {"name": "x", "trigger": "created", "secret": "mine"}), 422, "secret"
    )
    assert not Rule.objects.exists()
    made = _rule(client)
    assert_problem(
        client.call(
            "PATCH",
            f"/automation-rules/{made.json()['id']}",
            {"name": "Changed", "actions": gone},
            **{"If-Match": made["ETag"]},
        ),
        422,
        "actions",
    )
    assert Rule.objects.get().name == "VPN"


def test_the_order_takes_every_rule_once(client_for, admin_user):
    client = client_for(admin_user)
    ids = [_rule(client, name=name).json()["id"] for name in ("A", "B", "C")]
    assert client.call("PUT", "/automation-rules/order", {"ids": ids[::-1]}).status_code == 204
    assert [r["id"] for r in client.get(f"{API}/automation-rules").json()["items"]] == ids[::-1]
    for bad in (ids[:2], [ids[0], ids[0], ids[1]], [*ids, 999_999]):
        assert_problem(client.call("PUT", "/automation-rules/order", {"ids": bad}), 422, "ids")
    assert list(Rule.objects.order_by("position").values_list("pk", flat=True)) == ids[::-1]


def test_the_list_filters_and_pages_in_few_queries(client_for, admin_user, django_assert_max_num_queries):
    client = client_for(admin_user)
    for n in range(5):
        _rule(client, name=f"R{n}", trigger="updated" if n % 2 else "created")
    with django_assert_max_num_queries(6):
        first = client.get(f"{API}/automation-rules?limit=2&trigger=created").json()
    assert [r["name"] for r in first["items"]] == ["R0", "R2"]
    rest = client.get(f"{API}/automation-rules?limit=2&trigger=created&cursor={first['next_cursor']}").json()
    assert [r["name"] for r in rest["items"]] == ["R4"] and rest["next_cursor"] is None


def test_dry_run_and_runs(client_for, admin_user, requester, django_assert_max_num_queries):
    client = client_for(admin_user)
    rule = _rule(client).json()
    vpn = make_ticket(requester, subject="VPN down")
    make_ticket(requester, subject="Printer")
    with django_assert_max_num_queries(12):
        result = client.call("POST", f"/automation-rules/{rule['id']}/dry-run")
    assert result.status_code == 200, result.content
    assert result.json()["count"] == 1 and [t["id"] for t in result.json()["tickets"]] == [vpn.pk]
    assert "Seen by" not in str(vpn.comments.values_list("body", flat=True))  # nothing ran
    for _n in range(3):
        RuleRun.objects.create(rule_id=rule["id"], ticket=vpn, trigger="created", outcome="applied")
    with django_assert_max_num_queries(6):
        runs = client.get(f"{API}/automation-rules/{rule['id']}/runs?limit=2").json()
    assert len(runs["items"]) == 2 and runs["items"][0]["ticket"] == vpn.pk and runs["next_cursor"]
    assert client.get(f"{API}/automation-rules/999999/runs").status_code == 404


def test_recurring_tickets(client_for, admin_user, requester, django_assert_max_num_queries):
    client = client_for(admin_user)
    body = {"name": "Backups", "subject": "Check the backups", "requester": requester.pk, "schedule": "0 8 * * 1"}
    made = client.call("POST", "/recurring-tickets", body, **{"Idempotency-Key": "k"})
    assert made.status_code == 201, made.content
    assert client.call("POST", "/recurring-tickets", body, **{"Idempotency-Key": "k"}).status_code == 200
    row = made.json()
    assert row["next_run_at"] and row["is_active"] and row["time_zone"] == "Europe/Paris"
    assert_problem(client.call("POST", "/recurring-tickets", {**body, "schedule": "every monday"}), 422, "schedule")
    assert_problem(client.call("POST", "/recurring-tickets", {**body, "time_zone": "Mars/Base"}), 422, "time_zone")
    assert_problem(client.call("POST", "/recurring-tickets", {**body, "requester": 999_999}), 422, "requester")
    assert RecurringTicket.objects.count() == 1
    changed = client.call(
        "PATCH", f"/recurring-tickets/{row['id']}", {"schedule": "30 7 * * *"}, **{"If-Match": made["ETag"]}
    )
    assert changed.status_code == 200 and changed.json()["schedule"] == "30 7 * * *"
    assert changed.json()["subject"] == "Check the backups"
    assert client.call("DELETE", f"/recurring-tickets/{row['id']}").status_code == 204
    paused = RecurringTicket.objects.get()
    assert not paused.is_active and paused.next_run_at is None
    with django_assert_max_num_queries(6):
        listed = client.get(f"{API}/recurring-tickets?is_active=false").json()
    assert [r["id"] for r in listed["items"]] == [row["id"]]


def test_a_refusal_in_french(client_for, admin_user):
    admin_user.language = "fr"
    admin_user.save(update_fields=["language"])
    body = assert_problem(
        client_for(admin_user).call("POST", "/automation-rules", {"name": " ", "trigger": "created"}), 422, "name"
    )
    assert body["errors"]["name"] == ["Ce champ est obligatoire."]
    assert not Rule.objects.exists()


def test_rules_on_problems_and_changes_through_the_api(client_for, admin_user, triage):
    client = client_for(admin_user)
    made = client.call(
        "POST",
        "/automation-rules",
        {
            "name": "Big problems",
            "subject": "problem",
            "trigger": "problem_created",
            "actions": [{"type": "set_group", "value": triage.pk}],
        },
    )
    assert made.status_code == 201, made.content
    assert (made.json()["subject"], made.json()["trigger"]) == ("problem", "problem_created")
    wrong = client.call(
        "POST",
        "/automation-rules",
        {
            "name": "x",
            "subject": "change",
            "trigger": "problem_created",
            "actions": [{"type": "set_group", "value": triage.pk}],
        },
    )
    assert_problem(wrong, 422, "trigger")
    approving = client.call(
        "POST",
        "/automation-rules",
        {
            "name": "y",
            "subject": "change",
            "trigger": "change_created",
            "actions": [{"type": "set_status", "value": "approved"}],
        },
    )
    assert_problem(approving, 422)
    assert [r["name"] for r in client.get(f"{API}/automation-rules?subject=problem").json()["items"]] == [
        "Big problems"
    ]
    assert not Rule.objects.filter(name__in=["x", "y"]).exists()


def test_the_run_log_of_a_rule_on_problems_names_the_problems(client_for, admin_user, triage, agent):
    from palier.problems.services import problems as problem_services

    client = client_for(admin_user)
    actions = [{"type": "set_group", "value": triage.pk}]
    made = client.call(
        "POST",
        "/automation-rules",
        {"name": "Known", "subject": "problem", "trigger": "problem_created", "actions": actions},
    )
    assert made.status_code == 201, made.content
    rule = Rule.objects.get(pk=made.json()["id"])
    problem = problem_services.create_problem(by=agent, title="VPN gateway")
    SubjectRun.objects.filter(rule=rule).delete()  # whatever the creation ran
    SubjectRun.objects.create(
        rule=rule, subject="problem", event_id=1, problem=problem, trigger="problem_created", outcome="applied"
    )
    runs = client.get(f"{API}/automation-rules/{rule.pk}/runs").json()["items"]
    assert [(r["subject"], r["problem"], r["ticket"], r["change"], r["outcome"]) for r in runs] == [
        ("problem", problem.pk, None, None, "applied")
    ]
