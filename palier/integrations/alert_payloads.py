"""Alert payloads -> one ``AlertGroup``. Pure functions, no ORM.

Three shapes: Prometheus Alertmanager (webhook ``version`` "4"), Grafana unified alerting
(``version`` "1", Alertmanager-like) and Palier's generic JSON webhook (see docs/integrations.md).
A payload that is not what the source's kind expects raises ``PayloadError`` with the reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

FIRING = "firing"
RESOLVED = "resolved"
MAX_ALERTS = 200

# normalised severities are the keys of AlertSource.severity_map
SEVERITY_ALIASES = {
    "critical": "critical",
    "crit": "critical",
    "disaster": "critical",
    "emergency": "critical",
    "error": "critical",
    "high": "critical",
    "page": "critical",
    "major": "critical",
    "warning": "warning",
    "warn": "warning",
    "average": "warning",
    "medium": "warning",
    "minor": "warning",
    "info": "info",
    "information": "info",
    "low": "info",
    "none": "info",
    "not classified": "info",
}
_RANK = {"info": 0, "warning": 1, "critical": 2}


class PayloadError(ValueError):
    """The payload cannot be used; ``str()`` is the reason given to the sender."""


@dataclass(frozen=True)
class Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str = ""
    ends_at: str = ""
    fingerprint: str = ""
    url: str = ""


@dataclass(frozen=True)
class AlertGroup:
    key: str
    status: str
    title: str
    severity: str  # normalised, "" when none was given
    labels: dict[str, str] = field(default_factory=dict)
    alerts: tuple[Alert, ...] = ()
    description: str = ""
    url: str = ""

    def idempotency_key(self) -> str:
        """The same notification delivered twice gives the same key; a new firing does not."""
        parts = [self.key, self.status, *(f"{a.fingerprint}|{a.status}|{a.starts_at}|{a.ends_at}" for a in self.alerts)]
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def normalise_severity(raw: object) -> str:
    if not isinstance(raw, str | int):
        return ""
    return SEVERITY_ALIASES.get(str(raw).strip().lower(), "")


def load_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PayloadError("The body must be a JSON object.")
    return data


def parse(kind: str, data: dict[str, Any]) -> AlertGroup:
    if kind == "alertmanager":
        return parse_alertmanager(data)
    if kind == "grafana":
        return parse_grafana(data)
    if kind == "generic":
        return parse_generic(data)
    raise PayloadError(f"Unknown source kind {kind!r}.")


def _strings(value: object, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"“{name}” must be an object of strings.")
    return {str(k): str(v) for k, v in value.items()}


def _status(value: object, name: str = "status") -> str:
    if value not in (FIRING, RESOLVED):
        raise PayloadError(f"“{name}” must be “firing” or “resolved”.")
    return str(value)


def _fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _alert(raw: object, group_status: str) -> Alert:
    if not isinstance(raw, dict):
        raise PayloadError("Each alert must be an object.")
    labels = _strings(raw.get("labels"), "labels")
    status = _status(raw.get("status", group_status), "alerts[].status")
    return Alert(
        status=status,
        labels=labels,
        annotations=_strings(raw.get("annotations"), "annotations"),
        starts_at=str(raw.get("startsAt") or ""),
        ends_at=str(raw.get("endsAt") or ""),
        fingerprint=str(raw.get("fingerprint") or _fingerprint(labels)),
        url=str(raw.get("generatorURL") or ""),
    )


def _alerts(data: dict[str, Any], status: str) -> tuple[Alert, ...]:
    raw = data.get("alerts")
    if not isinstance(raw, list) or not raw:
        raise PayloadError("“alerts” must be a non-empty list.")
    if len(raw) > MAX_ALERTS:
        raise PayloadError(f"At most {MAX_ALERTS} alerts per notification.")
    return tuple(_alert(item, status) for item in raw)


def _worst(alerts: tuple[Alert, ...], common: dict[str, str]) -> str:
    found = [normalise_severity(common.get("severity"))] + [
        normalise_severity(a.labels.get("severity")) for a in alerts
    ]
    found = [s for s in found if s]
    return max(found, key=lambda s: _RANK[s]) if found else ""


def _describe(alerts: tuple[Alert, ...]) -> str:
    """Every alert with its labels and annotations, as plain text for the ticket."""
    blocks = []
    for number, alert in enumerate(alerts, start=1):
        lines = [f"Alert {number} ({alert.status})"]
        if alert.starts_at:
            lines.append(f"  started: {alert.starts_at}")
        if alert.status == RESOLVED and alert.ends_at:
            lines.append(f"  ended: {alert.ends_at}")
        lines += [f"  label {k} = {v}" for k, v in sorted(alert.labels.items())]
        lines += [f"  {k}: {v}" for k, v in sorted(alert.annotations.items())]
        if alert.url:
            lines.append(f"  source: {alert.url}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _alertmanager_like(data: dict[str, Any], *, title: str = "") -> AlertGroup:
    key = data.get("groupKey")
    if not isinstance(key, str) or not key:
        raise PayloadError("“groupKey” is missing.")
    status = _status(data.get("status"))
    alerts = _alerts(data, status)
    common = _strings(data.get("commonLabels"), "commonLabels")
    annotations = _strings(data.get("commonAnnotations"), "commonAnnotations")
    first = alerts[0]
    title = (
        annotations.get("summary")
        or common.get("alertname")
        or title
        or first.annotations.get("summary")
        or first.labels.get("alertname")
        or "Alert"
    )
    extra = f"{len(alerts)} alert(s)"
    if data.get("truncatedAlerts"):
        extra += f", {data['truncatedAlerts']} more not sent"
    return AlertGroup(
        key=key,
        status=status,
        title=title,
        severity=_worst(alerts, common),
        labels=common or dict(first.labels),
        alerts=alerts,
        description=f"{annotations.get('description', '')}\n\n{extra}\n\n{_describe(alerts)}".strip(),
        url=str(data.get("externalURL") or ""),
    )


def parse_alertmanager(data: dict[str, Any]) -> AlertGroup:
    if data.get("version") != "4":
        raise PayloadError("Not an Alertmanager webhook: “version” must be “4”.")
    return _alertmanager_like(data)


def parse_grafana(data: dict[str, Any]) -> AlertGroup:
    if data.get("version") != "1" or "orgId" not in data:
        raise PayloadError("Not a Grafana alerting webhook: “version” must be “1” with an “orgId”.")
    title = str(data.get("title") or "")
    return _alertmanager_like(data, title=title)


def parse_generic(data: dict[str, Any]) -> AlertGroup:
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise PayloadError("“title” is required.")
    key = data.get("fingerprint", data.get("key"))
    if not isinstance(key, str | int) or not str(key).strip():
        raise PayloadError("“fingerprint” (or “key”) is required.")
    status = _status(data.get("status", FIRING))
    labels = _strings(data.get("labels"), "labels")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise PayloadError("“description” must be a string.")
    severity = data.get("severity", labels.get("severity", ""))
    # a repeat with the same body is a retry; a new firing carries its own time or event id
    when = str(data.get("startsAt") or data.get("event_id") or "")
    alert = Alert(status=status, labels=labels, annotations={}, fingerprint=str(key), starts_at=when)
    details = "\n".join(f"label {k} = {v}" for k, v in sorted(labels.items()))
    return AlertGroup(
        key=str(key).strip(),
        status=status,
        title=title.strip(),
        severity=normalise_severity(severity),
        labels=labels,
        alerts=(alert,),
        description=f"{description}\n\n{details}".strip(),
        url=str(data.get("url") or ""),
    )
