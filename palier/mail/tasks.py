"""Background tasks of the mail intake: ids in, idempotent, a service call and nothing else."""

from __future__ import annotations

from django_tasks import task

from palier.mail import imap, services


@task()
def poll_mailboxes_task() -> int:
    """Fetch the IMAP mailboxes whose polling interval elapsed (periodic)."""
    return imap.poll_due_mailboxes()


@task()
def process_pending_task() -> int:
    """Process stored messages a crashed worker left unprocessed (periodic)."""
    return imap.process_pending()


@task()
def process_message_task(inbound_id: int) -> str:
    return str(services.process(inbound_id).state)


@task()
def process_messages_task(inbound_ids: list[int]) -> int:
    """Process a batch of fetched messages in arrival order; returns how many ended processed."""
    return sum(services.process(pk).state == "processed" for pk in inbound_ids)


@task()
def purge_raw_messages_task() -> int:
    """Blank raw message bytes past the retention period (periodic)."""
    return services.purge_raw_messages()
