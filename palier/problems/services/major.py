"""Writes on major incidents (docs/problems.md, "Major incidents"): declare an incident major,
publish status notes and messages to the people affected, attach the incidents reporting the same
outage, subscribe, end the outage and write its review.

Each runs in one transaction. The emails to subscribers are rendered in each one's language and
queued with one key per update, so a retry (of the service's caller or of the outbox item) sends
nobody the same update twice; many subscribers are written by an outbox item after commit
(``send_update_emails``, wired in ``palier/events.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.core import outbox
from palier.lib.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, StaleVersion
from palier.lib.text import normalise
from palier.notifications import email as mail
from palier.people.models import User
from palier.problems import permissions
from palier.problems.models import MajorIncident, MajorIncidentLink, MajorIncidentSubscriber, MajorIncidentUpdate
from palier.tickets import history as ticket_history
from palier.tickets import permissions as ticket_permissions
from palier.tickets import rules as ticket_rules
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.services import record_reply, transition_ticket

MAX_HEADLINE = 200
MAX_TEXT = 20_000
INLINE_EMAILS = 50  # up to this many subscribers are written in the publishing transaction
EMAIL_CHUNK = 500  # subscribers rendered and stored per batch by the outbox handler
OUTBOX_KIND = "problems.major_update"
EMAIL_TEMPLATE = "problems/email/major_update"
REVIEW_FIELDS: tuple[str, ...] = (
    "review_summary",
    "review_impact",
    "review_root_cause",
    "review_actions",
    "review_lessons",
)
ENDED = (Ticket.Status.CLOSED, Ticket.Status.CANCELLED)
C = MajorIncidentUpdate.Channel


def _require(by: User | None, action: permissions.Action) -> User:
    if not permissions.can(by, action):
        if action in ("declare_major", "publish"):
            raise PermissionDenied(_("Only managers and administrators may do this with a major incident."))
        raise PermissionDenied(_("You may not do this with major incidents."))
    assert by is not None
    return by


def _text(value: str, *, field: str, maximum: int, required: bool, missing: str = "") -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError({field: missing or _("This field is required.")})
    if len(text) > maximum:
        raise ValidationError({field: _("At most %(n)d characters.") % {"n": maximum}})
    return text


def search_text_of(major: MajorIncident) -> str:
    """What the portal's "known outage" matching reads: the public words only."""
    return normalise(f"{major.headline} {major.status_note}".strip())


def _lock(major: MajorIncident, version: int | None = None) -> MajorIncident:
    locked = MajorIncident.objects.select_for_update().select_related("ticket").get(pk=major.pk)
    if version is not None and locked.version != version:
        raise StaleVersion(
            _(
                "The major incident was changed by someone else (version %(now)d, you saw %(seen)d). "
                "Reload it and try again."
            )
            % {"now": locked.version, "seen": version}
        )
    return locked


def _save(major: MajorIncident, fields: Sequence[str]) -> None:
    major.version += 1
    major.search_text = search_text_of(major)
    major.save(update_fields=[*fields, "version", "search_text"])


def _event(ticket: Ticket, major: MajorIncident, action: str, *, by: User | None) -> TicketEvent:
    return ticket_history.build(
        ticket, TicketEvent.Kind.MAJOR, by=by, internal=True, reference=major.ticket.reference, action=action,
        major=major.pk,
    )  # fmt: skip


def _subscribe_ids(major: MajorIncident, user_ids: Sequence[int]) -> None:
    rows = [MajorIncidentSubscriber(major=major, user_id=pk) for pk in sorted(set(user_ids)) if pk]
    MajorIncidentSubscriber.objects.bulk_create(rows, ignore_conflicts=True)


def _active(major: MajorIncident) -> None:
    if major.state != MajorIncident.State.ACTIVE:
        raise IllegalTransition(_("This major incident has ended."))


# --- declaring --------------------------------------------------------------------------------------


@transaction.atomic
def declare_major(ticket: Ticket, *, by: User | None, headline: str, status_note: str = "") -> MajorIncident:
    """Declare an open incident major: its page, its public status note (shown on the portal),
    its requester subscribed. Managers and administrators only; once per incident."""
    user = _require(by, "declare_major")
    headline = _text(headline, field="headline", maximum=MAX_HEADLINE, required=True,
                     missing=_("Write a headline: what people affected will read."))  # fmt: skip
    status_note = _text(status_note, field="status_note", maximum=MAX_TEXT, required=False)
    if not ticket_permissions.can_see(user, ticket):
        raise NotFound(_("This ticket does not exist or you may not see it."))
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.kind != Ticket.Kind.INCIDENT:
        raise ValidationError({"ticket": _("Only an incident can be declared major, not a request.")})
    if locked.status in ENDED:
        raise IllegalTransition(_("This incident is closed; open a new one to declare a major incident."))
    if MajorIncident.objects.filter(ticket=locked).exists():
        raise Conflict(_("This incident is already a major incident."))
    if MajorIncidentLink.objects.filter(ticket=locked).exists():
        raise Conflict(_("This incident is attached to a major incident; detach it first."))
    now = timezone.now()
    major = MajorIncident(
        ticket=locked, headline=headline, status_note=status_note, declared_by=user, declared_at=now,
        note_updated_at=now,
    )  # fmt: skip
    major.search_text = search_text_of(major)
    major.save()
    _subscribe_ids(major, [locked.requester_id])
    ticket_history.record_many([_event(locked, major, "declared", by=user)])
    if status_note:
        MajorIncidentUpdate.objects.create(major=major, author=user, channel=C.PORTAL, message=status_note, at=now)
    return major


# --- the communication log ----------------------------------------------------------------------------


@transaction.atomic
def publish_update(
    major: MajorIncident,
    *,
    by: User | None,
    message: str,
    portal: bool = True,
    email: bool = True,
    internal: bool = False,
) -> list[MajorIncidentUpdate]:
    """Add to the communication log. ``portal``: the message becomes the public status note;
    ``email``: every subscriber receives it in their language; ``internal``: a note for the desk
    only (never with the other two). Publishing is for managers and administrators; any agent may
    write an internal note. Returns one update per channel."""
    if internal and (portal or email):
        raise ValidationError(
            {"internal": _("An internal note is not published; choose the portal and email or none.")}
        )
    if not (internal or portal or email):
        raise ValidationError({"message": _("Choose where to publish: the portal, email, or an internal note.")})
    user = _require(by, "edit" if internal else "publish")
    message = _text(message, field="message", maximum=MAX_TEXT, required=True, missing=_("Write the message first."))
    locked = _lock(major)
    if not internal:
        _active(locked)
    now = timezone.now()
    updates: list[MajorIncidentUpdate] = []
    if internal:
        updates.append(_log(locked, user, C.INTERNAL, message, now))
    if portal:
        locked.status_note = message
        locked.note_updated_at = now
        _save(locked, ["status_note", "note_updated_at"])
        updates.append(_log(locked, user, C.PORTAL, message, now))
    if email:
        count = MajorIncidentSubscriber.objects.filter(major=locked).count()
        updates.append(_log(locked, user, C.EMAIL, message, now, recipients=count))
    if email:
        _send(updates[-1], locked, inline=updates[-1].recipients <= INLINE_EMAILS)
    return updates


def _log(
    major: MajorIncident, author: User, channel: str, message: str, at: datetime, *, recipients: int = 0
) -> MajorIncidentUpdate:
    return MajorIncidentUpdate.objects.create(
        major=major, author=author, channel=channel, message=message, at=at, recipients=recipients
    )


def _send(update: MajorIncidentUpdate, major: MajorIncident, *, inline: bool) -> None:
    if inline:
        users = list(User.objects.filter(pk__in=MajorIncidentSubscriber.objects.filter(major=major).values("user_id")))
        _queue(update, major, users)
    else:
        outbox.add(OUTBOX_KIND, key=f"major-update:{update.pk}", payload={"update": update.pk})


def _queue(update: MajorIncidentUpdate, major: MajorIncident, users: list[User]) -> int:
    """Queue the update's email to ``users``: one key per update, so each (update, address) row is
    written once whatever the retries."""
    context: dict[str, Any] = {
        "major": major,
        "update": update,
        "outage_url": mail.base_url() + _outage_path(major),
        "resolved": major.state == MajorIncident.State.RESOLVED,
    }
    return mail.queue_templated(to=users, template=EMAIL_TEMPLATE, context=context, key=f"major-update:{update.pk}")


def _outage_path(major: MajorIncident) -> str:
    from django.urls import reverse

    return reverse("outages:detail", args=[major.pk])


def send_update_emails(payload: dict[str, Any]) -> None:
    """The outbox handler: email an update to every subscriber, a chunk at a time. Idempotent:
    the rows already written under the update's key are skipped."""
    update = (
        MajorIncidentUpdate.objects.select_related("major", "major__ticket")
        .filter(pk=int(payload.get("update") or 0))
        .first()
    )
    if update is None:
        raise outbox.Permanent("the update no longer exists")
    subscribers = MajorIncidentSubscriber.objects.filter(major=update.major).order_by("pk")
    after = 0
    while True:
        chunk = list(subscribers.filter(pk__gt=after).select_related("user")[:EMAIL_CHUNK])
        if not chunk:
            return
        with transaction.atomic():
            _queue(update, update.major, [row.user for row in chunk])
        after = chunk[-1].pk


# --- attached incidents ---------------------------------------------------------------------------------


@transaction.atomic
def attach_incident(major: MajorIncident, ticket: Ticket, *, by: User | None) -> MajorIncidentLink:
    """Attach a ticket reporting the same outage: its requester is subscribed and told with the
    others. Any agent, on a ticket they may see."""
    user = _require(by, "edit")
    if not ticket_permissions.can_see(user, ticket):
        raise NotFound(_("This ticket does not exist or you may not see it."))
    locked = _lock(major)
    _active(locked)
    if ticket.pk == locked.ticket_id:
        raise ValidationError({"ticket": _("This is the major incident's own ticket.")})
    if ticket.status in ENDED:
        raise IllegalTransition(_("This ticket is closed; it cannot be attached."))
    if MajorIncident.objects.filter(ticket_id=ticket.pk).exists():
        raise Conflict(_("This ticket is itself a major incident."))
    existing = MajorIncidentLink.objects.filter(ticket_id=ticket.pk).select_related("major__ticket").first()
    if existing is not None:
        if existing.major_id == locked.pk:
            return existing
        raise Conflict(
            _("This ticket is already attached to the major incident %(ref)s.")
            % {"ref": existing.major.ticket.reference}
        )
    link = MajorIncidentLink.objects.create(major=locked, ticket=ticket, linked_by=user)
    _subscribe_ids(locked, [ticket.requester_id])
    ticket_history.record_many([_event(ticket, locked, "attached", by=user)])
    return link


@transaction.atomic
def detach_incident(major: MajorIncident, ticket: Ticket, *, by: User | None) -> bool:
    """Remove an attached ticket (its requester stays subscribed). Returns whether it was attached."""
    user = _require(by, "edit")
    if not ticket_permissions.can_see(user, ticket):
        raise NotFound(_("This ticket does not exist or you may not see it."))
    locked = _lock(major)
    deleted, _rows = MajorIncidentLink.objects.filter(major=locked, ticket=ticket).delete()
    if deleted:
        ticket_history.record_many([_event(ticket, locked, "detached", by=user)])
    return bool(deleted)


# --- the people affected -----------------------------------------------------------------------------------


def _may_follow(major: MajorIncident, user: User | None) -> User:
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("Sign in to follow this outage."))
    if not major.published and not user.is_agent:
        raise NotFound(_("This outage does not exist."))
    return user


@transaction.atomic
def subscribe(major: MajorIncident, user: User | None) -> bool:
    """Be told about the outage by email. Returns whether the person was new."""
    person = _may_follow(major, user)
    _active(major)
    _row, created = MajorIncidentSubscriber.objects.get_or_create(major=major, user=person)
    return created


@transaction.atomic
def unsubscribe(major: MajorIncident, user: User | None) -> bool:
    person = _may_follow(major, user)
    deleted, _rows = MajorIncidentSubscriber.objects.filter(major=major, user=person).delete()
    return bool(deleted)


@transaction.atomic
def report_affected(major: MajorIncident, user: User | None) -> MajorIncidentSubscriber:
    """The portal's "I am affected too": the person is subscribed and counted, no ticket opened."""
    person = _may_follow(major, user)
    _active(major)
    row, _created = MajorIncidentSubscriber.objects.get_or_create(major=major, user=person)
    if row.affected_at is None:
        row.affected_at = timezone.now()
        row.save(update_fields=["affected_at"])
    return row


# --- the end and the review ------------------------------------------------------------------------------


@transaction.atomic
def resolve_major(
    major: MajorIncident, *, by: User | None, message: str, resolve_attached: bool = False
) -> MajorIncident:
    """End the outage: ``message`` becomes the final status note and is emailed to every
    subscriber. ``resolve_attached``: each attached ticket still open gets ``message`` as a public
    reply and is resolved (one event per ticket). The major incident's own ticket is left to the
    desk."""
    user = _require(by, "publish")
    message = _text(message, field="message", maximum=MAX_TEXT, required=True,
                    missing=_("Write the message people affected will read."))  # fmt: skip
    locked = _lock(major)
    _active(locked)
    now = timezone.now()
    locked.state = MajorIncident.State.RESOLVED
    locked.resolved_at = now
    locked.status_note = message
    locked.note_updated_at = now
    _save(locked, ["state", "resolved_at", "status_note", "note_updated_at"])
    count = MajorIncidentSubscriber.objects.filter(major=locked).count()
    _log(locked, user, C.PORTAL, message, now)
    update = _log(locked, user, C.EMAIL, message, now, recipients=count)
    events = [_event(locked.ticket, locked, "resolved", by=user)]
    if resolve_attached:
        events += _resolve_attached(locked, user=user, message=message)
    ticket_history.record_many(events)
    _send(update, locked, inline=count <= INLINE_EMAILS)
    return locked


def _resolve_attached(major: MajorIncident, *, user: User, message: str) -> list[TicketEvent]:
    tickets = Ticket.objects.filter(major_link__major=major).select_for_update().order_by("pk")
    events: list[TicketEvent] = []
    for ticket in tickets:
        if Ticket.Status.RESOLVED not in ticket_rules.allowed_targets(ticket.status, as_requester=False):
            continue
        record_reply(ticket, author=user, body=message)
        # the major incident's manager resolves them all, whichever group they sit in; a ticket a
        # guard keeps open (a mandatory task still open) gets the reply and stays for its agent
        try:
            with transaction.atomic():
                transition_ticket(ticket, to=Ticket.Status.RESOLVED, by=None)
        except IllegalTransition:
            continue
        events.append(_event(ticket, major, "resolved", by=user))
    return events


@transaction.atomic
def save_review(major: MajorIncident, *, by: User | None, version: int | None, **fields: str) -> MajorIncident:
    """Write the post-incident review, once the outage has ended. ``version`` is the one the
    author saw (None does not check)."""
    user = _require(by, "publish")
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed.")})
    values = {name: _text(value, field=name, maximum=MAX_TEXT, required=False) for name, value in fields.items()}
    locked = _lock(major, version)
    if locked.state != MajorIncident.State.RESOLVED:
        raise IllegalTransition(_("The review is written once the major incident has ended."))
    if not any(values.values()) and not any(getattr(locked, name) for name in REVIEW_FIELDS):
        raise ValidationError({"review_summary": _("Write at least what happened.")})
    for name, value in values.items():
        setattr(locked, name, value)
    locked.reviewed_by = user
    locked.reviewed_at = timezone.now()
    _save(locked, [*values, "reviewed_by", "reviewed_at"])
    return locked
