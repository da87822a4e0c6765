"""The intake of one posted inventory document, after the token was checked.

Order: parse (the agent's ``contact`` handshake is answered at once and not stored); store the raw
report (its SHA-256 is unique: the same report twice answers as the first did and changes
nothing); check the item type and the JSON Schema (a failure rejects the report, kept with its
error); apply it in one transaction. Every answer is the JSON the GLPI Agent reads:
``{"status": "ok", "expiration": <hours>}`` or ``{"status": "error", "message": …}``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import Conflict

from ..models import InventoryReport, InventoryToken
from . import apply as applying
from . import body as bodies
from . import extract, schema

logger = logging.getLogger(__name__)

# hours until the agent's next contact (the GLPI server's default "PROLOG_FREQ")
EXPIRATION_HOURS = 24
ACCEPTED_ACTIONS = frozenset({"inventory", "netinventory"})
# a report still "received" after this long was abandoned by the process that stored it
STALE_SECONDS = 120


@dataclass
class Answer:
    status: int
    payload: dict[str, Any] = field(default_factory=dict)
    report: InventoryReport | None = None


def ok(**extra: Any) -> dict[str, Any]:
    return {"status": "ok", "expiration": EXPIRATION_HOURS, **extra}


def error(message: str) -> dict[str, Any]:
    return {"status": "error", "message": message}


def contact(data: dict[str, Any]) -> Answer:
    """The agent's handshake: it may send inventories; every other task is off here."""
    enabled = data.get("enabled-tasks") or data.get("installed-tasks") or []
    disabled = sorted({str(task) for task in enabled if isinstance(task, str)} - {"inventory"})[:50]
    return Answer(200, ok(tasks={"inventory": {"server": "palier", "version": "1"}}, disabled=disabled))


def _store(token: InventoryToken | None, text: bytes, data: dict[str, Any] | None) -> tuple[InventoryReport, bool]:
    """The report row (new, or the one the same body made before)."""
    digest = hashlib.sha256(text).hexdigest()
    values: dict[str, Any] = {"token": token, "body": text, "digest": digest}
    if data is not None:
        values.update(
            device_id=str(data.get("deviceid") or "")[:255],
            item_type=str(data.get("itemtype") or "")[:40],
            partial=data.get("partial") is True,
        )
    try:
        with transaction.atomic():
            return InventoryReport.objects.create(**values), True
    except IntegrityError:
        existing = InventoryReport.objects.filter(digest=digest).first()
        if existing is None:  # the other writer rolled back: store ours
            return InventoryReport.objects.create(**values), True
        return existing, False


def _finish(report: InventoryReport, state: str, *, error_text: str = "", asset_id: int | None = None) -> None:
    report.state, report.error, report.processed_at = state, error_text[:4000], timezone.now()
    report.asset_id = asset_id if asset_id is not None else report.asset_id
    InventoryReport.objects.filter(pk=report.pk).update(
        state=state, error=report.error, processed_at=report.processed_at, asset_id=report.asset_id
    )


def _reject(report: InventoryReport, message: str) -> Answer:
    _finish(report, InventoryReport.State.REJECTED, error_text=message)
    return Answer(400, error(message), report)


def _repeat(report: InventoryReport) -> Answer:
    """The same body again: the first answer, nothing changed."""
    if report.state == InventoryReport.State.REJECTED:
        return Answer(400, error(report.error), report)
    if report.state == InventoryReport.State.HELD and report.asset_id is None:
        return Answer(409, error(report.error), report)
    return Answer(200, ok(message=_("This report was already received.")), report)


def _abandoned(report: InventoryReport) -> bool:
    """Stored, but its processing died (a worker killed mid-way): the agent's retry processes it."""
    return report.state == InventoryReport.State.RECEIVED and report.received_at < timezone.now() - timedelta(
        seconds=STALE_SECONDS
    )


@transaction.atomic
def receive_unreadable(token: InventoryToken | None, raw: bytes, reason: str) -> Answer:
    """A body that could not even be decompressed: kept as received, rejected with the reason."""
    report, new = _store(token, raw, None)
    return _reject(report, reason) if new else _repeat(report)


def problem_of(data: dict[str, Any]) -> str:
    """Why a parsed document cannot be applied, or ""."""
    action = str(data.get("action") or "inventory").lower()
    if action not in ACCEPTED_ACTIONS:
        return _("Palier accepts inventory reports only, not “%(action)s”.") % {"action": action[:40]}
    try:
        extract.itemtype_of(data)
    except extract.UnknownItemType as exc:
        return _("Unknown item type “%(type)s”: Palier takes Computer, Phone, NetworkEquipment and Printer.") % {
            "type": str(exc)
        }
    problem = schema.first_error(data)
    if problem:
        return _("The report does not follow the GLPI inventory format: %(error)s") % {"error": problem}
    return ""


def receive(token: InventoryToken | None, text: bytes) -> Answer:
    """One decompressed document from an authenticated agent."""
    try:
        data: dict[str, Any] | None = bodies.parse(text)
    except bodies.Unreadable as exc:
        data, problem = None, str(exc)
    else:
        assert data is not None
        if str(data.get("action") or "").lower() == "contact":
            return contact(data)
        problem = ""
    with transaction.atomic():  # one commit per report: the raw body, its state, the machine
        report, new = _store(token, text, data)
        if not new and not _abandoned(report):
            return _repeat(report)
        if data is not None:
            problem = problem_of(data)
        if problem or data is None:
            return _reject(report, problem)
        return _apply(report, data, token)


def _apply(report: InventoryReport, data: dict[str, Any], token: InventoryToken | None) -> Answer:
    try:
        outcome = applying.apply(extract.facts(data), token=token, report=report)  # a savepoint
    except applying.MissingType as exc:
        return _reject(report, str(exc))
    except Conflict as exc:
        _finish(report, InventoryReport.State.HELD, error_text=exc.message)
        return Answer(409, error(exc.message), report)
    except Exception:  # a fault of Palier's: the raw report stays, "received", for the agent's retry
        logger.exception("inventory report %s could not be applied", report.pk)
        return Answer(500, error(_("Palier could not apply this report; it is kept for diagnosis.")), report)
    if outcome.held:
        state = InventoryReport.State.HELD
    elif outcome.changed:
        state = InventoryReport.State.APPLIED
    else:
        state = InventoryReport.State.UNCHANGED
    _finish(report, state, error_text=outcome.held, asset_id=outcome.asset.pk)
    return Answer(200, ok(), report)
