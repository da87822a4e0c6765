"""Administration resources of the API: one description, the same five endpoints for each.

An administrator manages groups, rules, policies, mailboxes… in the pages; each such resource is
also under ``/api/v1/`` with list, retrieve, create, update and delete (or deactivate), all
behaving alike (docs/api.md, "Administration"):

- ``GET /<path>``: keyset pages (``cursor``, ``limit``) with the resource's filters;
- ``GET /<path>/{id}``: one object, its ``ETag``; ``If-None-Match`` answers 304;
- ``POST /<path>``: 201 with ``Location`` and ``ETag``; an ``Idempotency-Key`` makes a retry
  answer 200 with the object created the first time (``core/idempotency.py``);
- ``PATCH /<path>/{id}``: only the fields sent; ``If-Match`` with the ETag you read is required
  (428 without, 412 when the object changed since: the comparison is made under a row lock);
- ``DELETE /<path>/{id}``: 204; the resource says whether it deletes or deactivates, and its
  service refuses what would orphan other records (a group that still owns tickets) with 409.

A resource is a :class:`Resource`: its schemas and the selector and service functions the pages
use too (the rules, validation and messages are theirs, so page and API cannot disagree). Mount
it with :func:`mount`. ``ETag`` is ``"<id>-<version>"`` for a model with a ``version`` column and
``"<id>-h<digest>"`` of the representation otherwise.

This module does not use ``from __future__ import annotations``: django-ninja reads the
handlers' annotations, built here from each resource's schemas.
"""

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.params.functions import Header
from pydantic import BaseModel, create_model

from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.pagination import keyset_page
from palier.api.schemas.common import Input
from palier.core import idempotency, rows
from palier.people.models import User


class PageQuery(Schema):
    """The paging parameters every list takes; a resource's filters extend it."""

    cursor: str | None = Field(None, max_length=500, description="From the previous page's next_cursor.")
    limit: int = Field(50, ge=1, le=200)


ENDPOINTS = ("list", "get", "create", "update", "delete")


def admins_only(user: User) -> bool:
    return bool(user.is_active and user.is_admin)


@dataclass(frozen=True)
class Resource:
    """One administration resource. ``name`` is singular and snake_case (``routing_rule``): it
    names the URL (``api:routing_rule_detail``), the operation ids and the idempotency scope.

    ``listing(user, filters)`` returns the queryset the list pages through (filters are the query
    fields other than cursor and limit, ``None`` left out); ``fetch(user, pk)`` returns one object
    or raises 404. ``create(user, data)``, ``update(user, obj, data)`` and ``delete(user, obj)``
    are the services (``data`` is the validated body, for ``update`` only the fields sent; ids of
    related objects are turned into objects by the resource's own ``prepare`` when given).
    ``can_read`` and ``can_write`` answer 403 early; the services check again."""

    name: str
    path: str
    tag: str
    out: type[Schema]
    listing: Callable[[User, dict[str, Any]], QuerySet[Any]]
    fetch: Callable[[User, int], Any]
    create_in: type[BaseModel] | None = None
    update_in: type[BaseModel] | None = None
    query: type[PageQuery] = PageQuery
    create: Callable[[User, dict[str, Any]], Any] | None = None
    update: Callable[[User, Any, dict[str, Any]], Any] | None = None
    delete: Callable[[User, Any], None] | None = None
    # ``PUT <path>/order`` with ``{"ids": [...]}``: every row once, in the new order (the service
    # refuses gaps, repeats and strangers)
    reorder: Callable[[User, list[int]], None] | None = None
    # False when an older endpoint already answers ``GET <path>`` (kept for compatibility)
    listed: bool = True
    # what DELETE does, in the endpoint's summary: "Delete" or "Deactivate"
    delete_verb: str = "Delete"
    order: tuple[str, ...] = ("id",)
    # the endpoints to mount: a subset where older, hand-written endpoints keep the other paths
    # (``GET /users`` searches people for agents; ``/users/{id}`` is the resource's)
    endpoints: tuple[str, ...] = ENDPOINTS
    can_read: Callable[[User], bool] = admins_only
    can_write: Callable[[User], bool] = admins_only
    forbidden: Any = field(default="")  # the 403's message: a lazy translation (``gettext_lazy``)
    # the part of ``out`` the ETag digest covers when the model has no version: leave out what
    # Palier itself keeps changing (a mailbox's health), so a poll does not make every If-Match fail
    etag_schema: type[Schema] | None = None
    label: str = ""  # "routing rule": the summaries' noun (English; the OpenAPI document is English)
    about: str = ""  # the list's description in the OpenAPI document: what the resource is, its rules

    @property
    def noun(self) -> str:
        return self.label or self.name.replace("_", " ")


def etag_of(resource: Resource, obj: Any) -> str:
    version = getattr(obj, "version", None)
    if isinstance(version, int):
        return f'"{obj.pk}-{version}"'
    body = (resource.etag_schema or resource.out).from_orm(obj).model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return f'"{obj.pk}-h{digest}"'


def _same(if_match: str, current: str) -> bool:
    given = if_match.strip()
    return given.removeprefix("W/") == current


def _deny(resource: Resource) -> Problem:
    return Problem(403, str(resource.forbidden) or _("Only administrators may manage this through the API."))


MAX_ID = 2**63 - 1  # the database's largest integer: an id beyond it names nothing


def _known(object_id: int) -> int:
    if not 0 < object_id <= MAX_ID:
        raise Http404("id")
    return object_id


def _reader(resource: Resource, request: HttpRequest) -> User:
    user = current_user(request)
    if not resource.can_read(user):
        raise _deny(resource)
    return user


def _writer(resource: Resource, request: HttpRequest) -> User:
    user = current_user(request)
    if not resource.can_write(user):
        raise _deny(resource)
    return user


def _fingerprint(payload: BaseModel) -> str:
    return hashlib.sha256(json.dumps(payload.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def _show(resource: Resource, obj: Any, response: HttpResponse) -> Any:
    response["ETag"] = etag_of(resource, obj)
    return obj


def page_schema(out: type[Schema]) -> type[Schema]:
    """``{"items": [...], "next_cursor": "…" | null}`` of ``out``."""
    page: type[Schema] = create_model(
        f"{out.__name__}Page",
        __base__=Schema,
        items=(list[out], ...),  # type: ignore[valid-type]
        next_cursor=(str | None, None),
    )
    return page


def mount(router: Router, resource: Resource) -> None:
    """Add the resource's endpoints to ``router``: those of ``resource.endpoints`` whose service is
    given, and the order endpoint when the resource has ``reorder``."""
    only = resource.endpoints
    if "list" in only and resource.listed:
        _mount_list(router, resource)
    if resource.reorder is not None:
        _mount_reorder(router, resource, resource.reorder)
    if "get" in only:
        _mount_get(router, resource)
    if "create" in only and resource.create is not None and resource.create_in is not None:
        _mount_create(router, resource, resource.create, resource.create_in)
    if "update" in only and resource.update is not None and resource.update_in is not None:
        _mount_update(router, resource, resource.update, resource.update_in)
    if "delete" in only and resource.delete is not None:
        _mount_delete(router, resource, resource.delete)


def _mount_list(router: Router, r: Resource) -> None:
    Filters = r.query

    def list_objects(request: HttpRequest, filters: Query[Filters]) -> dict[str, Any]:  # type: ignore[valid-type]
        user = _reader(r, request)
        query: PageQuery = filters
        values = {k: v for k, v in query.model_dump(exclude={"cursor", "limit"}).items() if v not in (None, [])}
        for name, value in values.items():
            if isinstance(value, int) and not isinstance(value, bool) and not -MAX_ID <= value <= MAX_ID:
                raise Problem(
                    422, _("No such item (id not found)."), errors={name: [_("No such item (id not found).")]}
                )
        items, cursor = keyset_page(r.listing(user, values), order=r.order, cursor=query.cursor, limit=query.limit)
        return {"items": items, "next_cursor": cursor}

    router.add_api_operation(
        r.path,
        ["GET"],
        list_objects,
        response=page_schema(r.out),
        summary=f"List {r.noun}s",
        operation_id=f"list_{r.name}s",
        tags=[r.tag],
        description=r.about,
        url_name=f"{r.name}_list",
    )


def _mount_get(router: Router, r: Resource) -> None:
    def get_object(request: HttpRequest, object_id: int, response: HttpResponse) -> Any:
        user = _reader(r, request)
        obj = _show(r, r.fetch(user, _known(object_id)), response)
        if request.headers.get("If-None-Match") == response["ETag"]:
            return HttpResponse(status=304, headers={"ETag": response["ETag"]})
        return obj

    router.add_api_operation(
        f"{r.path}/{{int:object_id}}",
        ["GET"],
        get_object,
        response=r.out,
        summary=f"Read a {r.noun}",
        operation_id=f"get_{r.name}",
        tags=[r.tag],
        url_name=f"{r.name}_detail",
    )


def _mount_create(
    router: Router, r: Resource, create: Callable[[User, dict[str, Any]], Any], Create: type[BaseModel]
) -> None:
    def create_object(
        request: HttpRequest,
        payload: Create,  # type: ignore[valid-type]
        response: HttpResponse,
        idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
    ) -> Status[Any]:
        user = _writer(r, request)
        body: BaseModel = payload
        data = body.model_dump()  # with the schema's defaults: the services take every field
        made: Model
        if idempotency_key:
            made, created = idempotency.create_once(
                scope=r.name,
                key=idempotency_key,
                fingerprint=_fingerprint(body),
                user=user,
                create=lambda: create(user, data),
                load=lambda pk: r.fetch(user, pk),
            )
        else:
            made, created = create(user, data), True
        obj = r.fetch(user, made.pk)
        response["Location"] = reverse(f"api:{r.name}_detail", args=[obj.pk])
        return Status(201 if created else 200, _show(r, obj, response))

    router.add_api_operation(
        r.path,
        ["POST"],
        create_object,
        response={200: r.out, 201: r.out},
        summary=f"Create a {r.noun}",
        operation_id=f"create_{r.name}",
        tags=[r.tag],
    )


def _mount_update(
    router: Router, r: Resource, update: Callable[[User, Any, dict[str, Any]], Any], Patch: type[BaseModel]
) -> None:
    def update_object(
        request: HttpRequest,
        object_id: int,
        payload: Patch,  # type: ignore[valid-type]
        response: HttpResponse,
        if_match: str | None = Header(None, alias="If-Match"),
    ) -> Any:
        user = _writer(r, request)
        body: BaseModel = payload
        obj = r.fetch(user, _known(object_id))
        if if_match is None:
            raise Problem(
                428,
                _("Send the ETag you read in an If-Match header: it keeps you from overwriting a newer change."),
                errors={"If-Match": [_("This header is required.")]},
            )
        obj = _locked_as_read(r, user, obj, if_match)
        update(user, obj, body.model_dump(exclude_unset=True))
        return _show(r, r.fetch(user, _known(object_id)), response)

    router.add_api_operation(
        f"{r.path}/{{int:object_id}}",
        ["PATCH"],
        update_object,
        response=r.out,
        summary=f"Change a {r.noun}",
        operation_id=f"update_{r.name}",
        tags=[r.tag],
    )


def _mount_delete(router: Router, r: Resource, delete: Callable[[User, Any], None]) -> None:
    def delete_object(
        request: HttpRequest, object_id: int, if_match: str | None = Header(None, alias="If-Match")
    ) -> Status[None]:
        user = _writer(r, request)
        obj = r.fetch(user, _known(object_id))
        obj = _locked_as_read(r, user, obj, if_match) if if_match is not None else rows.locked(obj)
        delete(user, obj)
        return Status(204, None)

    router.add_api_operation(
        f"{r.path}/{{int:object_id}}",
        ["DELETE"],
        delete_object,
        response={204: None},
        summary=f"{r.delete_verb} a {r.noun}",
        operation_id=f"delete_{r.name}",
        tags=[r.tag],
    )


class OrderIn(Input):
    ids: list[int] = Field(max_length=10_000, description="Every id once, in the new order.")


def _mount_reorder(router: Router, r: Resource, reorder: Callable[[User, list[int]], None]) -> None:
    def reorder_objects(request: HttpRequest, payload: OrderIn) -> Status[None]:
        reorder(_writer(r, request), list(payload.ids))
        return Status(204, None)

    router.add_api_operation(
        f"{r.path}/order",
        ["PUT"],
        reorder_objects,
        response={204: None},
        summary=f"Put the {r.noun}s in a new order",
        operation_id=f"reorder_{r.name}s",
        tags=[r.tag],
    )


def _locked_as_read(r: Resource, user: User, obj: Any, if_match: str) -> Any:
    """``obj`` under a row lock, if it is still what the caller read (412 otherwise)."""
    locked = rows.locked(obj)
    if not _same(if_match, etag_of(r, r.fetch(user, obj.pk))):
        raise Problem(412, _("It changed since you read it: read it again, then send your change."))
    return locked


def values(data: Mapping[str, Any], lookups: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
    """``data`` with the ids named in ``lookups`` turned into objects (an unknown id answers 422 on
    its field; ``None`` stays ``None``, to clear a reference)."""
    out = dict(data)
    for name, getter in lookups.items():
        if out.get(name) is not None:
            out[name] = getter(out[name], field=name)
    return out
