"""Every corpus payload is accepted or refused by the parser of each source kind, with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from palier.integrations import alert_payloads as p
from palier.integrations.tests.conftest import corpus_json

# file -> the kind that accepts it (every other kind refuses it)
EXPECTED = {
    "alertmanager/zulip_alert.json": "alertmanager",
    "alertmanager/prometheus-msteams_prom_post_request.json": "alertmanager",
    "grafana/docs_example_two_firing.json": "grafana",
    "grafana/zulip_alert_values_v11.json": "grafana",
    "zabbix/zulip_zabbix_alert.json": None,
    "zabbix/media_type_params_example.CONSTRUCTED.json": None,
    "slack/zulip_event_callback_message.json": None,
    "msteams/outgoing_webhook_request.CONSTRUCTED.json": None,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("kind", ["alertmanager", "grafana", "generic"])
def test_corpus_payload_accepted_only_by_its_kind(corpus: Path, name: str, kind: str) -> None:
    data = corpus_json(corpus, name)
    if EXPECTED[name] == kind:
        group = p.parse(kind, data)
        assert group.key and group.title and group.alerts
        assert group.status == p.FIRING
    else:
        with pytest.raises(p.PayloadError) as refused:
            p.parse(kind, data)
        assert str(refused.value)


def test_alertmanager_group_reads_title_severity_and_every_alert(corpus: Path) -> None:
    group = p.parse("alertmanager", corpus_json(corpus, "alertmanager/zulip_alert.json"))
    assert group.key == "{}/{}:{}"
    assert group.title == "High CPU core temperature"
    assert group.severity == "critical"
    assert len(group.alerts) == 2
    assert "label host = andromeda" in group.description


def test_old_alertmanager_without_fingerprints_gets_stable_ones(corpus: Path) -> None:
    data = corpus_json(corpus, "alertmanager/prometheus-msteams_prom_post_request.json")
    first, again = p.parse("alertmanager", data), p.parse("alertmanager", data)
    assert first.alerts[0].fingerprint and first.alerts[0].fingerprint == again.alerts[0].fingerprint
    assert first.severity == "warning"
    assert first.idempotency_key() == again.idempotency_key()


def test_grafana_title_and_severity_defaults(corpus: Path) -> None:
    group = p.parse("grafana", corpus_json(corpus, "grafana/zulip_alert_values_v11.json"))
    assert group.title == "High memory usage"  # the common summary annotation
    assert group.severity == ""  # no severity label: the source's "warning" mapping applies


def test_resolved_notification_has_another_idempotency_key(corpus: Path) -> None:
    data = corpus_json(corpus, "alertmanager/zulip_alert.json")
    firing = p.parse("alertmanager", data)
    data["status"] = "resolved"
    for alert in data["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-28T10:00:00Z"
    resolved = p.parse("alertmanager", data)
    assert resolved.status == p.RESOLVED
    assert resolved.idempotency_key() != firing.idempotency_key()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"fingerprint": "x"}, "title"),
        ({"title": "Disk full"}, "fingerprint"),
        ({"title": "Disk full", "key": "k", "status": "exploded"}, "firing"),
        ({"title": "Disk full", "key": "k", "labels": ["a"]}, "labels"),
    ],
)
def test_generic_payload_problems_are_named(data: dict[str, object], reason: str) -> None:
    with pytest.raises(p.PayloadError, match=reason):
        p.parse_generic(data)


def test_generic_severity_aliases() -> None:
    group = p.parse_generic({"title": "Disk full", "key": "srv1-disk", "severity": "Disaster"})
    assert group.severity == "critical"
    assert group.status == p.FIRING


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_body_must_be_a_json_object(body: bytes) -> None:
    with pytest.raises(p.PayloadError):
        p.load_json(body)
