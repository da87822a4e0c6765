"""The one Palier API (django-ninja), mounted at /api/v1/ by ``palier.api.urls``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import NinjaAPI

from palier.api import (
    admin,
    assets,
    audit,
    backups,
    catalog,
    categories,
    change_approvals,
    change_calendar,
    changes,
    errors,
    kb,
    levels,
    notifications,
    people,
    problems,
    reports,
    ticket_bulk,
    ticket_ops,
    tickets,
    timelog,
    webhooks,
    worklist,
)
from palier.api.auth import SAFE_METHODS, SessionAuth, TokenAuth
from palier.api.docs import OfflineSwagger
from palier.api.parser import JsonParser
from palier.api.ratelimit import PerAddress, PerToken


def one_transaction(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Run each unsafe request in one transaction: a failed request changes nothing.

    Safe methods stay outside a transaction (on SQLite an IMMEDIATE transaction would take the
    write lock for a read).
    """

    @wraps(handler)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.method in SAFE_METHODS:
            return handler(request, *args, **kwargs)
        with transaction.atomic():
            return handler(request, *args, **kwargs)

    return wrapper


class PalierAPI(NinjaAPI):
    """The API, whose OpenAPI document also describes what Palier posts to webhook subscriptions."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return webhooks.openapi_webhooks(super().get_openapi_schema(**kwargs))


api = PalierAPI(
    title="Palier API",
    version="1",
    description="Tickets, people, reference data, assets, problems and changes of a Palier service desk.",
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    throttle=[PerToken(), PerAddress()],
    parser=JsonParser(),
    docs=OfflineSwagger(settings={"validatorUrl": None, "persistAuthorization": True}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.register(api)
api.add_decorator(one_transaction, mode="operation")
api.add_router("/tickets", tickets.router, tags=["tickets"])
api.add_router("/tickets", ticket_bulk.router, tags=["tickets"])
api.add_router("/tickets", levels.router, tags=["levels and SLAs"])
api.add_router("/tickets", ticket_ops.router, tags=["tickets"])
api.add_router("/attachments", tickets.attachments_router, tags=["tickets"])
api.add_router("/", people.router, tags=["people"])
api.add_router("/", categories.router, tags=["reference data"])
api.add_router("/kb", kb.router, tags=["knowledge base"])
api.add_router("/catalog", catalog.router, tags=["service catalog"])
api.add_router("/", timelog.router, tags=["time tracking"])
api.add_router("/tickets", worklist.router, tags=["tasks and follow-ups"])
api.add_router("/task-templates", worklist.templates_router, tags=["tasks and follow-ups"])
api.add_router("/reports", reports.router, tags=["reports"])
api.add_router("/audit", audit.router, tags=["audit log"])
api.add_router("/", assets.router, tags=["assets"])
api.add_router("/tickets", assets.tickets_router, tags=["assets"])
api.add_router("/problems", problems.router, tags=["problems"])
api.add_router("/changes", changes.router, tags=["changes"])
api.add_router("/", admin.router)
api.add_router("/", notifications.router, tags=["notifications"])
api.add_router("/", backups.router, tags=["backups"])
api.add_router("/changes", change_approvals.changes_router, tags=["change approvals"])
api.add_router("/changes", change_calendar.changes_router, tags=["change calendar"])
api.add_router("/", change_approvals.router, tags=["change approvals"])
api.add_router("/", change_calendar.router, tags=["change calendar"])
api.add_router("/webhooks", webhooks.router, tags=["webhooks"])
from palier.api import assets_catalogue  # noqa: E402, F401  (admins' writes on types and locations, on the assets router)
