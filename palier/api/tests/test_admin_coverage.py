"""Every administration page has its counterpart in the API.

The test walks the URL configuration, takes each view marked as an administration page
(``palier.lib.web.admin_required``), and fails when it is neither in ``COUNTERPARTS`` (the API
operations that do what the page does, each of which must exist in the OpenAPI document) nor in
``WITHOUT_API`` (the short list of pages deliberately left out, each with its reason). The
resources the pages of agents manage for themselves (macros, saved views, notification settings,
time entries, availability) are in ``REQUIRED`` and must exist too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from palier.api.api import api

# page (URL name) -> the API operations ("METHOD /path", ids written {id}) that do its work
COUNTERPARTS: dict[str, tuple[str, ...]] = {
    # people and reference data
    "agent:admin-users": ("GET /users", "POST /users"),
    "agent:admin-user-edit": ("GET /users/{id}", "PATCH /users/{id}"),
    "agent:admin-user-active": ("PATCH /users/{id}",),
    "agent:admin-user-mfa-reset": ("POST /users/{id}/mfa-reset",),
    "agent:admin-organisations": ("GET /organisations", "POST /organisations"),
    "agent:admin-organisation-edit": ("GET /organisations/{id}", "PATCH /organisations/{id}"),
    "agent:admin-department-create": ("POST /departments", "PATCH /departments/{id}", "DELETE /departments/{id}"),
    "agent:admin-groups": ("GET /groups", "POST /groups"),
    "agent:admin-group-edit": ("GET /groups/{id}", "PATCH /groups/{id}", "GET /groups/{id}/members"),
    "agent:admin-categories": ("GET /categories", "POST /categories"),
    "agent:admin-category-edit": ("GET /categories/{id}", "PATCH /categories/{id}"),
    "agent:admin-category-active": ("PATCH /categories/{id}",),
    "agent:admin-priorities": ("GET /priority-matrix", "PUT /priority-matrix"),
    "agent:admin-backups": ("GET /backups/status",),
    # routing and SLAs
    "routing:rules": ("GET /routing-rules", "POST /routing-rules"),
    "routing:rule-edit": ("GET /routing-rules/{id}", "PATCH /routing-rules/{id}"),
    "routing:rule-move": ("PUT /routing-rules/order",),
    "routing:rule-active": ("PATCH /routing-rules/{id}",),
    "routing:rule-delete": ("DELETE /routing-rules/{id}",),
    "routing:defaults": ("GET /category-defaults", "POST /category-defaults"),
    "routing:default-delete": ("DELETE /category-defaults/{id}",),
    "sla:calendars": ("GET /sla-calendars", "POST /sla-calendars", "GET /holidays", "POST /holidays"),
    "sla:calendar-edit": ("GET /sla-calendars/{id}", "PATCH /sla-calendars/{id}", "DELETE /holidays/{id}"),
    "sla:policies": ("GET /sla-policies", "POST /sla-policies"),
    "sla:policy-edit": ("GET /sla-policies/{id}", "PATCH /sla-policies/{id}"),
    "timelog:rates": ("GET /time-rates", "POST /time-rates"),
    "audit:log": ("GET /audit",),
    "audit:export": ("GET /audit",),
    # mail, automation, integrations, surveys, notifications
    "mail:mailboxes": ("GET /mailboxes", "POST /mailboxes"),
    "mail:mailbox-edit": ("GET /mailboxes/{id}", "PATCH /mailboxes/{id}"),
    "mail:mailbox-active": ("PATCH /mailboxes/{id}",),
    "mail:mailbox-test": ("POST /mailboxes/{id}/test",),
    "mail:quarantine": ("GET /mail-quarantine",),
    "mail:retry": ("POST /mail-quarantine/{id}/retry",),
    "automation:rules": ("GET /automation-rules", "POST /automation-rules"),
    "automation:rule-new": ("POST /automation-rules",),
    "automation:rule-edit": ("GET /automation-rules/{id}", "PATCH /automation-rules/{id}"),
    "automation:rule-move": ("PUT /automation-rules/order",),
    "automation:rule-active": ("PATCH /automation-rules/{id}",),
    "automation:rule-delete": ("DELETE /automation-rules/{id}",),
    "automation:rule-dry-run": ("POST /automation-rules/{id}/dry-run",),
    "automation:rule-runs": ("GET /automation-rules/{id}/runs",),
    "automation:recurring": ("GET /recurring-tickets", "POST /recurring-tickets"),
    "automation:recurring-edit": ("GET /recurring-tickets/{id}", "PATCH /recurring-tickets/{id}"),
    "automation:recurring-active": ("PATCH /recurring-tickets/{id}",),
    "integrations:admin-alerts": ("GET /alert-sources", "POST /alert-sources"),
    "integrations:admin-alert-revoke": ("DELETE /alert-sources/{id}",),
    "integrations:admin-chat": ("GET /chat-apps", "POST /chat-apps"),
    "integrations:admin-chat-toggle": ("PATCH /chat-apps/{id}",),
    "integrations:admin-identities": ("GET /chat-identities",),
    "integrations:admin-identity-delete": ("DELETE /chat-identities/{id}",),
    "surveys:settings": ("GET /survey-settings", "PUT /survey-settings"),
    "surveys:organisation-opt-out": ("PUT /survey-settings",),
    "notifications:outbox": ("GET /outgoing-emails",),
    "notifications:outbox-retry": ("POST /outgoing-emails/{id}/retry",),
    # catalog
    "catalog:admin-items": ("GET /catalog/items", "POST /catalog/items"),
    "catalog:admin-categories": ("GET /catalog/categories", "POST /catalog/categories"),
    "catalog:admin-category": ("PATCH /catalog/categories/{id}", "DELETE /catalog/categories/{id}"),
    "catalog:admin-item": ("GET /catalog/items/{id}", "PATCH /catalog/items/{id}"),
    "catalog:admin-part": (
        "POST /catalog/items/{id}/fields",
        "PATCH /catalog/fields/{id}",
        "POST /catalog/items/{id}/stages",
        "PATCH /catalog/stages/{id}",
        "POST /catalog/items/{id}/tasks",
        "PATCH /catalog/tasks/{id}",
    ),
    "catalog:admin-part-move": (
        "PATCH /catalog/fields/{id}",
        "PATCH /catalog/stages/{id}",
        "PATCH /catalog/tasks/{id}",
    ),
    "catalog:admin-part-remove": (
        "DELETE /catalog/fields/{id}",
        "DELETE /catalog/stages/{id}",
        "DELETE /catalog/tasks/{id}",
    ),
    # changes and problems
    "cab:boards": ("GET /change-boards", "POST /change-boards"),
    "cab:board": ("GET /change-boards/{id}", "PATCH /change-boards/{id}"),
    "cab:path": ("GET /change-approval-stages", "POST /change-approval-stages"),
    "cab:stage-move": ("PUT /change-approval-stages/order",),
    "cab:stage-remove": ("DELETE /change-approval-stages/{id}",),
    "change_calendar:freezes": ("GET /freezes", "POST /freezes"),
    "change_calendar:freeze-edit": ("GET /freezes/{id}", "PATCH /freezes/{id}"),
    "change_calendar:freeze-delete": ("DELETE /freezes/{id}",),
    "change_calendar:maintenance": ("GET /assets/{id}/maintenance-windows",),
    "change_calendar:maintenance-service": (
        "GET /assets/{id}/maintenance-windows",
        "POST /assets/{id}/maintenance-windows",
    ),
    "change_calendar:maintenance-delete": ("DELETE /maintenance-windows/{id}",),
    "changes:templates": ("GET /changes/templates", "POST /changes/templates"),
    "changes:template-edit": ("GET /changes/templates/{id}", "PATCH /changes/templates/{id}"),
    "changes:risk-questions": ("GET /changes/risk-questions", "POST /changes/risk-questions"),
    "changes:risk-question-edit": ("PATCH /changes/risk-questions/{id}",),
    "changes:risk-question-move": ("PUT /changes/risk-questions/order",),
    "changes:settings": ("GET /changes/settings", "PUT /changes/settings"),
    "problem_candidates:settings": ("GET /problems/settings", "PUT /problems/settings"),
    # webhooks and task templates
    "webhooks:list": ("GET /webhooks", "POST /webhooks", "GET /webhooks/event-types"),
    "webhooks:detail": ("GET /webhooks/{id}", "PATCH /webhooks/{id}", "GET /webhooks/{id}/deliveries"),
    "webhooks:enable": ("PATCH /webhooks/{id}",),
    "webhooks:disable": ("PATCH /webhooks/{id}",),
    "webhooks:rotate": ("POST /webhooks/{id}/secret",),
    "webhooks:delete": ("DELETE /webhooks/{id}",),
    "webhooks:redeliver": ("POST /webhooks/{id}/deliveries/{id}/redeliver",),
    "worklist:templates": ("GET /task-templates", "POST /task-templates"),
    "worklist:template-new": ("POST /task-templates",),
    "worklist:template-edit": ("GET /task-templates/{id}", "PATCH /task-templates/{id}"),
    "worklist:template-delete": ("DELETE /task-templates/{id}",),
    # assets
    "assets:admin-types": ("GET /asset-types", "POST /asset-types"),
    "assets:admin-type-edit": ("PATCH /asset-types/{id}",),
    "assets:admin-locations": ("GET /locations", "POST /locations"),
    "assets:admin-location-edit": ("PATCH /locations/{id}",),
    "assets:admin-location-delete": ("DELETE /locations/{id}",),
    "assets:admin-suppliers": ("GET /suppliers", "POST /suppliers"),
    "assets:admin-supplier-edit": ("GET /suppliers/{id}", "PATCH /suppliers/{id}"),
    "assets_licences:reveal-key": ("POST /licences/{id}/key",),
    "assets_import:upload": ("POST /assets/import",),
    "assets_import:confirm": ("POST /assets/import",),
    "assets_inventory:tokens": ("GET /inventory-tokens", "POST /inventory-tokens"),
    "assets_inventory:token-revoke": ("DELETE /inventory-tokens/{id}",),
    "assets_inventory:reports": ("GET /inventory-reports",),
    "assets_inventory:report-raw": ("GET /inventory-reports/{id}/raw",),
}

# pages with no API counterpart, on purpose
WITHOUT_API: dict[str, str] = {
    "agent:admin": "the administration menu: links to the other pages",
    "automation:rule-row": "an HTML fragment of the rule form (one more condition or action row)",
    "agent:admin-data-export": "the whole-desk export holds every person's data: asked for and downloaded in a "
    "signed-in administrator's session only, never with an API token (docs/data-export.md)",
    "agent:admin-data-export-download": "the download of that export (see above)",
    "integrations:admin-teams-package": "a file built from the chat app's settings (GET /chat-apps has them) "
    "to upload in Teams; also `palier teams-package` (docs/teams.md)",
    # how people sign in: an API token must never be able to reroute sign-in or take over an
    # account, so these stay in the pages, behind a session with its second factor
    "identity:index": "sign-in settings (see above)",
    "identity:user-password": "setting someone's password (see above)",
    "identity:user-reset-link": "a password reset link for someone (see above)",
    "identity:user-sign-out": "ending someone's sessions (see above)",
    "identity_ldap:*": "directory providers: sign-in settings (see above)",
    "identity-oidc:*": "OpenID Connect providers: sign-in settings (see above)",
    "saml:*": "SAML providers: sign-in settings (see above)",
}

# what agents and administrators manage that the pages do not mark as administration
REQUIRED: tuple[str, ...] = (
    "GET /macros",
    "POST /macros",
    "GET /macros/{id}",
    "PATCH /macros/{id}",
    "DELETE /macros/{id}",
    "GET /saved-views",
    "POST /saved-views",
    "PATCH /saved-views/{id}",
    "DELETE /saved-views/{id}",
    "GET /users/me/notification-preferences",
    "PUT /users/me/notification-preferences",
    "GET /notifications",
    "POST /notifications/{id}/read",
    "POST /notifications/read-all",
    "GET /time-entries",
    "PATCH /time/{id}",
    "DELETE /time/{id}",
    "GET /users/{id}/availability",
    "PUT /users/{id}/availability",
    "GET /absences",
    "POST /absences",
    "DELETE /absences/{id}",
    "GET /users/{id}",
    "PATCH /users/{id}",
    "DELETE /users/{id}",
    "GET /groups/{id}",
    "PATCH /groups/{id}",
    "DELETE /groups/{id}",
)


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern.callback


def _admin_pages() -> set[str]:
    return {name for name, view in _walk(get_resolver().url_patterns) if getattr(view, "admin_page", False)}


def _operations() -> set[str]:
    document = api.get_openapi_schema()
    found = set()
    for path, methods in document["paths"].items():
        plain = re.sub(r"\{[^}]+\}", "{id}", path.removeprefix("/api/v1"))
        found |= {f"{method.upper()} {plain}" for method in methods}
    return found


def _allowed(name: str) -> bool:
    return name in WITHOUT_API or f"{name.split(':')[0]}:*" in WITHOUT_API


def test_every_administration_page_has_an_api_counterpart_or_a_reason() -> None:
    missing = sorted(name for name in _admin_pages() if name not in COUNTERPARTS and not _allowed(name))
    assert not missing, f"administration pages with no API counterpart listed: {missing}"


def test_the_listed_counterparts_exist_in_the_api() -> None:
    operations = _operations()
    absent = sorted(
        {f"{page}: {op}" for page, ops in COUNTERPARTS.items() for op in ops if op not in operations}
        | {f"required: {op}" for op in REQUIRED if op not in operations}
    )
    assert not absent, "API operations missing:\n" + "\n".join(absent)


def test_the_lists_name_only_pages_that_exist() -> None:
    names = {name for name, _view in _walk(get_resolver().url_patterns)}
    namespaces = {name.split(":")[0] for name in names}
    stale = [page for page in COUNTERPARTS if page not in names]
    stale += [page for page in WITHOUT_API if page not in names and page.removesuffix(":*") not in namespaces]
    assert not stale, stale
    assert len(WITHOUT_API) <= 12, "the allow-list must stay short"


@pytest.mark.parametrize("page", sorted(WITHOUT_API))
def test_each_page_left_out_says_why(page: str) -> None:
    assert len(WITHOUT_API[page]) > 20
