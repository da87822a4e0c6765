"""Reply drafts: an agent's unsent reply kept server-side while they type (the ticket page's autosave).

A draft belongs to one agent and one ticket; the caller has already checked that the agent may see
the ticket. Saving an empty text deletes the draft; sending the reply deletes it too.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import PermissionDenied
from palier.people.models import User
from palier.tickets.models import ReplyDraft, Ticket

MAX_DRAFT = 100_000  # the longest reply (services.MAX_BODY)


def save_draft(
    ticket: Ticket, *, user: User, body: str, internal: bool, now: datetime | None = None
) -> ReplyDraft | None:
    """Keep ``user``'s unsent reply on ``ticket`` (replacing the previous one); an empty text
    deletes it and returns None. Too long a text is refused and the previous draft kept."""
    if not user.is_agent:
        raise PermissionDenied(_("Only agents keep reply drafts."))
    body = (body or "").replace("\x00", "")
    if len(body) > MAX_DRAFT:
        raise ValidationError({"body": _("At most %(n)d characters.") % {"n": MAX_DRAFT}})
    if not body.strip():
        discard_draft(ticket, user=user)
        return None
    now = now or timezone.now()
    fields = {"body": body, "is_internal": internal, "updated_at": now}
    if ReplyDraft.objects.filter(ticket=ticket, user=user).update(**fields):
        return ReplyDraft(ticket=ticket, user=user, **fields)
    try:
        with transaction.atomic():
            return ReplyDraft.objects.create(ticket=ticket, user=user, **fields)
    except IntegrityError:  # a concurrent save of the same agent created it first
        ReplyDraft.objects.filter(ticket=ticket, user=user).update(**fields)
        return ReplyDraft(ticket=ticket, user=user, **fields)


def discard_draft(ticket: Ticket, *, user: User) -> None:
    """Forget ``user``'s draft on ``ticket`` (sent, or emptied)."""
    ReplyDraft.objects.filter(ticket=ticket, user=user).delete()
