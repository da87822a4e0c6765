"""Everyone's own notifications through the API: the in-app notifications (newest first, unread
filter, mark read) and which events reach them by email and in the application
(docs/notifications.md, "API"). Each person reads and changes only their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from palier.api.auth import current_user
from palier.api.pagination import keyset_page
from palier.api.resources import PageQuery
from palier.api.schemas.common import Input
from palier.notifications import selectors, services
from palier.notifications.models import Notification

router = Router()


class TicketBrief(Schema):
    id: int
    reference: str


class NotificationOut(Schema):
    id: int
    kind: str
    label: str
    ticket: TicketBrief | None
    data: dict[str, Any] = Field(description="What the notification is about (reference, title, …), by kind.")
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_label(obj: Notification) -> str:
        return str(obj.get_kind_display())


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None


class NotificationQuery(PageQuery):
    unread: bool = False


class ReadOut(Schema):
    marked: int


class Preference(Schema):
    event: str
    label: str
    email: bool
    in_app: bool
    teams: bool


class PreferenceIn(Input):
    event: str = Field(max_length=40)
    email: bool
    in_app: bool
    teams: bool = True  # Microsoft Teams (the bot's personal chat); on when not sent


class PreferencesIn(Input):
    preferences: list[PreferenceIn] = Field(max_length=50)


@router.get("/notifications", response=NotificationPage, summary="My notifications")
def list_notifications(request: HttpRequest, query: Query[NotificationQuery]) -> dict[str, Any]:
    """Newest first; ``unread=true`` for the unread ones only."""
    rows = selectors.notifications_of(current_user(request), unread=query.unread)
    items, cursor = keyset_page(rows, order=("-id",), cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": cursor}


@router.post("/notifications/{int:notification_id}/read", response=ReadOut, summary="Mark one notification read")
def read_notification(request: HttpRequest, notification_id: int) -> dict[str, int]:
    """Someone else's notification, or one already read, marks nothing (``marked`` 0)."""
    return {"marked": services.mark_read(current_user(request), [notification_id])}


@router.post("/notifications/read-all", response=ReadOut, summary="Mark all my notifications read")
def read_all_notifications(request: HttpRequest) -> dict[str, int]:
    return {"marked": services.mark_read(current_user(request))}


@router.get("/users/me/notification-preferences", response=list[Preference], summary="My notification settings")
def get_preferences(request: HttpRequest) -> list[Any]:
    """Each event offered to you, with its channels (on unless you turned it off)."""
    return selectors.preferences_for(current_user(request))


@router.put("/users/me/notification-preferences", response=list[Preference], summary="Change my notification settings")
def put_preferences(request: HttpRequest, payload: PreferencesIn) -> list[Any]:
    """Send every event you want to set; an event you do not send is switched on for every channel.
    An event not offered to you (an agents' event for a requester) answers 422, nothing changed."""
    user = current_user(request)
    enabled = [
        (row.event, channel)
        for row in payload.preferences
        for channel, on in (("email", row.email), ("in_app", row.in_app), ("teams", row.teams))
        if on
    ]
    sent = {row.event for row in payload.preferences}
    offered = set(selectors.events_for(user))
    enabled += [(event, channel) for event in offered - sent for channel in ("email", "in_app", "teams")]
    services.set_preferences(user, enabled=enabled, events=sent)
    return selectors.preferences_for(user)
