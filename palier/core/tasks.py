"""Background tasks of the shared machinery: ids in, idempotent."""

from __future__ import annotations

from django_tasks import task

from palier.core import outbox


@task()
def run_outbox_item_task(item_id: int) -> str:
    """One attempt at an outbox item (queued after the commit that added it)."""
    return outbox.run(item_id)


@task()
def run_outbox_task() -> int:
    """Periodic: the outbox items due again, or left by a worker that died."""
    return outbox.run_due()
