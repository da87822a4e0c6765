"""Service catalog administration through the API: items, categories, and each item's form fields,
approval stages and fulfilment task templates (docs/catalog.md, "API"). The requesters' reads
(``GET /catalog/items``, ``/catalog/items/{id}``, ``/catalog/categories``) stay in
``palier/api/catalog.py``; the resources here are mounted on the same router, so one path keeps
one view. Every write validates through the pages' forms (``catalog/admin_forms.py``) and saves
through ``catalog.services``: page and API give the same messages.

No ``from __future__ import annotations``: django-ninja reads the item parts' creation handlers'
annotations, built here from each part's schema."""

from typing import Annotated, Any, Literal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Schema, Status
from ninja.params.functions import Header
from pydantic import BaseModel

from palier.api import catalog as catalog_api
from palier.api.errors import Problem
from palier.api.resources import Resource, _fingerprint, _locked_as_read, _show, _writer, mount
from palier.api.schemas.catalog import (
    CatalogCategoryOut,
    FieldAdminOut,
    FieldKind,
    FulfilmentName,
    ItemAdminOut,
    StageAdminOut,
    TaskAdminOut,
    Visibility,
)
from palier.api.schemas.common import Input
from palier.catalog import admin_forms, selectors, services
from palier.catalog.models import ApprovalStage, CatalogCategory, CatalogItem, ItemField, TaskTemplate
from palier.core import idempotency
from palier.people.models import User

Level = Literal["low", "medium", "high"]
# an id the databases can hold (a larger one would not reach the form's "not one of the choices")
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Op = Literal["equals", "one_of", "not_empty", "true", "false"]


def _merged(obj: Any, fields: tuple[str, ...], data: dict[str, Any]) -> dict[str, Any]:
    """The object's current values overlaid with the fields sent (the forms take them all)."""
    return {name: getattr(obj, name) for name in fields} | data


def _valid(form: Any, renames: dict[str, str] | None = None) -> Any:
    """``form`` when valid, else a ``ValidationError`` naming the API's fields (422)."""
    if form.is_valid():
        return form
    names = renames or {}
    errors = {names.get(name, name): [str(m) for m in messages] for name, messages in form.errors.items()}
    if NON_FIELD_ERRORS in errors:
        errors[NON_FIELD_ERRORS] = errors.pop(NON_FIELD_ERRORS)
    raise ValidationError(errors)


def _form_data(data: dict[str, Any]) -> dict[str, Any]:
    """JSON values as a form reads them: ``None`` is an empty field, objects are their ids."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            out[name] = ""
        elif isinstance(value, (list, tuple)):
            out[name] = [getattr(v, "pk", v) for v in value]
        else:
            out[name] = getattr(value, "pk", value)
    return out


# --- categories ----------------------------------------------------------------------------------------


class CategoryIn(Input):
    name_fr: str = Field(max_length=120)
    name_en: str = Field(max_length=120)
    order: int = Field(0, ge=0, le=100_000)


class CategoryPatch(Input):
    name_fr: str | None = Field(None, max_length=120)
    name_en: str | None = Field(None, max_length=120)
    order: int | None = Field(None, ge=0, le=100_000)


CATEGORY_FIELDS = ("name_fr", "name_en", "order")


def _save_category(user: User, data: dict[str, Any], category: CatalogCategory | None = None) -> CatalogCategory:
    if category is not None:
        data = _merged(category, CATEGORY_FIELDS, {k: v for k, v in data.items() if v is not None})
    form = _valid(admin_forms.CategoryForm(_form_data(data), instance=category))
    return services.save_category(form=form, by=user)


CATEGORY = Resource(
    name="catalog_category",
    path="/categories",
    tag="service catalog",
    label="catalog category",
    about="The sections of the catalog, in order. Deleting one that still holds items is refused (409).",
    out=CatalogCategoryOut,
    listed=False,  # GET /catalog/categories: the requester's categories; every one for administrators
    listing=lambda user, filters: selectors.all_categories(),
    fetch=lambda user, pk: selectors.admin_category(pk),
    create_in=CategoryIn,
    update_in=CategoryPatch,
    create=lambda user, data: _save_category(user, data),
    update=lambda user, category, data: _save_category(user, data, category),
    delete=lambda user, category: services.delete_category(category=category, by=user),
)


# --- items -----------------------------------------------------------------------------------------------


class ItemIn(Input):
    slug: str = Field(max_length=80)
    name_fr: str = Field(max_length=150)
    name_en: str = Field(max_length=150)
    description_fr: str = Field("", max_length=20_000)
    description_en: str = Field("", max_length=20_000)
    category: Id | None = None
    icon: str = Field("", max_length=16)
    is_active: bool = True
    visibility: Visibility = "everyone"
    organisations: list[Id] = Field(default_factory=list, max_length=1000)
    groups: list[Id] = Field(default_factory=list, max_length=1000)
    target_group: Id | None = None
    ticket_category: Id | None = None
    impact: Level = "low"
    urgency: Level = "low"
    fulfilment: FulfilmentName = "sequential"
    order: int = Field(0, ge=0, le=100_000)
    remind_after_hours: int = Field(0, ge=0, le=10_000, description="0: approvers are not reminded.")


class ItemPatch(Input):
    slug: str | None = Field(None, max_length=80)
    name_fr: str | None = Field(None, max_length=150)
    name_en: str | None = Field(None, max_length=150)
    description_fr: str | None = Field(None, max_length=20_000)
    description_en: str | None = Field(None, max_length=20_000)
    category: Id | None = None
    icon: str | None = Field(None, max_length=16)
    is_active: bool | None = Field(None, description="false: requesters no longer see the item.")
    visibility: Visibility | None = None
    organisations: list[Id] | None = Field(None, max_length=1000)
    groups: list[Id] | None = Field(None, max_length=1000)
    target_group: Id | None = None
    ticket_category: Id | None = None
    impact: Level | None = None
    urgency: Level | None = None
    fulfilment: FulfilmentName | None = None
    order: int | None = Field(None, ge=0, le=100_000)
    remind_after_hours: int | None = Field(None, ge=0, le=10_000)


ITEM_FIELDS = tuple(ItemIn.model_fields)
NULLABLE = {"category", "target_group", "ticket_category"}


def _current_item(item: CatalogItem) -> dict[str, Any]:
    current = {name: getattr(item, name) for name in ITEM_FIELDS if name not in ("organisations", "groups")}
    return current | {
        "organisations": [o.pk for o in item.organisations.all()],
        "groups": [g.pk for g in item.groups.all()],
    }


def _sent(data: dict[str, Any], nullable: set[str]) -> dict[str, Any]:
    """The fields of a PATCH that change something: ``null`` clears only a nullable field."""
    return {name: value for name, value in data.items() if value is not None or name in nullable}


def _save_item(user: User, data: dict[str, Any], item: CatalogItem | None = None) -> CatalogItem:
    if item is not None:
        data = _current_item(item) | _sent(data, NULLABLE)
    form = _valid(admin_forms.ItemForm(_form_data(data), instance=item))
    return services.save_item(form=form, by=user)


ITEM = Resource(
    name="catalog_item",
    path="/items",
    tag="service catalog",
    label="catalog item",
    about="What requesters may ask for. Switched off with is_active=false rather than deleted (its requests keep it).",
    out=ItemAdminOut,
    listed=False,  # GET /catalog/items: what the caller may request (include_inactive for administrators)
    # GET /catalog/items/{item_id} is the requesters' view, which answers admins with this form; the
    # PATCH is mounted below at the same path, parameter name included (one path, one view)
    endpoints=("create",),
    listing=lambda user, filters: selectors.admin_items(),
    fetch=lambda user, pk: selectors.admin_item(pk),
    create_in=ItemIn,
    update_in=ItemPatch,
    create=lambda user, data: _save_item(user, data),
    update=lambda user, item, data: _save_item(user, data, item),
)


# --- an item's parts: form fields, approval stages, fulfilment tasks -------------------------------------


class ChoiceIn(Input):
    value: str = Field(min_length=1, max_length=100)
    fr: str = Field("", max_length=200)
    en: str = Field("", max_length=200)


class RuleIn(Input):
    field: str = Field(max_length=50, description="The key of an earlier field.")
    op: Op
    value: str | list[str] | None = Field(None, description="equals: a value; one_of: a list of values.")


class FilterIn(Input):
    field: str = Field(max_length=50, description="The key of an earlier single choice.")
    map: dict[str, list[str]] = Field(max_length=200, description="Each of its answers → the options offered.")


class ConditionsIn(Input):
    show: RuleIn | None = None
    require: RuleIn | None = None
    filter: FilterIn | None = None


def _rule(rule: dict[str, Any] | None) -> dict[str, Any] | None:
    """A rule as ``catalog/conditions.py`` stores it (as the page's form writes it)."""
    if not rule:
        return None
    value = rule.get("value")
    out: dict[str, Any] = {"field": rule["field"], "op": rule["op"]}
    if rule["op"] == "equals":
        out["value"] = value if isinstance(value, str) else ", ".join(value or [])
    elif rule["op"] == "one_of":
        out["value"] = [value] if isinstance(value, str) else list(value or [])
    return out


def _conditions(sent: dict[str, Any] | None) -> dict[str, Any]:
    sent = sent or {}
    rules = {"show": _rule(sent.get("show")), "require": _rule(sent.get("require")), "filter": sent.get("filter")}
    return {name: rule for name, rule in rules.items() if rule}


class FieldIn(Input):
    key: str = Field(max_length=50, description="The answer's name in a request (letters, digits, - and _).")
    kind: FieldKind
    label_fr: str = Field(max_length=200)
    label_en: str = Field(max_length=200)
    help_fr: str = Field("", max_length=300)
    help_en: str = Field("", max_length=300)
    required: bool = False
    min_value: float | None = None
    max_value: float | None = None
    choices: list[ChoiceIn] = Field(default_factory=list, max_length=500, description="Single and multiple choice.")
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)


class FieldPatch(Input):
    key: str | None = Field(None, max_length=50)
    kind: FieldKind | None = None
    label_fr: str | None = Field(None, max_length=200)
    label_en: str | None = Field(None, max_length=200)
    help_fr: str | None = Field(None, max_length=300)
    help_en: str | None = Field(None, max_length=300)
    required: bool | None = None
    min_value: float | None = None
    max_value: float | None = None
    choices: list[ChoiceIn] | None = Field(None, max_length=500)
    conditions: ConditionsIn | None = Field(None, description="The whole set: {} removes every condition.")
    position: int | None = Field(None, ge=1, description="1: first. The conditions must still hold.")


FIELD_FIELDS = ("key", "kind", "label_fr", "label_en", "help_fr", "help_en", "required", "min_value", "max_value")


def _save_field(user: User, item: CatalogItem, data: dict[str, Any], field: ItemField | None = None) -> ItemField:
    data = dict(data)
    position = data.pop("position", None)
    if field is not None:
        current = _merged(field, FIELD_FIELDS, {"choices": field.choices, "conditions": field.conditions})
        data = current | _sent(data, {"min_value", "max_value"})
    form = admin_forms.FieldDataForm(
        _form_data({name: data.get(name) for name in FIELD_FIELDS} | {"required": bool(data.get("required"))}),
        instance=field,
        choices=list(data.get("choices") or []),
        conditions=_conditions(data.get("conditions")),
    )
    saved = services.save_field(item=item, form=_valid(form), by=user)
    if position is not None:
        services.place_part(part=saved, position=position, by=user)
    return saved


class StageIn(Input):
    kind: Literal["manager", "people", "group"]
    group: Id | None = Field(None, description="Kind ``group``: the group whose members decide.")
    people: list[str] = Field(default_factory=list, max_length=100, description="Kind ``people``: email addresses.")
    rule: Literal["any", "all", "quorum"] = "any"
    quorum: int | None = Field(None, ge=1, le=1000)
    with_previous: bool = False


class StagePatch(Input):
    kind: Literal["manager", "people", "group"] | None = None
    group: Id | None = None
    people: list[str] | None = Field(None, max_length=100)
    rule: Literal["any", "all", "quorum"] | None = None
    quorum: int | None = Field(None, ge=1, le=1000)
    with_previous: bool | None = None
    position: int | None = Field(None, ge=1)


def _save_stage(
    user: User, item: CatalogItem, data: dict[str, Any], stage: ApprovalStage | None = None
) -> ApprovalStage:
    data = dict(data)
    position = data.pop("position", None)
    if stage is not None:
        current = _merged(stage, ("kind", "group", "rule", "quorum", "with_previous"), {})
        current["people"] = [p.email for p in stage.people.all()]
        data = current | _sent(data, {"group", "quorum"})
    people = data.pop("people", None) or []
    form = admin_forms.StageForm(_form_data(data) | {"people_emails": "\n".join(people)}, instance=stage)
    saved = services.save_stage(item=item, form=_valid(form, {"people_emails": "people"}), by=user)
    if position is not None:
        services.place_part(part=saved, position=position, by=user)
    return saved


class TaskIn(Input):
    subject_fr: str = Field(max_length=200)
    subject_en: str = Field(max_length=200)
    group: Id | None = Field(None, description="The group the task's ticket goes to.")


class TaskPatch(Input):
    subject_fr: str | None = Field(None, max_length=200)
    subject_en: str | None = Field(None, max_length=200)
    group: Id | None = None
    position: int | None = Field(None, ge=1)


def _save_task(user: User, item: CatalogItem, data: dict[str, Any], task: TaskTemplate | None = None) -> TaskTemplate:
    data = dict(data)
    position = data.pop("position", None)
    if task is not None:
        data = _merged(task, ("subject_fr", "subject_en", "group"), {}) | _sent(data, {"group"})
    form = admin_forms.TaskForm(_form_data(data), instance=task)
    saved = services.save_task(item=item, form=_valid(form), by=user)
    if position is not None:
        services.place_part(part=saved, position=position, by=user)
    return saved


def _part(
    kind: str, name: str, out: type[Schema], save: Any, create_in: type[BaseModel], patch: type[BaseModel]
) -> Resource:
    return Resource(
        name=f"catalog_{name}",
        path=f"/{kind}",
        tag="service catalog",
        label=f"catalog {name.replace('_', ' ')}",
        out=out,
        endpoints=("get", "update", "delete"),  # created under their item: POST /catalog/items/{id}/<kind>
        listing=lambda user, filters: selectors.admin_parts(kind),
        fetch=lambda user, pk: selectors.admin_part(kind, pk),
        create_in=create_in,
        update_in=patch,
        update=lambda user, part, data: save(user, part.item, data, part),
        delete=lambda user, part: services.remove_part(part=part, by=user),
    )


FIELD = _part("fields", "field", FieldAdminOut, _save_field, FieldIn, FieldPatch)
STAGE = _part("stages", "stage", StageAdminOut, _save_stage, StageIn, StagePatch)
TASK = _part("tasks", "task", TaskAdminOut, _save_task, TaskIn, TaskPatch)


def _mount_part_create(resource: Resource, kind: str, save: Any, Create: type[BaseModel]) -> None:
    """``POST /catalog/items/{id}/<kind>``: the part added at the end of the item's list."""

    def create_part(
        request: HttpRequest,
        item_id: int,
        payload: Create,  # type: ignore[valid-type]
        response: HttpResponse,
        idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
    ) -> Status[Any]:
        user = _writer(resource, request)
        item = selectors.admin_item(item_id)
        body: BaseModel = payload
        data = body.model_dump()
        if idempotency_key:
            made, created = idempotency.create_once(
                scope=f"{resource.name}:{item.pk}",
                key=idempotency_key,
                fingerprint=_fingerprint(body),
                user=user,
                create=lambda: save(user, item, data),
                load=lambda pk: resource.fetch(user, pk),
            )
        else:
            made, created = save(user, item, data), True
        obj = resource.fetch(user, made.pk)
        response["Location"] = reverse(f"api:{resource.name}_detail", args=[obj.pk])
        return Status(201 if created else 200, _show(resource, obj, response))

    catalog_api.router.add_api_operation(
        f"/items/{{int:item_id}}/{kind}",
        ["POST"],
        create_part,
        response={200: resource.out, 201: resource.out},
        summary=f"Add a {resource.noun} to an item",
        operation_id=f"create_{resource.name}",
        tags=[resource.tag],
    )


@catalog_api.router.patch("/items/{int:item_id}", response=ItemAdminOut, summary="Change a catalog item")
def update_catalog_item(
    request: HttpRequest,
    item_id: int,
    payload: ItemPatch,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """Only the fields sent change; ``If-Match`` with the ``ETag`` of ``GET /catalog/items/{id}`` is
    required (428 without, 412 when the item changed since). ``is_active: false`` takes the item
    out of the catalog; the requests made keep it."""
    user = _writer(ITEM, request)
    item = ITEM.fetch(user, item_id)
    if if_match is None:
        raise Problem(
            428,
            _("Send the ETag you read in an If-Match header: it keeps you from overwriting a newer change."),
            errors={"If-Match": [_("This header is required.")]},
        )
    item = _locked_as_read(ITEM, user, item, if_match)
    _save_item(user, payload.model_dump(exclude_unset=True), item)
    return _show(ITEM, ITEM.fetch(user, item_id), response)


RESOURCES: tuple[Resource, ...] = ()  # all mounted on the catalog's router (``/api/v1/catalog``)
for _resource in (CATEGORY, ITEM, FIELD, STAGE, TASK):
    mount(catalog_api.router, _resource)
_mount_part_create(FIELD, "fields", _save_field, FieldIn)
_mount_part_create(STAGE, "stages", _save_stage, StageIn)
_mount_part_create(TASK, "tasks", _save_task, TaskIn)
