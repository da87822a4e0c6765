"""Reads of the reports app: the ticket rows an export writes, and the export jobs.

Ticket rows go through ``tickets.selectors.tickets_matching`` (the viewer's visibility and the
queue's filters), read by id in keyset chunks of plain tuples (``values_list``): one query per
chunk, never a query per ticket, and never more than one chunk in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.http import Http404
from django.utils.dateparse import parse_datetime

from palier.people.models import User
from palier.reports.models import ExportJob
from palier.tickets.selectors import TicketFilters, tickets_matching

CHUNK = 2_000

# the columns read for each exported ticket, in this order (see exports.TICKET_COLUMNS)
ROW_FIELDS = (
    "id",
    "kind",
    "number",
    "subject",
    "status",
    "priority",
    "category__name_en",
    "category__name_fr",
    "group__name",
    "group__level",
    "assignee__full_name",
    "assignee__email",
    "requester__full_name",
    "requester__email",
    "organisation__name",
    "channel",
    "created_at",
    "first_response_at",
    "resolved_at",
    "sla_due_at",
)

TicketRow = tuple[Any, ...]


def export_rows(viewer: User, *, filters: TicketFilters, chunk: int = CHUNK) -> Iterator[list[TicketRow]]:
    """The tickets ``viewer`` may open that match ``filters``, oldest first, ``chunk`` rows at a
    time (keyset on the id: each chunk is one indexed query, whatever the offset)."""
    qs = tickets_matching(viewer, filters=filters).order_by("id").values_list(*ROW_FIELDS)
    last = 0
    while True:
        rows = list(qs.filter(id__gt=last)[:chunk])
        if not rows:
            return
        yield rows
        if len(rows) < chunk:
            return
        last = rows[-1][0]


def export_count(viewer: User, *, filters: TicketFilters, cap: int | None = None) -> int:
    """How many tickets an export would write (counting at most ``cap`` when given)."""
    qs = tickets_matching(viewer, filters=filters).order_by()
    return qs[:cap].count() if cap is not None else qs.count()


def filters_to_json(filters: TicketFilters) -> dict[str, Any]:
    out = asdict(filters)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
    return out


def filters_from_json(data: dict[str, Any]) -> TicketFilters:
    known = {f.name for f in fields(TicketFilters)}
    values = {k: v for k, v in data.items() if k in known}
    for key in ("created_after", "created_before"):
        if isinstance(values.get(key), str):
            values[key] = parse_datetime(values[key])
    return TicketFilters(**values)


def get_export_job_for(user: User, job_id: int) -> ExportJob:
    """The export job ``user`` owns, or 404 (someone else's job does not exist for them)."""
    job = ExportJob.objects.filter(pk=job_id, owner_id=user.pk).first()
    if job is None or not user.is_active:
        raise Http404("export")
    return job


def get_export_job(job_id: int) -> ExportJob | None:
    """The job a worker runs (no owner check: the task only gets ids Palier queued)."""
    return ExportJob.objects.select_related("owner").filter(pk=job_id).first()


def viewer_zone(user: User) -> ZoneInfo:
    """The time zone a person reads dates in: their working time zone, else the desk's."""
    try:
        return ZoneInfo(user.work_time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def old_export_jobs(*, before: datetime) -> list[ExportJob]:
    """Export jobs created before ``before`` (the housekeeping removes them and their files)."""
    return list(ExportJob.objects.filter(created_at__lt=before).order_by("id")[:1_000])
