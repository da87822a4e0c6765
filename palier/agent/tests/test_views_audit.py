"""The audit log page (administrators only): search by who, action and dates, older pages by
keyset, a CSV export (itself recorded), a fixed number of queries; and its API twin."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from palier.audit import services as audit
from palier.audit.models import AuditEvent
from palier.people.models import User

pytestmark = pytest.mark.django_db
URL = "/agent/audit/"


@pytest.fixture
def client(admin_user: User) -> Client:
    """A client signed in as the administrator (before the log is laid out: signing in is logged)."""
    signed = Client()
    signed.force_login(admin_user)
    return signed


@pytest.fixture
def log(client: Client, admin_user: User, requester: User, agent: User) -> None:
    AuditEvent.objects.all()._prune()  # the personas' creation, the administrator's sign-in
    AuditEvent.objects.create(at=timezone.now() - timedelta(days=40), action="auth.login", actor_email="old@x.test")
    audit.record("auth.login", actor=requester, ip="192.0.2.1")
    audit.record("auth.login_failed", actor=None, actor_email="mallory@evil.test", ip="203.0.113.66")
    audit.record("user.role_changed", actor=admin_user, target=agent, changes={"role": ["agent", "admin"]})
    audit.record("token.created", actor=requester, target_label='=HYPERLINK("http://evil")')


def listed(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [e.action for e in response.context["events"]]


def test_only_administrators_open_it(agent: User, requester: User, log: None) -> None:
    client = Client()
    assert client.get(URL).status_code == 302  # to the sign-in page
    for person in (agent, requester):
        client.force_login(person)
        assert client.get(URL).status_code == 404
        assert client.get(URL + "export.csv").status_code == 404


def test_search_by_actor_action_and_dates(client: Client, admin_user: User, log: None) -> None:
    assert listed(client.get(URL)) == [
        "token.created",
        "user.role_changed",
        "auth.login_failed",
        "auth.login",
        "auth.login",
    ]
    assert listed(client.get(URL, {"actor": "MALLORY"})) == ["auth.login_failed"]
    assert listed(client.get(URL, {"action": "auth"})) == ["auth.login_failed", "auth.login", "auth.login"]
    assert listed(client.get(URL, {"action": "auth.login"})) == ["auth.login", "auth.login"]
    today = timezone.localdate()
    assert len(listed(client.get(URL, {"since": today.isoformat()}))) == 4
    old_day = (today - timedelta(days=40)).isoformat()
    assert listed(client.get(URL, {"since": old_day, "until": old_day})) == ["auth.login"]
    page = client.get(URL).content.decode()
    assert "203.0.113.66" in page and "agent → admin" in page


def test_older_entries_by_keyset(client: Client, admin_user: User, log: None) -> None:
    for n in range(60):
        audit.record("user.changed", actor=admin_user, changes={"phone": [str(n), str(n + 1)]})
    first = client.get(URL)
    assert len(first.context["events"]) == 50 and first.context["next_query"]
    second = client.get(URL + "?" + first.context["next_query"])
    assert len(second.context["events"]) == 15
    seen = {e.pk for e in first.context["events"]} | {e.pk for e in second.context["events"]}
    assert len(seen) == 65


def test_the_page_runs_a_fixed_number_of_queries(client: Client, admin_user: User, log: None) -> None:

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, {"action": "user"}).status_code == 200
        return len(queries)

    few = count()
    for n in range(30):
        audit.record("user.changed", actor=admin_user, changes={"phone": [str(n), "x"]})
    assert count() == few


def test_csv_export_of_the_search_is_itself_recorded(client: Client, admin_user: User, log: None) -> None:
    response = client.get(URL + "export.csv", {"action": "token"}, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["at", "actor", "ip", "action"]
    assert [r[3] for r in rows[1:]] == ["token.created"]
    assert rows[1][6].startswith("'=")  # no formula reaches a spreadsheet
    event = AuditEvent.objects.get(action="export.audit")
    assert (event.actor_id, event.ip) == (admin_user.pk, "198.51.100.4")


# --- API ------------------------------------------------------------------------------------------


def test_the_api_lists_events_for_administrators_only(client: Client, agent: User, log: None) -> None:
    admin = client
    body = admin.get("/api/v1/audit", {"action": "auth", "limit": 2}).json()
    assert [e["action"] for e in body["items"]] == ["auth.login_failed", "auth.login"]
    assert body["items"][0]["ip"] == "203.0.113.66"
    more = admin.get("/api/v1/audit", {"action": "auth", "limit": 2, "before": body["next_before"]}).json()
    assert [e["actor_email"] for e in more["items"]] == ["old@x.test"] and more["next_before"] is None
    other = Client()
    other.force_login(agent)
    refused = other.get("/api/v1/audit")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
