"""What runs when a ticket changes, and what runs on a clock: the one wiring map of Palier.

Read it top to bottom. Each entry is a dotted path (a string), so this module imports no app and
any app may be named here; ``wire()`` resolves the paths once every app is loaded
(``PalierConfig.ready()`` in ``palier/apps.py``) and registers them with the three mechanisms that run them:

1. **In the ticket services' transaction** (``palier/tickets/hooks.py``), with the ticket rows
   locked, in the order listed. A hook that raises aborts the whole change. Every hook here takes
   the batch form: ``before_open(pairs)`` where ``pairs`` is a list of ``(ticket, draft)`` (the
   tickets are built, not saved), ``after_open(tickets)`` (saved with their ``created`` event),
   ``assign(ticket, by=)`` (give a ticket just moved to a group to one of its members),
   ``after_change(ticket, old)`` (``old`` maps each changed field to its previous value).
2. **After commit**, consumers of the ticket event stream (``palier/tickets/stream.py``): each
   name has its own cursor and receives every committed ``TicketEvent`` once, in id order, in a
   background job. Handlers are idempotent per event.
3. **Periodic jobs** (``palier/lib/schedule.py``): ``palier scheduler`` enqueues each task on its
   interval (seconds); workers run it. Every job is idempotent.

Nothing else reacts to a domain change: no Django signal, no ``save()`` override. The one signal
receiver left is no domain reaction: ``TicketsConfig`` connects a ``post_migrate`` handler that
gives each stream consumer below its cursor at the end of the stream (``stream.ensure_cursors``),
so a consumer added to an existing desk does not replay its history.
"""

from __future__ import annotations

from typing import Any

# --- 1. in the ticket services' transaction, in run order -------------------------------------------

BEFORE_OPEN: tuple[str, ...] = (
    "palier.routing.services.placement.place_new_tickets",  # group, category, priority, tags, assignee
    "palier.sla.services.engine.tickets_placed",  # plan the SLA clocks of the placed tickets (reads only)
)
AFTER_OPEN: tuple[str, ...] = (
    "palier.sla.services.engine.tickets_opened",  # write the planned SLA clocks
)
ASSIGN: tuple[str, ...] = (
    # move_to_group(..., auto_assign=True) on an unassigned open ticket: routing's strategies
    "palier.routing.services.assignment.assign_in_group",
)
# a ticket about to be resolved (transition_ticket, before any write): a guard raises to refuse
BEFORE_RESOLVE: tuple[str, ...] = (
    "palier.worklist.services.tasks.before_resolve",  # no resolution while a mandatory task is open
)
AFTER_CHANGE: tuple[str, ...] = (
    "palier.sla.services.engine.ticket_changed",  # pause, resume, stop or re-target the clocks
    "palier.catalog.services.fulfilment.on_ticket_change",  # a finished task moves its catalog request on
)

# --- 2. after commit: consumers of the ticket event stream (name -> handler(events)) ----------------

STREAM_CONSUMERS: dict[str, str] = {
    "notifications": "palier.notifications.consumer.handle_events",  # in-app and email notifications
    "automation": "palier.automation.services.engine.consume",  # the admins' automation rules
    "surveys": "palier.surveys.consumer.handle_events",  # the satisfaction survey email on resolution
    "reports": "palier.reports.facts.consume",  # the per-ticket facts the dashboards read
    "webhooks": "palier.webhooks.services.delivery.consume",  # deliveries to the webhook subscriptions
    # the requester answered: their ticket's scheduled replies and reminders are cancelled
    "worklist": "palier.worklist.services.scheduling.handle_events",
    # the requester told in Teams (personal chat with the bot): replies, status, resolution to confirm
    "teams": "palier.teamsbot.notify.handle_events",
}

# --- 3. periodic jobs: (name, every seconds, task) --------------------------------------------------

PERIODIC_JOBS: tuple[tuple[str, int, str], ...] = (
    ("close-resolved-tickets", 900, "palier.tickets.tasks.close_resolved_tickets_task"),
    # safety net: commits queue a pump themselves; this catches up after a queue outage or a gap
    ("event-stream", 10, "palier.tickets.tasks.pump_stream_task"),
    ("email-send-pending", 30, "palier.notifications.tasks.send_pending_emails_task"),
    ("sla-sweep", 30, "palier.sla.tasks.sla_sweep_task"),
    ("mail-poll", 15, "palier.mail.tasks.poll_mailboxes_task"),
    ("mail-process-pending", 300, "palier.mail.tasks.process_pending_task"),
    ("mail-raw-retention", 6 * 3600, "palier.mail.tasks.purge_raw_messages_task"),  # PALIER_MAIL_RAW_RETENTION_DAYS
    ("automation", 60, "palier.automation.tasks.automation_tick_task"),
    ("housekeeping", 6 * 3600, "palier.system.tasks.housekeeping_task"),
    ("reports-subscriptions", 300, "palier.reports.tasks.run_report_subscriptions_task"),
    ("reports-exports-prune", 6 * 3600, "palier.reports.tasks.prune_exports_task"),  # files older than 7 days
    ("reports-exports-recover", 300, "palier.reports.tasks.recover_exports_task"),  # a worker died mid-export
    # an existing desk's tickets get their facts, a chunk per run (nothing to do once built)
    ("reports-facts", 60, "palier.reports.tasks.backfill_facts_task"),
    ("audit-prune", 6 * 3600, "palier.audit.tasks.prune_audit_task"),  # events older than PALIER_AUDIT_DAYS
    # a backup into PALIER_BACKUP_DIR when the last scheduled one is a day old, then the retention
    ("backup", 3600, "palier.backups.tasks.scheduled_backup_task"),
    # people, organisations and group memberships from the LDAP / Active Directory providers
    ("directory-sync", 3600, "palier.identity.tasks.directory_sync_task"),
    # administrators' data exports older than 7 days (rows and archives); a run whose worker died
    ("data-exports-prune", 6 * 3600, "palier.dataexport.tasks.prune_data_exports_task"),
    # outbox items due again (failed notifications, webhooks), or left by a worker that died
    ("outbox", 30, "palier.core.tasks.run_outbox_task"),
    # warranties and licences ending soon: one reminder to the owner group per asset and end day
    ("assets-reminders", 24 * 3600, "palier.assets.tasks.asset_reminders_task"),
    # inventory reports past PALIER_INVENTORY_RAW_DAYS (applied) or 90 days (rejected, held)
    ("inventory-reports-prune", 6 * 3600, "palier.assets.inventory.tasks.prune_inventory_reports_task"),
    # approvers still pending after the catalog item's or ChangeSettings' remind_after_hours: one reminder each
    ("approvals-remind", 900, "palier.catalog.tasks.remind_approvals_task"),
    # webhook deliveries due again or left by a worker that died; delivered ones past 30 days pruned
    ("webhooks", 10, "palier.webhooks.tasks.webhooks_task"),
    # scheduled replies and reminders due now: each posted or notified exactly once
    ("worklist-due", 60, "palier.worklist.tasks.run_due_task"),
)

# --- 3b. the outbox (palier/core/outbox.py): kind -> handler(payload), run after commit, retried ---

OUTBOX_HANDLERS: dict[str, str] = {
    "notifications.event": "palier.notifications.consumer.retry_event",  # an event whose handling failed
    "automation.webhook": "palier.automation.services.webhooks.deliver",  # a rule's signed webhook
    # a major incident's update emailed to its many subscribers, a chunk at a time
    "problems.major_update": "palier.problems.services.major.send_update_emails",
    # resolving a problem: reply on (and resolve) one of its open incidents, exactly once
    "problems.incident_resolved": "palier.problems.services.resolution.incident_resolved",
    # an approval request sent to an approver linked to Slack, as a direct message with buttons
    "chat.approval_request": "palier.changes.chat_approvals.send_request",
    # an activity the Teams bot sends (a reply, a card, a notification) or an answered card replaced
    "teams.send": "palier.teamsbot.connector.deliver",
    # a problem's or a change's history event that active rules wait for: run them, once per rule
    "automation.subject_event": "palier.automation.services.subject_engine.handle",
}


# --- 4. providers: a lower app asks a higher one, without importing it -----------------------------

# what a requester may expect of a new ticket, in plain words (the acknowledgement email)
REQUESTER_EXPECTATION = "palier.sla.selectors.requester_expectation"
# who hears that a mailbox keeps failing (called with the Mailbox, in the failing poll's transaction)
MAILBOX_FAILING: tuple[str, ...] = ("palier.notifications.alerts.mailbox_failing",)
# what ``palier rotate-secrets`` (a mail command) re-encrypts besides the mailboxes: each returns
# (how many rewritten, what no known key opens)
SECRET_HOLDERS: tuple[str, ...] = (
    "palier.identity.secrets.rotate",
    "palier.assets.secrets.rotate",
    "palier.webhooks.secrets.rotate",
)
# why a support group cannot be deleted yet (people.services.delete_group): each is called with the
# group's id and returns a sentence, or "" when it does not need the group
GROUP_IN_USE: tuple[str, ...] = (
    "palier.tickets.selectors.group_usage",
    "palier.routing.selectors.group_usage",
    "palier.sla.selectors.group_usage",
    "palier.automation.selectors.group_usage",
    "palier.problems.selectors.group_usage",
    "palier.changes.board_selectors.group_usage",
)


# what happens around a change's record (palier/changes/services): each called with the change,
# in the service's transaction
# after its window, status or assets changed: the calendar's footprint of the change
CHANGE_AFTER_SAVE: tuple[str, ...] = ("palier.changes.footprint.refresh",)
# when it enters "awaiting approval": the board's approval, through the catalog's approval engine
CHANGE_AWAITING_APPROVAL: tuple[str, ...] = ("palier.changes.approvals.start",)
# when it leaves "awaiting approval" (sent back to assessment, cancelled, decided): withdraw what is still asked
CHANGE_LEAVE_APPROVAL: tuple[str, ...] = ("palier.changes.approvals.withdraw",)
# the subjects the catalog's approval engine serves besides catalog requests: kind -> adapter
# (palier/catalog/services/approvals.py, ``Subject``)
APPROVAL_SUBJECTS: dict[str, str] = {"change": "palier.changes.approvals.SUBJECT"}
# new approvals of the approval engine (any subject), in the asking transaction: who else tells the approvers
APPROVAL_ASKED: tuple[str, ...] = ("palier.changes.chat_approvals.asked", "palier.teamsbot.notify.approvals_asked")
# who answers the chats' approval commands and buttons (palier/integrations/services/chat.py)
CHAT_APPROVALS: tuple[str, ...] = ("palier.changes.chat_approvals.handle",)
# each new event of a problem's or a change's history (problems/history.py, changes/history.py),
# in the recording transaction: who reacts to it (record work for after commit; never fail it)
PROBLEM_EVENT_RECORDED: tuple[str, ...] = (
    "palier.automation.services.subject_engine.problem_event_recorded",  # rules on problems (outbox)
    "palier.webhooks.services.delivery.problem_event_recorded",  # deliveries to the webhook subscriptions
)
CHANGE_EVENT_RECORDED: tuple[str, ...] = (
    "palier.automation.services.subject_engine.change_event_recorded",  # rules on changes (outbox)
    "palier.webhooks.services.delivery.change_event_recorded",  # deliveries to the webhook subscriptions
)


# --- 5. Django's sign-in signals: the audit of sign-ins, failures and sign-outs ---------------------

AUTH_SIGNALS: dict[str, str] = {
    "user_logged_in": "palier.people.signin.signed_in",
    "user_login_failed": "palier.people.signin.sign_in_failed",
    "user_logged_out": "palier.people.signin.signed_out",
}
# after the audit above: what a new session must still do (the second factor, identity/mfa/flow.py)
SIGN_IN_STEPS: list[str] = ["palier.identity.mfa.flow.on_sign_in"]


# --- 6. django-tasks' signals: the request id of a run, the count of task runs --------------------------

TASK_SIGNALS: dict[str, tuple[str, ...]] = {
    "task_started": ("palier.lib.taskcontext.task_started",),  # restore the enqueuing request's id
    "task_finished": ("palier.lib.taskcontext.task_finished", "palier.ops.metrics.task_finished"),
}


# --- the loader ---------------------------------------------------------------------------------------


def resolve(path: str) -> Any:
    """The object a dotted path names (imported on first use)."""
    from django.utils.module_loading import import_string

    return import_string(path)


def _wire_ticket_hooks() -> None:
    from palier.tickets import hooks

    for path in BEFORE_OPEN:
        hooks.register(before_many=resolve(path))
    for path in AFTER_OPEN:
        hooks.register(opened_many=resolve(path))
    for path in ASSIGN:
        hooks.register(assign=resolve(path))
    for path in BEFORE_RESOLVE:
        hooks.register(before_resolve=resolve(path))
    for path in AFTER_CHANGE:
        hooks.register(changed=resolve(path))


def wire() -> None:
    """Register every entry above with the hooks, the stream and the scheduler (once all apps are
    loaded; registering again changes nothing)."""
    from django.contrib.auth import signals as auth_signals
    from django_tasks import signals as task_signals

    from palier.catalog.services import approvals as approval_engine
    from palier.changes import history as change_history
    from palier.changes import services as change_services
    from palier.core import outbox
    from palier.integrations.services import chat
    from palier.lib import schedule
    from palier.mail import health
    from palier.mail import secrets as mail_secrets
    from palier.notifications import consumer
    from palier.people import services as people_services
    from palier.problems import history as problem_history
    from palier.tickets import stream

    _wire_ticket_hooks()
    for name, path in STREAM_CONSUMERS.items():
        stream.subscribe(name, resolve(path))
    for name, seconds, path in PERIODIC_JOBS:
        schedule.register(name, seconds=seconds, enqueue=resolve(path).enqueue)
    for kind, path in OUTBOX_HANDLERS.items():
        outbox.register(kind, resolve(path))
    consumer.expectation_provider[:] = [resolve(REQUESTER_EXPECTATION)]
    health.failing_listeners[:] = [resolve(path) for path in MAILBOX_FAILING]
    mail_secrets.holders[:] = [resolve(path) for path in SECRET_HOLDERS]
    people_services.group_users[:] = [resolve(path) for path in GROUP_IN_USE]
    change_services.AFTER_SAVE[:] = [resolve(path) for path in CHANGE_AFTER_SAVE]
    change_services.ON_AWAITING_APPROVAL[:] = [resolve(path) for path in CHANGE_AWAITING_APPROVAL]
    change_services.ON_LEAVE_APPROVAL[:] = [resolve(path) for path in CHANGE_LEAVE_APPROVAL]
    approval_engine.ON_ASKED[:] = [resolve(path) for path in APPROVAL_ASKED]
    chat.approval_handlers[:] = [resolve(path) for path in CHAT_APPROVALS]
    problem_history.ON_RECORDED[:] = [resolve(path) for path in PROBLEM_EVENT_RECORDED]
    change_history.ON_RECORDED[:] = [resolve(path) for path in CHANGE_EVENT_RECORDED]
    approval_engine.SUBJECTS.clear()
    approval_engine.SUBJECTS.update({kind: resolve(path) for kind, path in APPROVAL_SUBJECTS.items()})
    for name, path in AUTH_SIGNALS.items():
        getattr(auth_signals, name).connect(resolve(path), dispatch_uid=f"palier:{name}")
    for path in SIGN_IN_STEPS:
        auth_signals.user_logged_in.connect(resolve(path), dispatch_uid=f"palier:sign-in:{path}")
    for name, paths in TASK_SIGNALS.items():
        for path in paths:
            getattr(task_signals, name).connect(resolve(path), dispatch_uid=f"palier:{path}")
