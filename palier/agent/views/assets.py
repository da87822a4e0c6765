"""Asset pages for the desk's staff: the list with its filters and export, an asset's page (its
fields, lifecycle, timeline, tickets, relationships, files, software), its form, and the impact
view. The rules live in ``palier.assets``: these views parse, call one selector or service, and
render."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.assets import AssetFilterForm, AssetForm, AssignForm, FileForm, RelationForm
from palier.assets import display, graph, impact, permissions, selectors, services
from palier.assets.models import Asset, AssetType
from palier.assets.services import files as asset_files
from palier.audit import services as audit
from palier.lib import files
from palier.lib.errors import DomainError, NotFound, StaleVersion
from palier.lib.web import agent_required, apply_errors
from palier.people.http import AuthedRequest
from palier.reports import exports

SOON_DAYS = 30


def _asset(request: AuthedRequest, asset_id: int) -> Asset:
    try:
        return selectors.get_asset_for(request.user, asset_id)
    except NotFound:
        raise Http404("asset") from None


def _error_text(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(str(m) for m in exc.messages)


# --- the list and its export -------------------------------------------------------------------


@agent_required
def asset_list(request: AuthedRequest) -> HttpResponse:
    form = AssetFilterForm(request.GET)
    page = selectors.asset_page(request.user, form.to_filters(), after=form.cursor())
    query = request.GET.copy()
    query.pop("after", None)
    following = query.copy()
    if page.next_after:
        following["after"] = page.next_after
    today = timezone.localdate()
    context = {
        "form": form,
        "page": page,
        "rows": [(a, _warranty_state(a, today)) for a in page.items],
        "query": query.urlencode(),
        "next_query": following.urlencode() if page.next_after else "",
        "first_page": form.cursor() is None,
    }
    return render(request, "agent/assets/list.html", context)


def _warranty_state(asset: Asset, today: Any) -> str:
    if asset.warranty_end is None:
        return ""
    if asset.warranty_end < today:
        return "past"
    return "soon" if (asset.warranty_end - today).days <= SOON_DAYS else ""


HEADERS = (
    "tag",
    "name",
    "type",
    "status",
    "serial",
    "manufacturer",
    "model",
    "assigned_to",
    "location",
    "organisation",
    "owner_group",
    "supplier",
    "purchase_date",
    "purchase_cost",
    "warranty_end",
    "last_inventory_at",
)


def _cells(assets: Iterator[Asset]) -> Iterator[list[exports.Cell]]:
    for a in assets:
        yield [
            a.tag,
            a.name,
            a.type.slug,
            a.status,
            a.serial,
            a.manufacturer,
            a.model,
            a.assigned_to.email if a.assigned_to else None,
            a.location.path if a.location else None,
            a.organisation.name if a.organisation else None,
            a.owner_group.name if a.owner_group else None,
            a.supplier.name if a.supplier else None,
            a.purchase_date,
            float(a.purchase_cost) if a.purchase_cost is not None else None,
            a.warranty_end,
            timezone.localtime(a.last_inventory_at).replace(tzinfo=None) if a.last_inventory_at else None,
        ]


@agent_required
def asset_export(request: AuthedRequest, fmt: str) -> HttpResponseBase:
    """The list's filters as a CSV (streamed) or XLSX file, recorded in the audit log."""
    if fmt not in exports.FORMATS:
        raise Http404("format")
    filters = AssetFilterForm(request.GET).to_filters()
    audit.record(
        "export.assets",
        actor=request.user,
        target_type="export",
        target_label=f"assets.{fmt}",
        changes={"filters": [None, {k: v for k, v in request.GET.items() if k != "after"}]},
    )
    rows = _cells(selectors.export_rows(request.user, filters))
    filename = f"assets-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(exports.csv_chunks(HEADERS, rows), content_type=exports.CONTENT_TYPES["csv"])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    spool = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 (closed by FileResponse)
    exports.write_xlsx(spool.name, HEADERS, rows, sheet=_("Assets"))
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=exports.CONTENT_TYPES["xlsx"])


# --- an asset's page ---------------------------------------------------------------------------


@agent_required
def asset_detail(request: AuthedRequest, asset_id: int) -> HttpResponse:
    asset = _asset(request, asset_id)
    return render(request, "agent/assets/detail.html", _detail_context(request, asset))


def _detail_context(request: AuthedRequest, asset: Asset, **forms: Any) -> dict[str, Any]:
    user = request.user
    can_change = permissions.can(user, "change", asset)
    needs, needed_by = selectors.relations_of(user, asset)
    family = asset.type.family
    context: dict[str, Any] = {
        "asset": asset,
        "attributes": _attributes(asset),
        "can_change": can_change,
        "next_statuses": [
            (s, Asset.Status(s).label) for s in Asset.Status.values if s in services.TRANSITIONS[asset.status]
        ],
        "timeline": display.lines(selectors.timeline(asset, limit=100), asset.type.fields),
        "tickets": selectors.tickets_of(user, asset),
        "needs": needs,
        "needed_by": needed_by,
        "files": selectors.files_of(asset),
        "assign_form": forms.get("assign_form")
        or AssignForm(
            initial={"person": asset.assigned_to.email if asset.assigned_to else "", "version": asset.version}
        ),
        "relation_form": forms.get("relation_form") or RelationForm(),
        "file_form": forms.get("file_form") or FileForm(),
        "warranty": _warranty_state(asset, timezone.localdate()),
    }
    if family == AssetType.Family.HARDWARE:
        context["software_count"], context["software"] = selectors.installations_of(asset)
        context["inventory"] = display.inventory_summary(asset.inventory)
    if family == AssetType.Family.SERVICE:
        support = impact.impact(user, asset, direction="down")
        context["supporting"] = [n for n in support.nodes.values() if n.id != asset.pk]
    return context


def _attributes(asset: Asset) -> list[tuple[str, Any]]:
    """The type's own fields with their values, labelled in the current language."""
    out = []
    for definition in asset.type.fields:
        value = (asset.attributes or {}).get(definition["key"])
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        out.append((display.field_label(f"attributes.{definition['key']}", asset.type.fields), value))
    return out


def _back(asset: Asset, anchor: str = "") -> HttpResponse:
    return redirect(reverse("assets:detail", args=[asset.pk]) + (f"#{anchor}" if anchor else ""))


@agent_required
@require_POST
def asset_status(request: AuthedRequest, asset_id: int) -> HttpResponse:
    asset = _asset(request, asset_id)
    try:
        version = int(request.POST.get("version", ""))
        services.change_status(request.user, asset, request.POST.get("status", ""), expected_version=version)
    except ValueError:
        messages.error(request, _("The page was out of date; here it is again."))
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Status changed."))
    return _back(asset)


@agent_required
@require_POST
def asset_assign(request: AuthedRequest, asset_id: int) -> HttpResponse:
    asset = _asset(request, asset_id)
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            services.update_asset(
                request.user,
                asset,
                {"assigned_to": form.cleaned_data["person"]},
                expected_version=form.cleaned_data["version"],
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return _back(asset)
    return render(request, "agent/assets/detail.html", _detail_context(request, asset, assign_form=form), status=400)


@agent_required
@require_POST
def relation_add(request: AuthedRequest, asset_id: int) -> HttpResponse:
    asset = _asset(request, asset_id)
    form = RelationForm(request.POST)
    if form.is_valid():
        try:
            target = selectors.get_asset_by_tag_for(request.user, form.cleaned_data["target"])
            services.relate(request.user, asset, form.cleaned_data["kind"], target)
        except NotFound as exc:
            form.add_error("target", exc.message)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Relationship added."))
            return _back(asset, "relationships")
    return render(request, "agent/assets/detail.html", _detail_context(request, asset, relation_form=form), status=400)


@agent_required
@require_POST
def relation_remove(request: AuthedRequest, asset_id: int, relation_id: int) -> HttpResponse:
    asset = _asset(request, asset_id)
    try:
        services.unrelate(request.user, selectors.get_relation_for(asset, relation_id))
    except NotFound:
        raise Http404("relationship") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Relationship removed."))
    return _back(asset, "relationships")


@agent_required
@require_POST
def file_upload(request: AuthedRequest, asset_id: int) -> HttpResponse:
    asset = _asset(request, asset_id)
    form = FileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            asset_files.attach_file(request.user, asset, form.cleaned_data["file"])
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("File attached."))
            return _back(asset, "files")
    return render(request, "agent/assets/detail.html", _detail_context(request, asset, file_form=form), status=400)


@agent_required
def file_download(request: AuthedRequest, asset_id: int, file_id: int) -> FileResponse:
    try:
        stored = selectors.get_file_for(request.user, asset_id, file_id)
    except NotFound:
        raise Http404("file") from None
    return files.stored_file_response(stored.file, name=stored.name, content_type=stored.content_type)


# --- creating and editing --------------------------------------------------------------------------


@agent_required
def asset_new(request: AuthedRequest) -> HttpResponse:
    """First the type (its fields shape the form), then the form."""
    asset_type = selectors.type_by_slug(request.GET.get("type", "") or request.POST.get("type", ""))
    if asset_type is None:
        return render(request, "agent/assets/choose_type.html", {"types": selectors.active_types()})
    form = AssetForm(request.POST or None, asset_type=asset_type)
    if request.method == "POST" and form.is_valid():
        try:
            asset = services.create_asset(request.user, {"type": asset_type, **form.to_values()})
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Asset created."))
            return _back(asset)
    status = 400 if form.is_bound else 200
    return render(request, "agent/assets/form.html", {"form": form, "asset_type": asset_type}, status=status)


@agent_required
def asset_edit(request: AuthedRequest, asset_id: int) -> HttpResponse:
    asset = _asset(request, asset_id)
    if not permissions.can(request.user, "change", asset):
        raise Http404("asset")
    form = AssetForm(request.POST or None, asset_type=asset.type, initial=AssetForm.initial_for(asset))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_asset(
                request.user, asset, form.to_values(), expected_version=form.cleaned_data.get("version")
            )
        except StaleVersion as exc:
            form.add_error(None, exc.message)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return _back(asset)
    status = 400 if form.is_bound else 200
    context = {"form": form, "asset_type": asset.type, "asset": asset}
    return render(request, "agent/assets/form.html", context, status=status)


# --- the impact view -------------------------------------------------------------------------------


@agent_required
def asset_impact(request: AuthedRequest, asset_id: int) -> HttpResponse:
    asset = _asset(request, asset_id)
    direction = "down" if request.GET.get("direction") == "down" else "up"
    depth = impact.clamp_depth(request.GET.get("depth", impact.DEFAULT_DEPTH))
    picture = impact.impact(request.user, asset, direction=direction, depth=depth)
    link = reverse("assets:detail", args=[0]).removesuffix("0/")
    context = {
        "asset": asset,
        "picture": picture,
        "svg": impact.svg(picture, lambda pk: f"{link}{pk}/"),
        "rows": picture.rows(),
        "direction": direction,
        "depth": depth,
        "depths": range(1, 11),
        "max_nodes": graph.MAX_NODES,
    }
    return render(request, "agent/assets/impact.html", context)
