"""Requests for change: list, create, read, change, lifecycle, risk assessment, links to
assets, incidents and problems, templates and the risk questions (docs/changes.md, "API").

The same rules as the pages (``changes/permissions.py``): changes are internal records, so
agents, managers and administrators see and work them; anyone else gets 403 on the lists and
404 on a change. Approved and rejected are the board's decisions (the approvals endpoints), never
a transition asked here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.params.functions import Header

from palier.api import etag, lookups
from palier.api.auth import current_user
from palier.api.errors import Problem as HttpProblem
from palier.api.pagination import keyset_page
from palier.api.schemas.assets import AssetRef
from palier.api.schemas.changes import (
    AssetIdsIn,
    ChangeCreate,
    ChangeLinksOut,
    ChangeOut,
    ChangePage,
    ChangePatch,
    ChangeTransitionIn,
    ProblemLinkIn,
    RiskIn,
    RiskQuestionOut,
    TemplateOut,
    TicketLinkIn,
)
from palier.assets import selectors as asset_selectors
from palier.changes import permissions, services
from palier.changes import selectors_api as selectors
from palier.changes.models import Change, ChangeIdempotencyKey, ChangeTemplate, RiskQuestion
from palier.people.models import User
from palier.problems import selectors_api as problem_selectors
from palier.problems.services import create_once
from palier.tickets import selectors as ticket_selectors

router = Router()


# --- helpers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Version:
    pk: int
    etag: str


def _tagged(change: Change) -> _Version:
    return _Version(change.pk, f'"{change.pk}-{change.version}"')


def _expected(change: Change, if_match: str | None, version: int | None, *, required: bool) -> int | None:
    return etag.expected_version(
        _tagged(change),
        if_match,
        version,
        required=required,
        mismatch=_("If-Match does not match this change; send the ETag you received."),
    )


def _agent(request: HttpRequest) -> User:
    user = current_user(request)
    if not permissions.can(user, "view"):
        raise HttpProblem(403, _("Only the desk's agents may work with changes."))
    return user


def _render(user: User, change_id: int, response: HttpResponse) -> Change:
    change = selectors.get_change_for(user, change_id)
    response["ETag"] = _tagged(change).etag
    return change


REFERENCES = (("group", lookups.group_by_id), ("implementer", lookups.user_by_id))
TEXTS = ("title", "description", "reason", "implementation_plan", "backout_plan", "test_plan", "impact")


def _values(data: dict[str, Any]) -> dict[str, Any]:
    for name, getter in REFERENCES:
        if data.get(name) is not None:
            data[name] = getter(data[name], field=name)
    for name in TEXTS:
        if name in data and data[name] is None:
            data.pop(name)
    return data


def _split(values: list[str], allowed: list[str], field: str) -> tuple[str, ...]:
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if set(parts) - set(allowed):
        raise ValidationError({field: _("Unknown value; use one of: %(s)s.") % {"s": ", ".join(allowed)}})
    return tuple(parts)


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(25, ge=1, le=100)


class ChangeListQuery(PageQuery):
    status: list[str] = Field(default_factory=list, description="Repeat it or separate with commas.")
    kind: list[str] = Field(default_factory=list, description="standard, normal, emergency.")
    risk: list[str] = Field(default_factory=list, description="low, medium, high, critical.")
    group: int | None = None
    window_from: datetime | None = Field(None, alias="from", description="Planned window ending after this.")
    window_to: datetime | None = Field(None, alias="to", description="Planned window starting before this.")
    q: str = Field("", max_length=200, description="Words in the reference, title or description.")

    def to_filters(self) -> selectors.ChangeFilters:
        if self.window_from and self.window_to and self.window_to <= self.window_from:
            raise ValidationError({"to": _("The period must end after it starts.")})
        return selectors.ChangeFilters(
            status=_split(self.status, Change.Status.values, "status"),
            kind=_split(self.kind, Change.Kind.values, "kind"),
            risk=_split(self.risk, ["low", "medium", "high", "critical"], "risk"),
            group=self.group,
            window_from=self.window_from,
            window_to=self.window_to,
            q=self.q,
        )


# --- changes --------------------------------------------------------------------------------------


@router.get("", response=ChangePage, url_name="change_list", summary="List changes")
def list_changes(request: HttpRequest, query: Query[ChangeListQuery]) -> dict[str, Any]:
    """Changes, newest first, filtered by status, type, risk, group and planned window
    (``from``/``to``: those whose window overlaps the period); keyset-paginated."""
    user = _agent(request)
    items, cursor = keyset_page(
        selectors.filtered(user, query.to_filters()), order=("-id",), cursor=query.cursor, limit=query.limit
    )
    return {"items": items, "next_cursor": cursor}


@router.post("", response={200: ChangeOut, 201: ChangeOut}, summary="Raise a change")
def create_change(
    request: HttpRequest,
    payload: ChangeCreate,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Raise a standard change (``template`` required: its plans, group, risk and duration are
    taken where not given), a normal or an emergency change. A window ending before it starts
    answers 422. Retrying with the same ``Idempotency-Key`` returns the first change (200)."""
    user = _agent(request)
    data = payload.model_dump(exclude_unset=True)
    kind = data.pop("kind")
    template_id = data.pop("template", None)
    assets = data.pop("assets", [])
    template: ChangeTemplate | None = None
    if template_id is not None:
        template = lookups.required(selectors.find_template(template_id), "template")
    values = _values(data)

    def create() -> Change:
        return services.create_change(by=user, kind=kind, template=template, asset_ids=assets, **values)

    created = True
    if idempotency_key:
        fingerprint = hashlib.sha256(json.dumps(payload.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        change, created = create_once(
            store=ChangeIdempotencyKey,
            field="change",
            key=idempotency_key,
            fingerprint=fingerprint,
            by=user,
            create=create,
        )
    else:
        change = create()
    response["Location"] = reverse("api:change_detail", args=[change.pk])
    return Status(201 if created else 200, _render(user, change.pk, response))


@router.get("/templates", response=list[TemplateOut], summary="Standard change templates")
def list_templates(request: HttpRequest) -> list[ChangeTemplate]:
    """The active pre-approved templates a standard change is raised from."""
    _agent(request)
    return list(selectors.templates()[:500])


@router.get("/risk-questions", response=list[RiskQuestionOut], summary="The risk questionnaire")
def list_risk_questions(request: HttpRequest) -> list[RiskQuestion]:
    """The active questions with their answers and scores; the sum of the scores gives the risk."""
    _agent(request)
    return list(selectors.risk_questions()[:200])


@router.get("/{int:change_id}", response=ChangeOut, url_name="change_detail", summary="Read a change")
def get_change(request: HttpRequest, change_id: int, response: HttpResponse) -> Change | HttpResponse:
    """One change. The ETag header carries its version; ``If-None-Match`` with it answers 304."""
    change = _render(_agent(request), change_id, response)
    if request.headers.get("If-None-Match") == response["ETag"]:
        return HttpResponse(status=304, headers={"ETag": response["ETag"]})
    return change


@router.patch("/{int:change_id}", response=ChangeOut, summary="Change a change")
def update_change(
    request: HttpRequest,
    change_id: int,
    payload: ChangePatch,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Change:
    """Change fields. Send the version you saw (If-Match or ``version``): none answers 428, a stale
    one 412. Once the board was asked, the window, plans and impact are frozen (409)."""
    user = _agent(request)
    change = selectors.get_change_for(user, change_id)
    expected = _expected(change, if_match, payload.version, required=True)
    values = _values(payload.model_dump(exclude_unset=True, exclude={"version"}))
    services.update_change(change, by=user, version=expected, **values)
    return _render(user, change.pk, response)


@router.post("/{int:change_id}/transition", response=ChangeOut, summary="Move a change along its lifecycle")
def transition_change(
    request: HttpRequest,
    change_id: int,
    payload: ChangeTransitionIn,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Change:
    """draft → assessment → awaiting approval → (board) → scheduled → implementing → review →
    closed. Closing needs an ``outcome``: successful, failed or rolled_back after review,
    cancelled otherwise. A move out of order, or to approved/rejected, answers 409."""
    user = _agent(request)
    change = selectors.get_change_for(user, change_id)
    expected = _expected(change, if_match, payload.version, required=False)
    services.transition_change(
        change, to=payload.status, by=user, version=expected, outcome=payload.outcome, note=payload.note
    )
    return _render(user, change.pk, response)


@router.post("/{int:change_id}/risk", response=ChangeOut, summary="Assess the risk")
def assess_risk(
    request: HttpRequest,
    change_id: int,
    payload: RiskIn,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Change:
    """Answer every active risk question (``/changes/risk-questions``); the scores give the risk
    level. A missing or unknown answer answers 422 naming the question (``q<id>``)."""
    user = _agent(request)
    change = selectors.get_change_for(user, change_id)
    expected = _expected(change, if_match, payload.version, required=False)
    services.assess_risk(change, by=user, answers=payload.answers, version=expected)
    return _render(user, change.pk, response)


# --- links ----------------------------------------------------------------------------------------


def _links(change: Change) -> dict[str, Any]:
    return {
        "assets": [link.asset for link in selectors.asset_links_of(change).order_by("asset__tag")[:200]],
        "tickets": [
            {
                "id": link.ticket.pk,
                "reference": link.ticket.reference,
                "subject": link.ticket.subject,
                "status": link.ticket.status,
                "relation": link.relation,
            }
            for link in selectors.ticket_links_of(change).order_by("id")[:200]
        ],
        "problems": [
            {
                "id": link.problem.pk,
                "reference": link.problem.reference,
                "title": link.problem.title,
                "status": link.problem.status,
                "relation": link.relation,
            }
            for link in selectors.problem_links_of(change).order_by("id")[:200]
        ],
    }


@router.get("/{int:change_id}/links", response=ChangeLinksOut, summary="The change's assets, incidents and problems")
def list_links(request: HttpRequest, change_id: int) -> dict[str, Any]:
    return _links(selectors.get_change_for(_agent(request), change_id))


@router.post("/{int:change_id}/assets", response=list[AssetRef], summary="Add assets the change touches")
def link_assets(request: HttpRequest, change_id: int, payload: AssetIdsIn) -> list[Any]:
    """All or nothing: an asset you may not see refuses the batch (422)."""
    user = _agent(request)
    change = selectors.get_change_for(user, change_id)
    services.link_assets(change, payload.ids, by=user)
    return [link.asset for link in selectors.asset_links_of(change).order_by("asset__tag")[:200]]


@router.delete("/{int:change_id}/assets/{int:asset_id}", response={204: None}, summary="Remove an asset")
def unlink_asset(request: HttpRequest, change_id: int, asset_id: int) -> Status[Any]:
    user = _agent(request)
    change = selectors.get_change_for(user, change_id)
    services.unlink_asset(change, asset_selectors.get_asset_for(user, asset_id), by=user)
    return Status(204, None)


@router.post("/{int:change_id}/tickets", response=ChangeLinksOut, summary="Link an incident")
def link_ticket(request: HttpRequest, change_id: int, payload: TicketLinkIn) -> dict[str, Any]:
    """``relation``: related, or caused (an incident the change caused, counted in the review and
    the reports). A ticket you may not see answers 404."""
    user = _agent(request)
    change = selectors.get_change_for(user, change_id)
    ticket = ticket_selectors.get_ticket_for(user, payload.ticket)
    services.link_ticket(change, ticket, by=user, relation=payload.relation)
    return _links(change)


@router.post("/{int:change_id}/problems", response=ChangeLinksOut, summary="Link a problem")
def link_problem(request: HttpRequest, change_id: int, payload: ProblemLinkIn) -> dict[str, Any]:
    """``relation``: fixes (the change is the problem's permanent fix) or caused (a failed change
    that created the problem)."""
    user = _agent(request)
    change = selectors.get_change_for(user, change_id)
    problem = problem_selectors.get_problem_for(user, payload.problem)
    services.link_problem(change, problem, by=user, relation=payload.relation)
    return _links(change)
