"""The client against a live Palier server (pytest-django's ``live_server``) with a real token."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.cache import cache
from palier_client import ApiError, Client
from palier_client.cli import main

from palier.people import services as people
from palier.people.models import User
from palier.tickets.models import Ticket


@pytest.fixture
def desk(live_server: Any, agent: User, requester: User, settings: Any) -> tuple[Client, list[float]]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    waits: list[float] = []
    token = people.create_api_token(agent, scope="write").secret
    return Client(live_server.url, token=token, sleep=waits.append), waits


def test_tickets_through_the_client(desk: tuple[Client, list[float]], agent: User, requester: User) -> None:
    client, _waits = desk
    assert client.me()["id"] == agent.pk
    first = client.create_ticket("Imprimante en panne", impact="high", requester=requester.pk, idempotency_key="k-1")
    again = client.create_ticket("Imprimante en panne", impact="high", requester=requester.pk, idempotency_key="k-1")
    assert again["id"] == first["id"] and Ticket.objects.count() == 1
    assert first["etag"] == f'"{first["id"]}-1"'

    changed = client.update_ticket(first["id"], {"urgency": "high"}, etag=first["etag"])
    assert changed["priority"] == 1 and changed["etag"] != first["etag"]
    with pytest.raises(ApiError) as stale:
        client.update_ticket(first["id"], {"urgency": "low"}, etag=first["etag"])
    assert stale.value.status == 412
    client.comment(first["id"], "Je regarde.", internal=True)
    assert [c["body"] for c in client.iter_comments(first["id"])] == ["Je regarde."]
    current = client.get_ticket(first["id"])  # the note moved the version on
    assert client.transition_ticket(first["id"], "in_progress", etag=current["etag"])["status"] == "in_progress"
    assert client.get_ticket_by_reference(first["reference"])["id"] == first["id"]

    result = client.bulk_create([{"subject": f"Alerte {i}", "requester": requester.pk} for i in range(5)])
    assert (result["created"], result["failed"]) == (5, 0)
    assert len(list(client.iter_tickets(limit=2))) == 6  # three pages, cursors followed
    assert [t["id"] for t in client.iter_tickets(status="in_progress")] == [first["id"]]
    plan = client.bulk_update({"priority": 2}, max=10, filter={"status": ["new"]}, dry_run=True)
    assert plan["matched"] == 5
    with pytest.raises(ApiError) as too_many:
        client.bulk_update({"priority": 2}, max=4, filter={"status": ["new"]})
    assert too_many.value.status == 409 and "max" in too_many.value.errors
    assert client.get_user(requester.pk)["id"] == requester.pk
    assert any(g["name"] for g in client.iter_groups())
    assert isinstance(client.categories(), list)
    assert client.request("GET", "/priority-matrix").status == 200


def test_a_bulk_retry_after_a_partial_success_returns_the_same_tickets(desk: tuple[Client, list[float]]) -> None:
    client, _waits = desk
    items = [{"subject": "A", "idempotency_key": "a"}, {"subject": "", "idempotency_key": "b"}]
    first = client.bulk_create(items, atomic=False)
    assert [i["status"] for i in first["items"]] == ["created", "error"]
    with pytest.raises(ApiError) as refused:
        client.bulk_create(items)
    assert refused.value.status == 422 and "items.1.subject" in refused.value.errors
    items[1]["subject"] = "B"
    second = client.bulk_create(items)
    assert [i["status"] for i in second["items"]] == ["existing", "created"]
    assert second["items"][0]["id"] == first["items"][0]["id"]
    assert Ticket.objects.count() == 2


def test_the_client_waits_out_a_rate_limit(desk: tuple[Client, list[float]], settings: Any) -> None:
    client, waits = desk
    settings.PALIER_API_RATE_TOKEN = 2

    def wait_out(seconds: float) -> None:  # the server's window ends: start a fresh count
        waits.append(seconds)
        cache.clear()

    client.sleep = wait_out
    ids = [client.create_ticket(f"Ticket {i}")["id"] for i in range(3)]  # the third is refused once
    assert len(set(ids)) == 3 and Ticket.objects.count() == 3
    assert len(waits) == 1 and 0 < waits[0] <= 60  # the server's Retry-After


def test_the_command_line(desk: tuple[Client, list[float]], live_server: Any, tmp_path: Any) -> None:
    client = desk[0]
    common = ["--url", live_server.url, "--token", client.token]
    out = io.StringIO()
    assert main([*common, "tickets", "create", "Écran noir", "--impact", "high", "--tag", "cli"], out=out) == 0
    created = json.loads(out.getvalue())
    assert created["subject"] == "Écran noir" and created["tags"] == ["cli"]
    lines = tmp_path / "tickets.jsonl"
    lines.write_text('{"subject": "Un"}\n{"subject": "Deux"}\n', encoding="utf-8")
    out = io.StringIO()
    assert main([*common, "tickets", "bulk", str(lines)], out=out) == 0
    assert json.loads(out.getvalue())["created"] == 2
    out = io.StringIO()
    assert main([*common, "tickets", "list", "--status", "new"], out=out) == 0
    assert len(out.getvalue().splitlines()) == 3
    out = io.StringIO()
    assert main([*common, "tickets", "get", created["reference"]], out=out) == 0
    assert json.loads(out.getvalue())["id"] == created["id"]
    assert main([*common, "request", "GET", "/tickets/999999"], out=io.StringIO()) == 1
