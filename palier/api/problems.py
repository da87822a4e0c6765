"""Problems and known errors: list, create, read, change, lifecycle, incidents, comments and
assets (docs/problems.md, "API").

The same rules as the pages (``problems/permissions.py``): problems are internal records, so
agents, managers and administrators see and work them; anyone else gets 403 on the lists and
404 on a problem. Resolving and closing are for problem managers. Linking incidents checks each
ticket's own rule: an incident the caller may not see refuses the whole batch (422).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
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
from palier.api.schemas.problems import (
    IdsIn,
    IncidentPage,
    LinkResultOut,
    ProblemCommentIn,
    ProblemCommentOut,
    ProblemCommentPage,
    ProblemCreate,
    ProblemOut,
    ProblemPage,
    ProblemPatch,
    ProblemTransitionIn,
)
from palier.people.models import User
from palier.problems import permissions, services
from palier.problems import selectors_api as selectors
from palier.problems.models import Problem, ProblemIdempotencyKey
from palier.tickets import selectors as ticket_selectors

router = Router()


# --- helpers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Version:
    pk: int
    etag: str


def _tagged(problem: Problem) -> _Version:
    return _Version(problem.pk, f'"{problem.pk}-{problem.version}"')


def _expected(problem: Problem, if_match: str | None, version: int | None, *, required: bool) -> int | None:
    return etag.expected_version(
        _tagged(problem),
        if_match,
        version,
        required=required,
        mismatch=_("If-Match does not match this problem; send the ETag you received."),
    )


def _agent(request: HttpRequest) -> User:
    """The caller, who must be desk staff (403 otherwise: problems are internal records)."""
    user = current_user(request)
    if not permissions.can(user, "view"):
        raise HttpProblem(403, _("Only the desk's agents may work with problems."))
    return user


def _render(user: User, problem_id: int, response: HttpResponse) -> Problem:
    problem = selectors.get_problem_for(user, problem_id)
    response["ETag"] = _tagged(problem).etag
    return problem


REFERENCES = (
    ("category", lookups.category_by_id),
    ("group", lookups.group_by_id),
    ("assignee", lookups.user_by_id),
)


def _values(data: dict[str, Any]) -> dict[str, Any]:
    """The sent fields with ids turned into objects (an unknown id answers 422 on its field)."""
    for name, getter in REFERENCES:
        if data.get(name) is not None:
            data[name] = getter(data[name], field=name)
    for name in ("description", "root_cause", "workaround", "permanent_fix", "impact", "urgency", "title"):
        if name in data and data[name] is None:
            data.pop(name)
    return data


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(25, ge=1, le=100)


class ProblemListQuery(PageQuery):
    status: list[str] = Field(default_factory=list, description="Repeat it or separate with commas.")
    group: int | None = None
    category: int | None = None
    q: str = Field(
        "", max_length=200, description="Words in the reference, title, description, root cause, workaround."
    )

    def to_filters(self) -> selectors.ProblemFilters:
        statuses = _split(self.status)
        if set(statuses) - set(Problem.Status.values):
            raise ValidationError(
                {"status": _("Unknown status; use one of: %(s)s.") % {"s": ", ".join(Problem.Status.values)}}
            )
        return selectors.ProblemFilters(status=tuple(statuses), group=self.group, category=self.category, q=self.q)


# --- problems -------------------------------------------------------------------------------------


@router.get("", response=ProblemPage, url_name="problem_list", summary="List problems")
def list_problems(request: HttpRequest, query: Query[ProblemListQuery]) -> dict[str, Any]:
    """Problems, newest first, filtered by status (``status=known_error`` is the known-error
    base), group, category and words; keyset-paginated: pass ``next_cursor`` back as ``cursor``."""
    user = _agent(request)
    items, cursor = keyset_page(
        selectors.filtered(user, query.to_filters()), order=("-id",), cursor=query.cursor, limit=query.limit
    )
    return {"items": items, "next_cursor": cursor}


@router.post("", response={200: ProblemOut, 201: ProblemOut}, summary="Open a problem")
def create_problem(
    request: HttpRequest,
    payload: ProblemCreate,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Open a problem, optionally with its incidents, affected assets and articles (all checked
    first: one refused refuses the creation). Retrying with the same ``Idempotency-Key`` returns
    the problem created the first time (200); the same key with another body answers 422."""
    user = _agent(request)
    data = payload.model_dump(exclude_unset=True)
    incidents = data.pop("incidents", [])
    assets = data.pop("assets", [])
    articles = data.pop("articles", [])
    values = _values(data)

    def create() -> Problem:
        return services.create_problem(
            by=user, asset_ids=assets, incident_ids=incidents, article_ids=articles, **values
        )

    created = True
    if idempotency_key:
        fingerprint = hashlib.sha256(json.dumps(payload.model_dump(), sort_keys=True).encode()).hexdigest()
        problem, created = services.create_once(
            store=ProblemIdempotencyKey,
            field="problem",
            key=idempotency_key,
            fingerprint=fingerprint,
            by=user,
            create=create,
        )
    else:
        problem = create()
    response["Location"] = reverse("api:problem_detail", args=[problem.pk])
    return Status(201 if created else 200, _render(user, problem.pk, response))


@router.get("/{int:problem_id}", response=ProblemOut, url_name="problem_detail", summary="Read a problem")
def get_problem(request: HttpRequest, problem_id: int, response: HttpResponse) -> Problem | HttpResponse:
    """One problem. The ETag header carries its version; ``If-None-Match`` with it answers 304."""
    problem = _render(_agent(request), problem_id, response)
    if request.headers.get("If-None-Match") == response["ETag"]:
        return HttpResponse(status=304, headers={"ETag": response["ETag"]})
    return problem


@router.patch("/{int:problem_id}", response=ProblemOut, summary="Change a problem")
def update_problem(
    request: HttpRequest,
    problem_id: int,
    payload: ProblemPatch,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Problem:
    """Change fields. Send the version you saw (If-Match or ``version``): none answers 428, a
    stale one 412. A resolved or closed problem takes only its permanent fix (409 otherwise).
    The status has its own endpoint."""
    user = _agent(request)
    problem = selectors.get_problem_for(user, problem_id)
    expected = _expected(problem, if_match, payload.version, required=True)
    values = _values(payload.model_dump(exclude_unset=True, exclude={"version"}))
    services.update_problem(problem, by=user, version=expected, **values)
    return _render(user, problem.pk, response)


@router.post("/{int:problem_id}/transition", response=ProblemOut, summary="Move a problem along its lifecycle")
def transition_problem(
    request: HttpRequest,
    problem_id: int,
    payload: ProblemTransitionIn,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Problem:
    """new → investigating → root cause known → known error → resolved → closed. A move out of
    order answers 409; a known error without its workaround 422; resolving or closing by
    someone who is not a problem manager 403."""
    user = _agent(request)
    problem = selectors.get_problem_for(user, problem_id)
    expected = _expected(problem, if_match, payload.version, required=False)
    services.transition_problem(problem, to=payload.status, by=user, version=expected)
    return _render(user, problem.pk, response)


# --- incidents ------------------------------------------------------------------------------------


def _incident_out(link: Any) -> dict[str, Any]:
    ticket = link.ticket
    return {
        "id": ticket.pk,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "linked_at": link.linked_at,
        "workaround_applied_at": link.workaround_applied_at,
        "link_id": link.pk,
    }


@router.get("/{int:problem_id}/incidents", response=IncidentPage, summary="The problem's incidents")
def list_incidents(request: HttpRequest, problem_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    """The incidents linked to the problem, oldest link first, keyset-paginated."""
    problem = selectors.get_problem_for(_agent(request), problem_id)
    links, cursor = keyset_page(
        selectors.incident_links_of(problem), order=("id",), cursor=page.cursor, limit=page.limit
    )
    return {"items": [_incident_out(link) for link in links], "next_cursor": cursor}


@router.post("/{int:problem_id}/incidents", response=LinkResultOut, summary="Link incidents")
def link_incidents(request: HttpRequest, problem_id: int, payload: IdsIn) -> dict[str, int]:
    """Link up to 1,000 incidents at once, all or nothing: a ticket you may not see, a request,
    or an incident of another problem refuses the batch (422) and links none. Linking one already
    linked here does nothing, so a retry is safe."""
    user = _agent(request)
    problem = selectors.get_problem_for(user, problem_id)
    outcome = services.link_incidents(problem, payload.ids, by=user)
    return {"linked": len(outcome.linked), "already": outcome.already}


@router.delete("/{int:problem_id}/incidents/{int:ticket_id}", response={204: None}, summary="Unlink an incident")
def unlink_incident(request: HttpRequest, problem_id: int, ticket_id: int) -> Status[Any]:
    user = _agent(request)
    problem = selectors.get_problem_for(user, problem_id)
    ticket = ticket_selectors.get_ticket_for(user, ticket_id)
    services.unlink_incident(problem, ticket, by=user)
    return Status(204, None)


# --- comments -------------------------------------------------------------------------------------


@router.get("/{int:problem_id}/comments", response=ProblemCommentPage, summary="The problem's comments")
def list_comments(request: HttpRequest, problem_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    """Comments, oldest first, internal and public (``internal`` tells which)."""
    problem = selectors.get_problem_for(_agent(request), problem_id)
    items, cursor = keyset_page(selectors.comments_of(problem), order=("id",), cursor=page.cursor, limit=page.limit)
    return {"items": items, "next_cursor": cursor}


@router.post("/{int:problem_id}/comments", response={201: ProblemCommentOut}, summary="Comment on a problem")
def add_comment(request: HttpRequest, problem_id: int, payload: ProblemCommentIn) -> Status[Any]:
    """An internal comment (the default) or a public one, shown with the incidents."""
    user = _agent(request)
    problem = selectors.get_problem_for(user, problem_id)
    comment = services.comment_on_problem(problem, by=user, body=payload.body, internal=payload.internal)
    return Status(201, comment)


# --- assets ---------------------------------------------------------------------------------------


@router.get("/{int:problem_id}/assets", response=list[AssetRef], summary="Affected assets and services")
def list_assets(request: HttpRequest, problem_id: int) -> list[Any]:
    problem = selectors.get_problem_for(_agent(request), problem_id)
    return [link.asset for link in selectors.asset_links_of(problem).order_by("asset__tag")[:200]]


@router.post("/{int:problem_id}/assets", response=list[AssetRef], summary="Add affected assets")
def link_assets(request: HttpRequest, problem_id: int, payload: IdsIn) -> list[Any]:
    """Add assets or services you may see (all or nothing: one unknown refuses the batch, 422).
    Answers the problem's assets after the change."""
    user = _agent(request)
    problem = selectors.get_problem_for(user, problem_id)
    services.link_assets(problem, payload.ids, by=user)
    return [link.asset for link in selectors.asset_links_of(problem).order_by("asset__tag")[:200]]


@router.delete("/{int:problem_id}/assets/{int:asset_id}", response={204: None}, summary="Remove an affected asset")
def unlink_asset(request: HttpRequest, problem_id: int, asset_id: int) -> Status[Any]:
    user = _agent(request)
    problem = selectors.get_problem_for(user, problem_id)
    link = selectors.asset_links_of(problem).filter(asset_id=asset_id).first()
    if link is not None:
        services.unlink_asset(problem, link.asset, by=user)
    return Status(204, None)
