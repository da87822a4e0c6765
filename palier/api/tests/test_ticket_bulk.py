"""Bulk ticket endpoints: POST /tickets/bulk (creation) and POST /tickets/bulk-update (by query)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from palier.api.tests.conftest import assert_problem
from palier.tickets.models import IdempotencyKey, Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

PER_TICKET = 40  # three service calls (tags, priority, status), each locking, recording, re-timing


def items(n: int, **extra: object) -> list[dict[str, object]]:
    return [{"subject": f"Alerte disque {i}", "impact": "medium", **extra} for i in range(n)]


# --- creation -------------------------------------------------------------------------------------


def test_an_agent_opens_many_tickets_each_with_its_result(token_client, agent, requester, triage):
    body = {"items": [*items(2), {"subject": "Pour Alice", "requester": requester.pk, "tags": ["Import"]}]}
    r = token_client(agent).call("POST", "/tickets/bulk", body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert (out["created"], out["existing"], out["failed"]) == (3, 0, 0)
    assert [i["index"] for i in out["items"]] == [0, 1, 2]
    assert {i["status"] for i in out["items"]} == {"created"}
    tickets = {t.pk: t for t in Ticket.objects.all()}
    assert sorted(tickets) == sorted(i["id"] for i in out["items"])
    alice = tickets[out["items"][2]["id"]]
    assert alice.requester == requester and alice.group == triage and alice.channel == "api"
    assert alice.reference == out["items"][2]["reference"]
    assert [t.name for t in alice.tags.all()] == ["import"]
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.CREATED).count() == 3


def test_one_bad_item_refuses_the_whole_request_by_default(token_client, agent):
    body = {
        "items": [*items(2), {"subject": "  "}, {"subject": "x", "impact": "huge"}, {"subject": "y", "group": 99999}]
    }
    r = token_client(agent).call("POST", "/tickets/bulk", body)
    problem = assert_problem(r, 422, "items.2.subject", "items.3.impact", "items.4.group")
    assert "3" in problem["detail"]  # how many items are refused (nothing created: checked below)
    assert "items.0.subject" not in problem["errors"]
    assert not Ticket.objects.exists()


def test_not_atomic_creates_the_good_items_and_reports_the_bad(token_client, agent):
    body = {"items": [items(1)[0], {"subject": 42}, {"subject": "ok", "unknown": 1}], "atomic": False}
    r = token_client(agent).call("POST", "/tickets/bulk", body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert [i["status"] for i in out["items"]] == ["created", "error", "error"]
    assert out["items"][1]["errors"] == {"subject": ["Enter a text."]} or "subject" in out["items"][1]["errors"]
    assert "unknown" in out["items"][2]["errors"]
    assert out["items"][1]["id"] is None
    assert Ticket.objects.count() == 1


def test_over_a_thousand_items_is_refused_and_creates_nothing(token_client, agent):
    r = token_client(agent).call("POST", "/tickets/bulk", {"items": items(1001)})
    problem = assert_problem(r, 422, "items")
    assert "1000" in problem["errors"]["items"][0] or "1,000" in problem["errors"]["items"][0]
    assert not Ticket.objects.exists()
    assert_problem(token_client(agent).call("POST", "/tickets/bulk", {"items": []}), 422, "items")


def test_a_retry_returns_the_same_tickets_even_after_a_partial_success(token_client, agent):
    client = token_client(agent)
    first = [{"subject": "A", "idempotency_key": "imp-1"}, {"subject": "", "idempotency_key": "imp-2"}]
    r = client.call("POST", "/tickets/bulk", {"items": first, "atomic": False})
    assert [i["status"] for i in r.json()["items"]] == ["created", "error"]
    created_id = r.json()["items"][0]["id"]
    fixed = [first[0], {"subject": "B", "idempotency_key": "imp-2"}]
    again = client.call("POST", "/tickets/bulk", {"items": fixed})
    assert again.status_code == 201
    assert [(i["status"], i["index"]) for i in again.json()["items"]] == [("existing", 0), ("created", 1)]
    assert again.json()["items"][0]["id"] == created_id
    third = client.call("POST", "/tickets/bulk", {"items": fixed})
    assert third.status_code == 200
    assert {i["status"] for i in third.json()["items"]} == {"existing"}
    assert Ticket.objects.count() == 2
    assert IdempotencyKey.objects.count() == 2


def test_keys_are_per_content_and_per_request(token_client, agent):
    client = token_client(agent)
    client.call("POST", "/tickets/bulk", {"items": [{"subject": "A", "idempotency_key": "k"}]})
    r = client.call(
        "POST",
        "/tickets/bulk",
        {"items": [{"subject": "Autre", "idempotency_key": "k"}, {"subject": "C", "idempotency_key": "dup"},
                   {"subject": "D", "idempotency_key": "dup"}], "atomic": False},
    )  # fmt: skip
    out = r.json()["items"]
    assert [i["status"] for i in out] == ["error", "created", "error"]
    assert "idempotency_key" in out[0]["errors"] and "idempotency_key" in out[2]["errors"]
    assert Ticket.objects.count() == 2


def test_item_keys_are_the_keys_of_single_creations(token_client, agent):
    client = token_client(agent)
    single = client.call("POST", "/tickets", {"subject": "Imprimante"}, **{"Idempotency-Key": "same"})
    assert single.status_code == 201
    r = client.call("POST", "/tickets/bulk", {"items": [{"subject": "Imprimante", "idempotency_key": "same"}]})
    assert r.status_code == 200
    assert r.json()["items"][0] == {**r.json()["items"][0], "status": "existing", "id": single.json()["id"]}
    other = token_client(agent)  # a key belongs to its user, whatever the token
    assert other.call("POST", "/tickets/bulk", {"items": [{"subject": "Imprimante", "idempotency_key": "same"}]})


def test_a_requester_creates_only_as_themselves(token_client, requester, requester_b, l2):
    client = token_client(requester)
    r = client.call(
        "POST",
        "/tickets/bulk",
        {
            "items": [
                {"subject": "Le mien", "requester": requester.pk},
                {"subject": "Pour Bob", "requester": requester_b.pk},
                {"subject": "Vers L2", "group": l2.pk},
                {"subject": "Étiqueté", "tags": ["vip"]},
                {"subject": "Par téléphone", "channel": "phone"},
            ],
            "atomic": False,
        },
    )
    out = r.json()["items"]
    assert [i["status"] for i in out] == ["created", "error", "error", "error", "error"]
    assert set(out[1]["errors"]) == {"requester"}
    assert set(out[2]["errors"]) == {"group"}
    assert Ticket.objects.get().requester == requester
    assert_problem(
        client.call("POST", "/tickets/bulk", {"items": [{"subject": "x", "requester": requester_b.pk}]}), 422
    )
    assert Ticket.objects.count() == 1


def test_a_read_only_token_cannot_create(token_client, agent):
    assert_problem(token_client(agent, scope="read").call("POST", "/tickets/bulk", {"items": items(1)}), 403)
    assert not Ticket.objects.exists()


def test_creation_costs_about_the_same_queries_for_10_or_200_tickets(token_client, agent):
    client = token_client(agent)

    def queries(n: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.call("POST", "/tickets/bulk", {"items": items(n)}).status_code == 201
        return len(ctx.captured_queries)

    queries(1)  # warm the per-process caches (routing rules, SLA policies)
    small, large = queries(10), queries(200)
    # one statement per table, split only into the chunks SQLite's variable limit imposes
    assert large - small <= 200 // 10, (small, large)


def test_creation_query_count(token_client, agent, django_assert_max_num_queries):
    client = token_client(agent)
    client.call("POST", "/tickets/bulk", {"items": items(1)})
    with django_assert_max_num_queries(40):
        assert client.call("POST", "/tickets/bulk", {"items": items(100, tags=["flood"])}).status_code == 201


# --- update by query ------------------------------------------------------------------------------


def test_bulk_update_changes_the_matching_tickets_through_the_services(token_client, agent, requester, triage):
    flood = [make_ticket(requester, subject=f"Flood {i}", tags=["noc"]) for i in range(3)]
    other = make_ticket(requester, subject="Autre", kind="request")
    r = token_client(agent).call(
        "POST",
        "/tickets/bulk-update",
        {
            "filter": {"kind": "incident", "group": triage.pk},
            "patch": {"status": "in_progress", "assignee": agent.pk, "priority": 1, "add_tags": ["outage"]},
            "max": 3,
        },
    )
    assert r.status_code == 200, r.content
    out = r.json()
    assert (out["matched"], out["updated"], out["failed"], out["dry_run"]) == (3, 3, 0, False)
    assert [i["id"] for i in out["items"]] == [t.pk for t in flood]
    for ticket in flood:
        ticket.refresh_from_db()
        assert (ticket.status, ticket.assignee, ticket.priority) == ("in_progress", agent, 1)
        assert sorted(t.name for t in ticket.tags.all()) == ["noc", "outage"]
        kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
        assert {"changed", "status"} <= kinds
    other.refresh_from_db()
    assert other.status == "new" and other.version == 1


def test_more_matches_than_max_changes_nothing(token_client, agent, requester):
    tickets = [make_ticket(requester, subject=f"t{i}") for i in range(3)]
    r = token_client(agent).call(
        "POST", "/tickets/bulk-update", {"filter": {"status": ["new"]}, "patch": {"priority": 1}, "max": 2}
    )
    assert_problem(r, 409, "max")
    assert {Ticket.objects.get(pk=t.pk).version for t in tickets} == {1}


def test_dry_run_lists_and_changes_nothing(token_client, agent, requester):
    tickets = [make_ticket(requester, subject=f"t{i}") for i in range(2)]
    r = token_client(agent).call(
        "POST", "/tickets/bulk-update", {"patch": {"status": "cancelled"}, "max": 5, "dry_run": True}
    )
    assert r.json()["matched"] == 2 and r.json()["dry_run"] is True
    assert {i["status"] for i in r.json()["items"]} == {"matched"}
    assert {Ticket.objects.get(pk=t.pk).status for t in tickets} == {"new"}


def test_bulk_update_touches_only_what_the_agent_may_edit(token_client, agent, agent_l2, requester, l2):
    mine = make_ticket(requester, subject="Triage")
    hidden = make_ticket(requester, by=agent_l2, subject="L2 only", group=l2)
    own = make_ticket(agent_l2, subject="Mon propre ticket")  # agent_l2's own request, in triage
    client = token_client(agent_l2)
    r = client.call("POST", "/tickets/bulk-update", {"patch": {"priority": 1, "note": "x"}, "max": 10})
    out = {i["id"]: i for i in r.json()["items"]}
    assert mine.pk not in out  # not visible to an L2 agent
    assert out[hidden.pk]["status"] == "updated"
    assert out[own.pk]["status"] == "error" and out[own.pk]["error"]
    assert Ticket.objects.get(pk=own.pk).priority == own.priority


def test_per_ticket_refusals_do_not_stop_the_others(token_client, agent, requester):
    closed = make_ticket(requester, subject="Fermé")
    Ticket.objects.filter(pk=closed.pk).update(status="closed")
    open_one = make_ticket(requester, subject="Ouvert")
    r = token_client(agent).call("POST", "/tickets/bulk-update", {"patch": {"status": "in_progress"}, "max": 5})
    out = {i["id"]: i for i in r.json()["items"]}
    assert out[closed.pk]["status"] == "error"
    assert out[open_one.pk]["status"] == "updated"
    again = token_client(agent).call(
        "POST",
        "/tickets/bulk-update",
        {"filter": {"status": ["in_progress"]}, "patch": {"status": "in_progress"}, "max": 5},
    )
    assert [i["status"] for i in again.json()["items"]] == ["unchanged"]


def test_bad_patches_and_callers_are_refused(token_client, client_for, agent, requester):
    ticket = make_ticket(requester, subject="t")
    client = token_client(agent)
    assert_problem(client.call("POST", "/tickets/bulk-update", {"patch": {}, "max": 5}), 422, "patch")
    assert_problem(client.call("POST", "/tickets/bulk-update", {"patch": {"subject": "x"}, "max": 5}), 422)
    assert_problem(client.call("POST", "/tickets/bulk-update", {"patch": {"priority": 9}, "max": 5}), 422)
    assert_problem(client.call("POST", "/tickets/bulk-update", {"patch": {"priority": 1}, "max": 5000}), 422, "max")
    assert_problem(client.call("POST", "/tickets/bulk-update", {"patch": {"priority": 1}}), 422, "max")
    assert_problem(
        client.call(
            "POST", "/tickets/bulk-update", {"filter": {"status": ["nope"]}, "patch": {"priority": 1}, "max": 5}
        ),
        422,
    )
    assert_problem(client.call("POST", "/tickets/bulk-update", {"patch": {"group": 99999}, "max": 5}), 422, "group")
    assert_problem(
        token_client(requester).call("POST", "/tickets/bulk-update", {"patch": {"status": "cancelled"}, "max": 5}), 403
    )
    assert Ticket.objects.get(pk=ticket.pk).version == 1


def test_bulk_update_query_count(token_client, agent, requester, django_assert_max_num_queries):
    client = token_client(agent)
    for i in range(10):
        make_ticket(requester, subject=f"t{i}")
    body = {"patch": {"status": "in_progress", "priority": 2, "add_tags": ["x"]}, "max": 10}
    with django_assert_max_num_queries(10 + 10 * PER_TICKET):
        assert client.call("POST", "/tickets/bulk-update", body).json()["updated"] == 10
