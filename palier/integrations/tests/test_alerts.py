"""The alert endpoint: tokens, payloads, incidents, occurrences, resolution, idempotency."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from palier.integrations.models import AlertDelivery, AlertIncident
from palier.integrations.tests.conftest import corpus_bytes, corpus_json
from palier.people.models import User
from palier.tickets.models import Comment, Level, Ticket

URL = "/hooks/alerts/"


def post(client: Client, token: str, body: bytes | dict[str, Any], **extra: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(URL, data=raw, content_type="application/json", **headers, **extra)


def resolved(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["status"] = "resolved"
    for alert in data["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-28T11:00:00Z"
    return data


@pytest.fixture
def am_payload(corpus: Path) -> dict[str, Any]:
    return corpus_json(corpus, "alertmanager/zulip_alert.json")


def test_firing_group_opens_one_incident(client: Client, make_source: Any, am_payload: dict[str, Any]) -> None:
    source, token = make_source("alertmanager")
    response = post(client, token, am_payload)
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert response.json()["ticket"] == ticket.reference
    assert ticket.kind == Ticket.Kind.INCIDENT
    assert ticket.channel == Ticket.Channel.MONITORING
    assert ticket.requester == source.user
    assert ticket.subject == "High CPU core temperature"  # the common summary
    assert (ticket.impact, ticket.urgency, ticket.priority) == (Level.HIGH, Level.HIGH, 1)
    assert "label host = andromeda" in ticket.description and "Alert 2 (firing)" in ticket.description
    assert AlertIncident.objects.get().occurrences == 1


def test_repeat_adds_an_occurrence_not_a_ticket(client: Client, make_source: Any, am_payload: dict[str, Any]) -> None:
    _source, token = make_source("alertmanager")
    post(client, token, am_payload)
    again = copy.deepcopy(am_payload)
    again["alerts"][0]["startsAt"] = "2026-11-28T12:00:00Z"  # it fired again
    response = post(client, token, again)
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    incident = AlertIncident.objects.get()
    assert incident.ticket == ticket and incident.occurrences == 2
    note = Comment.objects.get(ticket=ticket)
    assert note.is_internal and "occurrence 2" in note.body


def test_same_delivery_twice_is_counted_once(client: Client, make_source: Any, am_payload: dict[str, Any]) -> None:
    _source, token = make_source("alertmanager")
    first = post(client, token, am_payload)
    second = post(client, token, am_payload)
    assert second.status_code == 200
    assert second.json() | {"delivery": 0} == {"delivery": 0, "state": "duplicate", "ticket": first.json()["ticket"]}
    assert Ticket.objects.count() == 1
    assert AlertIncident.objects.get().occurrences == 1
    assert not Comment.objects.exists()
    assert AlertDelivery.objects.count() == 2  # both kept raw


def test_resolved_adds_a_note_and_leaves_the_incident_open(
    client: Client, make_source: Any, am_payload: dict[str, Any]
) -> None:
    _source, token = make_source("alertmanager")
    post(client, token, am_payload)
    response = post(client, token, resolved(am_payload))
    assert response.json()["state"] == "processed"
    ticket = Ticket.objects.get()
    assert ticket.status == Ticket.Status.NEW
    assert "resolved" in Comment.objects.get(ticket=ticket).body


def test_resolved_resolves_the_incident_when_configured(
    client: Client, make_source: Any, am_payload: dict[str, Any]
) -> None:
    _source, token = make_source("alertmanager", auto_resolve=True)
    post(client, token, am_payload)
    post(client, token, resolved(am_payload))
    ticket = Ticket.objects.get()
    assert ticket.status == Ticket.Status.RESOLVED and ticket.resolved_at is not None
    # firing again after the resolution opens a new incident
    again = copy.deepcopy(am_payload)
    again["alerts"][0]["startsAt"] = "2026-11-28T13:00:00Z"
    response = post(client, token, again)
    assert Ticket.objects.count() == 2
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response.json()["ticket"] == new.reference
    incident = AlertIncident.objects.get()
    assert incident.ticket == new and incident.occurrences == 1


def test_resolved_without_incident_is_ignored(client: Client, make_source: Any, am_payload: dict[str, Any]) -> None:
    _source, token = make_source("alertmanager")
    response = post(client, token, resolved(am_payload))
    assert response.status_code == 200 and response.json()["state"] == "ignored"
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("token", ["", "plra_wrong", "plr_personal-token"])
def test_bad_or_missing_token_is_401_and_creates_nothing(
    client: Client, make_source: Any, am_payload: dict[str, Any], token: str
) -> None:
    make_source("alertmanager")
    response = post(client, token, am_payload)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert "token" in response.json()["detail"]
    assert not AlertDelivery.objects.exists() and not Ticket.objects.exists()


def test_revoked_source_is_refused(client: Client, make_source: Any, am_payload: dict[str, Any]) -> None:
    from palier.integrations.services import alerts

    source, token = make_source("alertmanager")
    alerts.revoke_alert_source(source, by=None)
    assert post(client, token, am_payload).status_code == 401


def test_token_in_query_string(client: Client, make_source: Any, am_payload: dict[str, Any]) -> None:
    _source, token = make_source("alertmanager")
    response = client.post(f"{URL}?token={token}", data=json.dumps(am_payload), content_type="application/json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"version": "3", "groupKey": "x"}', "version"),
        (b'{"version": "4", "status": "firing", "alerts": []}', "groupKey"),
        (b'{"version": "4", "groupKey": "g", "status": "firing", "alerts": []}', "alerts"),
    ],
)
def test_malformed_or_unknown_payload_is_400_with_reason(
    client: Client, make_source: Any, body: bytes, reason: str
) -> None:
    _source, token = make_source("alertmanager")
    response = post(client, token, body)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert not AlertDelivery.objects.exists() and not Ticket.objects.exists()


def test_grafana_payload_on_an_alertmanager_source_is_refused(client: Client, make_source: Any, corpus: Path) -> None:
    _source, token = make_source("alertmanager")
    response = post(client, token, corpus_bytes(corpus, "grafana/docs_example_two_firing.json"))
    assert response.status_code == 400 and "version" in response.json()["detail"]


@pytest.mark.parametrize("name", ["grafana/docs_example_two_firing.json", "grafana/zulip_alert_values_v11.json"])
def test_grafana_payloads_open_incidents(client: Client, make_source: Any, corpus: Path, name: str) -> None:
    _source, token = make_source("grafana")
    response = post(client, token, corpus_bytes(corpus, name))
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert (ticket.impact, ticket.urgency) == (Level.MEDIUM, Level.MEDIUM)  # no severity: warning


def test_generic_webhook_with_category_rule_and_custom_severity(client: Client, make_source: Any) -> None:
    from palier.tickets.models import Category

    category = Category.objects.filter(is_active=True).first()
    assert category is not None
    _source, token = make_source(
        "generic",
        category_rules=[{"label": "service", "value": "mail", "category": category.slug}],
        severity_map={"info": ["low", "medium"]},
    )
    body = {
        "title": "Mail queue growing",
        "fingerprint": "mx1-queue",
        "severity": "info",
        "labels": {"service": "mail"},
    }
    response = post(client, token, body)
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.category == category
    assert (ticket.impact, ticket.urgency) == (Level.LOW, Level.MEDIUM)
    body["status"] = "resolved"
    assert post(client, token, body).json()["state"] == "processed"


def test_source_group_receives_the_incident(
    client: Client, make_source: Any, am_payload: dict[str, Any], l2: Any
) -> None:
    _source, token = make_source("alertmanager", group=l2)
    post(client, token, am_payload)
    assert Ticket.objects.get().group == l2


def test_processing_failure_is_kept_and_answers_503(
    client: Client, make_source: Any, am_payload: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from palier.integrations.services import alerts

    _source, token = make_source("alertmanager")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(alerts, "_fire", broken)
    response = post(client, token, am_payload)
    assert response.status_code == 503
    delivery = AlertDelivery.objects.get()
    assert delivery.state == "failed" and "database on fire" in delivery.error
    assert json.loads(delivery.body) == am_payload
    monkeypatch.undo()
    # Alertmanager retries: the retry is processed normally
    assert post(client, token, am_payload).json()["state"] == "processed"


def test_alert_endpoint_query_counts(
    client: Client, make_source: Any, am_payload: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    _source, token = make_source("alertmanager")
    with django_assert_max_num_queries(50):  # ~12 of ours, the rest is open_ticket with routing and SLA
        post(client, token, am_payload)
    again = copy.deepcopy(am_payload)
    again["alerts"][0]["startsAt"] = "2026-11-28T12:00:00Z"
    with django_assert_max_num_queries(25):
        post(client, token, again)
    with django_assert_max_num_queries(10):
        post(client, token, again)  # duplicate


def test_service_account_must_be_an_agent(requester: Any) -> None:
    from django.core.exceptions import ValidationError

    from palier.integrations.services import alerts

    with pytest.raises(ValidationError) as refused:
        alerts.create_alert_source(name="x", kind="generic", user=requester, by=None)
    assert "user" in refused.value.message_dict


def test_sources_created_and_revoked_are_in_the_audit_log(make_source: Any, admin_user: User) -> None:
    from palier.audit.models import AuditEvent
    from palier.integrations.services import alerts

    source, token = make_source("alertmanager")
    alerts.revoke_alert_source(source, by=admin_user)
    events = list(AuditEvent.objects.filter(target_type="integrations.alertsource").order_by("id"))
    assert [e.action for e in events] == ["integration.created", "integration.revoked"]
    assert token not in str(events[0].changes) and events[0].changes["token"] == [None, "••••••"]
