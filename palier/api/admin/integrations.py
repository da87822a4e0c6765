"""Integrations, surveys and the email outbox through the API (administrators): alert sources
(the token shown once), Slack and Teams apps (their secrets stay in the environment: only the
variables' names and whether they are set are shown), the chat accounts linked to people, which
organisations are never surveyed, and the outgoing emails with their retry
(docs/integrations.md, docs/surveys.md, docs/notifications.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from palier.api import lookups
from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.resources import PageQuery, Resource, admins_only, mount
from palier.api.schemas.common import Input
from palier.integrations import selectors as integration_selectors
from palier.integrations.models import ChatApp, ChatIdentity
from palier.integrations.services import alerts, chat
from palier.notifications import selectors as notification_selectors
from palier.notifications import services as notification_services
from palier.people.models import User
from palier.surveys import selectors as survey_selectors
from palier.surveys import services as survey_services

router = Router()


def _admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not admins_only(user):
        raise Problem(403, _("Only administrators may manage this through the API."))
    return user


# --- alert sources ------------------------------------------------------------------------------------


class AlertSourceOut(Schema):
    id: int
    name: str
    kind: str
    token_prefix: str = Field(description="The first characters of the token, to recognise it.")
    user: int = Field(validation_alias="user_id")
    group: int | None = Field(validation_alias="group_id")
    category: int | None = Field(validation_alias="category_id")
    auto_resolve: bool
    severity_map: dict[str, Any]
    category_rules: list[dict[str, str]]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class AlertSourceCreated(AlertSourceOut):
    token: str = Field(description="Shown once, now: Palier keeps only its digest.")


class AlertSourceIn(Input):
    name: str = Field(max_length=100)
    kind: Literal["alertmanager", "grafana", "generic"]
    user: int = Field(description="The agent account that writes the incidents' internal notes.")
    group: int | None = None
    category: int | None = None
    auto_resolve: bool = False
    severity_map: dict[str, Any] | None = None
    category_rules: list[dict[str, str]] = Field(default_factory=list, max_length=100)


ALERT_SOURCE = Resource(
    name="alert_source",
    path="/alert-sources",
    tag="integrations",
    about="Monitoring systems sending alerts to /hooks/alerts/ with their bearer token. Deleting one "
    "revokes its token (its incidents and deliveries stay).",
    out=AlertSourceOut,
    listing=lambda user, filters: integration_selectors.alert_sources(),
    fetch=lambda user, pk: integration_selectors.get_alert_source_for_admin(pk),
    delete=lambda user, source: _revoke_source(user, source),
    delete_verb="Revoke",
)


def _revoke_source(user: User, source: Any) -> None:
    alerts.revoke_alert_source(source, by=user)


@router.post(
    "/alert-sources", response={201: AlertSourceCreated}, summary="Register an alert source", tags=["integrations"]
)
def create_alert_source(request: HttpRequest, payload: AlertSourceIn, response: HttpResponse) -> Status[Any]:
    """The new source with its token, shown this once: put it in the monitoring system's settings."""
    by = _admin(request)
    data = payload.model_dump()
    data["user"] = lookups.user_by_id(data["user"])
    if data["group"] is not None:
        data["group"] = lookups.group_by_id(data["group"])
    if data["category"] is not None:
        data["category"] = lookups.category_by_id(data["category"])
    issued = alerts.create_alert_source(by=by, **data)
    source: Any = issued.source
    source.token = issued.token  # on this answer only
    response["Location"] = reverse("api:alert_source_detail", args=[source.pk])
    return Status(201, source)


# --- chat apps and accounts ----------------------------------------------------------------------------


class ChatAppOut(Schema):
    id: int
    kind: str
    name: str
    slug: str
    secret_env: str = Field(description="The environment variable holding the signing secret.")
    secret_set: bool
    bot_token_env: str
    bot_token_set: bool
    bot_app_id: str = Field(description="Teams bot: the Entra ID application id (the Bot Framework endpoint).")
    notify_url: str
    group: int | None = Field(validation_alias="group_id")
    is_active: bool

    @staticmethod
    def resolve_secret_set(obj: ChatApp) -> bool:
        return bool(integration_selectors.chat_secret(obj))

    @staticmethod
    def resolve_bot_token_set(obj: ChatApp) -> bool:
        return bool(integration_selectors.chat_bot_token(obj))


class ChatAppIn(Input):
    kind: Literal["slack", "teams"]
    name: str = Field(max_length=100)
    slug: str = Field(max_length=50)
    secret_env: str = Field(max_length=100)
    bot_token_env: str = Field("", max_length=100)
    bot_app_id: str = Field("", max_length=64)
    notify_url: str = Field("", max_length=500)
    group: int | None = None


class ChatAppPatch(Input):
    is_active: bool


def _create_chat_app(user: User, data: dict[str, Any]) -> ChatApp:
    if data.get("group") is not None:
        data["group"] = lookups.group_by_id(data["group"])
    return chat.create_chat_app(by=user, **data)


CHAT_APP = Resource(
    name="chat_app",
    path="/chat-apps",
    tag="integrations",
    label="chat app",
    about="Slack apps and Teams outgoing webhooks. Their secrets are read from the environment "
    "variables they name; the API shows only whether they are set. PATCH switches one on or off.",
    out=ChatAppOut,
    listing=lambda user, filters: integration_selectors.chat_apps(),
    fetch=lambda user, pk: integration_selectors.get_chat_app_for_admin(pk),
    create_in=ChatAppIn,
    update_in=ChatAppPatch,
    create=_create_chat_app,
    update=lambda user, app, data: chat.set_chat_app_active(app, active=data["is_active"], by=user),
)


class ChatIdentityOut(Schema):
    id: int
    kind: str
    external_id: str
    user: int = Field(validation_alias="user_id")
    created_at: datetime


class ChatIdentityIn(Input):
    kind: Literal["slack", "teams"]
    external_id: str = Field(max_length=100, description="Slack member id (U…) or Teams Entra ID object id.")
    user: int


class ChatIdentityQuery(PageQuery):
    kind: Literal["slack", "teams"] | None = None
    user: int | None = None


def _link(user: User, data: dict[str, Any]) -> ChatIdentity:
    return chat.link_identity(
        kind=data["kind"], external_id=data["external_id"], user=lookups.user_by_id(data["user"]), by=user
    )


CHAT_IDENTITY = Resource(
    name="chat_identity",
    path="/chat-identities",
    tag="integrations",
    label="chat account",
    about="Chat accounts linked to people: who writes from Slack or Teams, and who may decide approvals there.",
    out=ChatIdentityOut,
    query=ChatIdentityQuery,
    listing=lambda user, filters: integration_selectors.chat_identities(
        kind=filters.get("kind") or "", user_id=filters.get("user")
    ),
    fetch=lambda user, pk: integration_selectors.get_identity_for_admin(pk),
    create_in=ChatIdentityIn,
    create=_link,
    delete=lambda user, identity: chat.unlink_identity(identity, by=user),
)


# --- surveys ------------------------------------------------------------------------------------------


class SurveySettingsOut(Schema):
    enabled: bool = Field(description="Whether surveys are sent at all (PALIER_SURVEYS, a setting of the server).")
    opted_out: list[int] = Field(description="The organisations whose requesters are never asked.")


class SurveySettingsIn(Input):
    opted_out: list[int] = Field(max_length=10_000)


@router.get("/survey-settings", response=SurveySettingsOut, summary="Survey settings", tags=["surveys"])
def get_survey_settings(request: HttpRequest) -> dict[str, Any]:
    _admin(request)
    return {"enabled": survey_services.surveys_enabled(), "opted_out": survey_selectors.opted_out_organisation_ids()}


@router.put("/survey-settings", response=SurveySettingsOut, summary="Choose who is never surveyed", tags=["surveys"])
def put_survey_settings(request: HttpRequest, payload: SurveySettingsIn) -> dict[str, Any]:
    """``opted_out`` becomes exactly the organisations listed (an unknown id answers 422)."""
    survey_services.set_survey_opt_outs(organisation_ids=payload.opted_out, by=_admin(request))
    return {"enabled": survey_services.surveys_enabled(), "opted_out": survey_selectors.opted_out_organisation_ids()}


# --- the email outbox -----------------------------------------------------------------------------------


class OutgoingEmailOut(Schema):
    id: int
    address: str
    subject: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    ticket: int | None = Field(validation_alias="ticket_id")
    created_at: datetime
    sent_at: datetime | None


class OutgoingQuery(PageQuery):
    state: Literal["pending", "failed", "sent"] | None = None


OUTGOING = Resource(
    name="outgoing_email",
    path="/outgoing-emails",
    tag="notifications",
    label="outgoing email",
    about="Emails Palier sends, newest first; a failed one can be sent again.",
    out=OutgoingEmailOut,
    query=OutgoingQuery,
    order=("-id",),
    listing=lambda user, filters: notification_selectors.outgoing_emails(state=filters.get("state") or ""),
    fetch=lambda user, pk: notification_selectors.get_outgoing_email(pk),
)


@router.post(
    "/outgoing-emails/{int:email_id}/retry",
    response=OutgoingEmailOut,
    summary="Send a failed email again",
    tags=["notifications"],
)
def retry_outgoing_email(request: HttpRequest, email_id: int) -> Any:
    """Only a failed email is queued again (422 otherwise), with a fresh set of attempts."""
    notification_services.retry_email(outgoing_id=email_id, by=_admin(request))
    return notification_selectors.get_outgoing_email(email_id)


RESOURCES: tuple[Resource, ...] = ()  # mounted on this module's router, beside its own endpoints
for _resource in (ALERT_SOURCE, CHAT_APP, CHAT_IDENTITY, OUTGOING):
    mount(router, _resource)
