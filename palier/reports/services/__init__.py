"""Writes of the reports app, split by what they write:

- ``scheduled.py``: scheduled summaries and exports (docs/reports-subscriptions.md):
  ``subscribe``, ``change_subscription``, ``unsubscribe``, ``run_subscription``,
  ``run_due_subscriptions``;
- ``export_jobs.py``: background ticket exports (docs/reports-exports.md): ``queue_export``,
  ``check_export_size``, ``run_export``, ``prune_exports``, ``recover_stalled_exports``;
  ``record_export`` (the audit log's trace of every export).

The figures themselves are reads (``metrics/``); nothing here writes another app's rows.
"""

from palier.reports.services.export_jobs import (
    KEEP_DAYS,
    check_export_size,
    prune_exports,
    queue_export,
    record_export,
    recover_stalled_exports,
    run_export,
)
from palier.reports.services.scheduled import (
    BATCH,
    change_subscription,
    run_due_subscriptions,
    run_subscription,
    subscribe,
    unsubscribe,
)

__all__ = [
    "BATCH",
    "KEEP_DAYS",
    "change_subscription",
    "check_export_size",
    "prune_exports",
    "queue_export",
    "record_export",
    "recover_stalled_exports",
    "run_due_subscriptions",
    "run_export",
    "run_subscription",
    "subscribe",
    "unsubscribe",
]
