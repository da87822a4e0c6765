"""Reads for the mail admin pages (admins only: the views are guarded by ``admin_required``)."""

from __future__ import annotations

from django.db.models import QuerySet

from palier.mail.models import InboundMessage, Mailbox


def quarantine(limit: int = 200) -> QuerySet[InboundMessage]:
    return (
        InboundMessage.objects.filter(state=InboundMessage.State.QUARANTINED)
        .select_related("mailbox")
        .defer("raw", "full_text", "reply_text")
        .order_by("-created_at", "-pk")[:limit]
    )


def mailboxes() -> QuerySet[Mailbox]:
    return Mailbox.objects.select_related("target_group").order_by("name")
