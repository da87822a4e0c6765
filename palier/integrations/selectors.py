"""Reads for integrations: chat apps and their secrets, administration lists."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from palier.integrations.models import AlertDelivery, AlertSource, ChatApp, ChatIdentity
from palier.lib.env import envstr


def get_chat_app(*, kind: str, slug: str) -> ChatApp:
    """The active app behind an endpoint address, or 404."""
    app = ChatApp.objects.filter(kind=kind, slug=slug, is_active=True).first()
    if app is None:
        raise Http404("chat app")
    return app


def chat_secret(app: ChatApp) -> str:
    """The app's secret from its environment variable (or ``NAME_FILE``); "" when unset."""
    return envstr(app.secret_env, "").strip()


def chat_bot_token(app: ChatApp) -> str:
    """The Slack app's bot token from its environment variable; "" when none is configured."""
    return envstr(app.bot_token_env, "").strip() if app.bot_token_env else ""


def messaging_slack_app() -> ChatApp | None:
    """The active Slack app that may post direct messages (it names a bot token), if any."""
    return (
        ChatApp.objects.filter(is_active=True, kind=ChatApp.Kind.SLACK).exclude(bot_token_env="").order_by("pk").first()
    )


def linked_chat_ids(kind: str, user_ids: list[int]) -> dict[int, str]:
    """user id -> their linked chat user id of ``kind`` (links made by an administrator)."""
    rows = ChatIdentity.objects.filter(kind=kind, user_id__in=user_ids, user__is_active=True)
    return dict(rows.order_by("-pk").values_list("user_id", "external_id"))


def notifying_chat_apps() -> QuerySet[ChatApp]:
    """The active apps that have a channel to notify, by name."""
    return ChatApp.objects.filter(is_active=True).exclude(notify_url="").order_by("name")


def alert_sources_for_admin() -> list[AlertSource]:
    return list(AlertSource.objects.select_related("user", "group", "category"))


def get_alert_source_for_admin(source_id: int) -> AlertSource:
    source = AlertSource.objects.filter(pk=source_id).first()
    if source is None:
        raise Http404("alert source")
    return source


def recent_deliveries(*, limit: int = 20) -> list[AlertDelivery]:
    return list(AlertDelivery.objects.select_related("source", "ticket").defer("body")[:limit])


def chat_apps_for_admin() -> list[ChatApp]:
    return list(ChatApp.objects.select_related("group"))


def get_chat_app_for_admin(app_id: int) -> ChatApp:
    app = ChatApp.objects.filter(pk=app_id).first()
    if app is None:
        raise Http404("chat app")
    return app


def identities_for_admin() -> list[ChatIdentity]:
    return list(ChatIdentity.objects.select_related("user"))


def get_identity_for_admin(identity_id: int) -> ChatIdentity:
    identity = ChatIdentity.objects.filter(pk=identity_id).first()
    if identity is None:
        raise Http404("chat identity")
    return identity


# --- the API's keyset lists ------------------------------------------------------------------------


def alert_sources() -> QuerySet[AlertSource]:
    return AlertSource.objects.all()


def chat_apps() -> QuerySet[ChatApp]:
    return ChatApp.objects.all()


def chat_identities(*, kind: str = "", user_id: int | None = None) -> QuerySet[ChatIdentity]:
    rows = ChatIdentity.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    return rows.filter(user_id=user_id) if user_id is not None else rows
