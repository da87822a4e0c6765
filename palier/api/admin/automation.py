"""Automation through the API (administrators): the rules with their order, dry run and run log,
and the recurring tickets (docs/automation.md, "API"). Conditions and actions are the same JSON
the rules store, checked by the automation app's own validation (the one behind the rule form).
A rule's signing secret is never shown."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from palier.api import lookups
from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.pagination import keyset_page
from palier.api.resources import PageQuery, Resource, admins_only, mount, page_schema, values
from palier.api.schemas.common import Input
from palier.automation import selectors, services
from palier.automation.models import RecurringTicket, Rule
from palier.people.models import User

router = Router()

# the model's triggers, so a trigger added there is accepted here too
if TYPE_CHECKING:
    Trigger = str
else:
    Trigger = Literal[tuple(Rule.Trigger.values)]


def _admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not admins_only(user):
        raise Problem(403, _("Only administrators can manage automation rules."))
    return user


# --- rules ----------------------------------------------------------------------------------------------


class RuleOut(Schema):
    id: int
    name: str
    is_active: bool
    position: int
    subject: str = Field(description="What the rule watches: tickets, problems or changes.")
    trigger: str
    to_status: str = Field(
        description="Status-change triggers of problems and changes: the status reached (empty: any)."
    )
    wait_status: str
    wait_hours: int | None
    wait_business: bool
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    disabled_reason: str = Field(description="Why Palier turned the rule off (something it names was deleted).")
    created_at: datetime
    updated_at: datetime


class RuleIn(Input):
    name: str = Field(max_length=120)
    is_active: bool = True
    subject: Literal["ticket", "problem", "change"] = "ticket"
    trigger: Trigger
    to_status: str = Field("", max_length=20)
    wait_status: str = Field("", max_length=20, description="Timer rules: the status the ticket stays in.")
    wait_hours: int | None = Field(None, description="Timer rules: for how many hours.")
    wait_business: bool = True
    conditions: dict[str, Any] = Field(
        default_factory=dict, description='{"all": [{"field", "op", "value"}…], "any": […]}'
    )
    actions: list[dict[str, Any]] = Field(default_factory=list, max_length=50, description='[{"type": …, …}]')


class RulePatch(Input):
    name: str | None = Field(None, max_length=120)
    is_active: bool | None = None
    subject: Literal["ticket", "problem", "change"] | None = None
    trigger: Trigger | None = None
    to_status: str | None = Field(None, max_length=20)
    wait_status: str | None = Field(None, max_length=20)
    wait_hours: int | None = None
    wait_business: bool | None = None
    conditions: dict[str, Any] | None = None
    actions: list[dict[str, Any]] | None = Field(None, max_length=50)


class RuleQuery(PageQuery):
    subject: Literal["ticket", "problem", "change"] | None = None
    trigger: Trigger | None = None
    is_active: bool | None = None


def _rules(filters: dict[str, Any]) -> Any:
    rows = selectors.rules_for_admin()
    if "subject" in filters:
        rows = rows.filter(subject=filters["subject"])
    if "trigger" in filters:
        rows = rows.filter(trigger=filters["trigger"])
    if "is_active" in filters:
        rows = rows.filter(is_active=filters["is_active"])
    return rows


def _update_rule(user: User, rule: Rule, data: dict[str, Any]) -> Rule:
    if set(data) == {"is_active"}:  # the page's switch: turning off works even when a reference is gone
        return services.set_rule_active(rule, by=user, active=bool(data["is_active"]))
    data = {name: value for name, value in data.items() if value is not None or name == "wait_hours"}
    return services.update_rule(rule, by=user, **data)


RULE = Resource(
    name="automation_rule",
    path="/automation-rules",
    tag="automation",
    about="When a trigger happens and a ticket meets the conditions, the actions run, rules in order. "
    "Conditions and actions are the JSON of docs/automation.md, checked as on the rule form; a rule naming "
    "a deleted group, agent or category is refused (422). PUT …/order takes every rule once.",
    out=RuleOut,
    query=RuleQuery,
    order=("position", "id"),
    listing=lambda user, filters: _rules(filters),
    fetch=lambda user, pk: selectors.get_rule_for_admin(pk),
    create_in=RuleIn,
    update_in=RulePatch,
    create=lambda user, data: services.create_rule(by=user, **data),
    update=_update_rule,
    delete=lambda user, rule: services.delete_rule(rule, by=user),
    reorder=lambda user, ids: services.reorder_rules(by=user, ids=ids),
)


class DryRunTicket(Schema):
    id: int
    reference: str
    subject: str
    status: str
    comment: str = Field(description="The reply the comment conditions read (reply triggers).")
    score: int | None = Field(description="The survey answer the score conditions read.")


class DryRunOut(Schema):
    count: int = Field(description="How many tickets the rule matches now.")
    skipped: int = Field(description="Tickets left out: the reply or answer the conditions read does not exist.")
    source: str
    recent_days: int
    page: int
    pages: int
    tickets: list[DryRunTicket]


class DryRunQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)


@router.post(
    "/automation-rules/{int:rule_id}/dry-run",
    response=DryRunOut,
    summary="Which tickets an automation rule matches now",
    tags=["automation"],
)
def dry_run_rule(request: HttpRequest, rule_id: int, query: Query[DryRunQuery]) -> dict[str, Any]:
    """The open tickets the rule's saved conditions match now, on or off, evaluated by the engine's
    own code; nothing is changed and no action runs (as on the rule's dry-run page). 25 a page."""
    _admin(request)
    result = selectors.dry_run(selectors.get_rule_for_admin(rule_id), page=query.page)
    return {
        "count": result.count,
        "skipped": result.skipped,
        "source": result.source,
        "recent_days": result.recent_days,
        "page": result.page.number,
        "pages": result.page.paginator.num_pages,
        "tickets": [
            {
                "id": row.ticket.pk,
                "reference": row.ticket.reference,
                "subject": row.ticket.subject,
                "status": row.ticket.status,
                "comment": row.comment,
                "score": row.score,
            }
            for row in result.rows
        ],
    }


class RunOut(Schema):
    id: int
    subject: str = Field("ticket", description="What the rule works on: ticket, problem or change.")
    ticket: int | None = Field(None, validation_alias="ticket_id")
    problem: int | None = Field(None, validation_alias="problem_id")
    change: int | None = Field(None, validation_alias="change_id")
    trigger: str
    outcome: str
    detail: str
    depth: int
    at: datetime


@router.get(
    "/automation-rules/{int:rule_id}/runs",
    response=page_schema(RunOut),
    summary="What an automation rule did",
    tags=["automation"],
)
def rule_runs(request: HttpRequest, rule_id: int, query: Query[PageQuery]) -> dict[str, Any]:
    """Each time the rule met a ticket (or, for a rule on problems or changes, an event of one),
    newest first: applied, matched with nothing to do, skipped (loop protection) or failed, with
    the reason."""
    _admin(request)
    rule = selectors.get_rule_for_admin(rule_id)
    runs: QuerySet[Any] = (
        selectors.runs_of(rule) if rule.subject == Rule.Subject.TICKET else selectors.subject_runs_of(rule)
    )
    items, cursor = keyset_page(runs, order=("-id",), cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": cursor}


# --- recurring tickets -------------------------------------------------------------------------------------

Kind = Literal["incident", "request"]
LevelValue = Literal["low", "medium", "high"]


class RecurringSettings(Schema):
    """A recurring ticket without what its runs change (what its ETag covers)."""

    id: int
    name: str
    is_active: bool
    subject: str
    description: str
    kind: str
    category: int | None = Field(validation_alias="category_id")
    group: int | None = Field(validation_alias="group_id")
    impact: str
    urgency: str
    requester: int = Field(validation_alias="requester_id")
    schedule: str = Field(description="Cron: minute hour day month weekday, e.g. “0 8 * * 1”.")
    time_zone: str


class RecurringOut(RecurringSettings):
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_ticket: int | None = Field(validation_alias="last_ticket_id")
    problem: str = Field(description="Why the last ticket could not be opened (empty when it was).")


class RecurringIn(Input):
    name: str = Field(max_length=120)
    is_active: bool = True
    subject: str = Field(max_length=250)
    description: str = Field("", max_length=20_000)
    kind: Kind = "request"
    category: int | None = None
    group: int | None = None
    impact: LevelValue = "low"
    urgency: LevelValue = "low"
    requester: int
    schedule: str = Field(max_length=100)
    time_zone: str = Field("Europe/Paris", max_length=64)


class RecurringPatch(Input):
    name: str | None = Field(None, max_length=120)
    is_active: bool | None = None
    subject: str | None = Field(None, max_length=250)
    description: str | None = Field(None, max_length=20_000)
    kind: Kind | None = None
    category: int | None = None
    group: int | None = None
    impact: LevelValue | None = None
    urgency: LevelValue | None = None
    requester: int | None = None
    schedule: str | None = Field(None, max_length=100)
    time_zone: str | None = Field(None, max_length=64)


class RecurringQuery(PageQuery):
    is_active: bool | None = None


NULLABLE = ("category", "group")


def _recurring_values(data: dict[str, Any]) -> dict[str, Any]:
    data = {name: value for name, value in data.items() if value is not None or name in NULLABLE}
    return values(
        data,
        {"requester": lookups.user_by_id, "category": lookups.category_by_id, "group": lookups.group_by_id},
    )


RECURRING = Resource(
    name="recurring_ticket",
    path="/recurring-tickets",
    tag="automation",
    label="recurring ticket",
    about="A ticket opened on a schedule (cron, read in its time zone). Deleting one pauses it: "
    "is_active false, no more tickets; PATCH is_active true resumes it from the next slot after now.",
    out=RecurringOut,
    etag_schema=RecurringSettings,
    query=RecurringQuery,
    order=("name", "id"),
    listing=lambda user, filters: selectors.recurring_rows(active=filters.get("is_active")),
    fetch=lambda user, pk: selectors.get_recurring_for_admin(pk),
    create_in=RecurringIn,
    update_in=RecurringPatch,
    create=lambda user, data: services.create_recurring(by=user, **_recurring_values(data)),
    update=lambda user, row, data: services.update_recurring(row, by=user, **_recurring_values(data)),
    delete=lambda user, row: _pause(user, row),
    delete_verb="Deactivate",
)


def _pause(user: User, row: RecurringTicket) -> None:
    services.set_recurring_active(row, by=user, active=False)


RESOURCES: tuple[Resource, ...] = ()  # mounted on this module's router, beside its own endpoints
for _resource in (RULE, RECURRING):
    mount(router, _resource)
