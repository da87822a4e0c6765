"""Administration of the asset catalogue (administrators): asset types and their fields,
locations (a tree), suppliers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.assets import LocationForm, SupplierForm, TypeForm
from palier.agent.views._admin import form_page, save_form
from palier.assets import selectors
from palier.assets.models import Location
from palier.assets.services import locations, suppliers, types
from palier.lib.errors import DomainError, NotFound
from palier.lib.web import admin_required, apply_errors
from palier.people.http import AuthedRequest


def _save_type(request: AuthedRequest, form: TypeForm, write: object, **extra: object) -> object:
    """``save_form``, with the service's errors on ``fields`` shown on the definitions box."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return write(**form.to_service(), **extra, by=request.user)  # type: ignore[operator]
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "fields" in exc.error_dict:
            for error in exc.error_dict.pop("fields"):
                form.add_error("definitions", error.messages)
        if not hasattr(exc, "error_dict") or exc.error_dict:
            apply_errors(form, exc)
        return None
    except DomainError as exc:
        apply_errors(form, exc)
        return None


@admin_required
def type_list(request: AuthedRequest) -> HttpResponse:
    form = TypeForm(request.POST or None)
    if _save_type(request, form, types.create_type) is not None:
        messages.success(request, _("Asset type created."))
        return redirect("assets:admin-types")
    return form_page(request, "agent/assets/admin/types.html", form, types=selectors.all_types())


@admin_required
def type_edit(request: AuthedRequest, type_id: int) -> HttpResponse:
    try:
        asset_type = selectors.get_type(type_id)
    except NotFound:
        raise Http404("type") from None
    form = TypeForm(request.POST or None, editing=True, initial=TypeForm.initial_for(asset_type))
    if _save_type(request, form, types.update_type, asset_type=asset_type) is not None:
        messages.success(request, _("Saved."))
        return redirect("assets:admin-types")
    return form_page(request, "agent/assets/admin/type_edit.html", form, asset_type=asset_type)


@admin_required
def location_list(request: AuthedRequest) -> HttpResponse:
    form = LocationForm(request.POST or None)
    if save_form(request, form, locations.create_location) is not None:
        messages.success(request, _("Location created."))
        return redirect("assets:admin-locations")
    return form_page(request, "agent/assets/admin/locations.html", form, locations=selectors.location_tree())


def _location(location_id: int) -> Location:
    try:
        return selectors.get_location(location_id)
    except NotFound:
        raise Http404("location") from None


@admin_required
def location_edit(request: AuthedRequest, location_id: int) -> HttpResponse:
    location = _location(location_id)
    initial = {
        "name": location.name,
        "kind": location.kind,
        "parent": location.parent_id or "",
        "address": location.address,
    }
    form = LocationForm(request.POST or None, initial=initial)
    if save_form(request, form, locations.update_location, location=location) is not None:
        messages.success(request, _("Saved."))
        return redirect("assets:admin-locations")
    return form_page(request, "agent/assets/admin/location_edit.html", form, location=location)


@admin_required
@require_POST
def location_delete(request: AuthedRequest, location_id: int) -> HttpResponse:
    location = _location(location_id)
    try:
        locations.delete_location(location, by=request.user)
    except (ValidationError, DomainError) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else exc.message)
    else:
        messages.success(request, _("Location deleted."))
    return redirect("assets:admin-locations")


@admin_required
def supplier_list(request: AuthedRequest) -> HttpResponse:
    form = SupplierForm(request.POST or None)
    if save_form(request, form, suppliers.create_supplier) is not None:
        messages.success(request, _("Supplier created."))
        return redirect("assets:admin-suppliers")
    return form_page(request, "agent/assets/admin/suppliers.html", form, suppliers=list(selectors.suppliers()))


@admin_required
def supplier_edit(request: AuthedRequest, supplier_id: int) -> HttpResponse:
    try:
        supplier = selectors.get_supplier(supplier_id)
    except NotFound:
        raise Http404("supplier") from None
    form = SupplierForm(request.POST or None, initial=SupplierForm.initial_for(supplier))
    if save_form(request, form, suppliers.update_supplier, supplier=supplier) is not None:
        messages.success(request, _("Saved."))
        return redirect("assets:admin-suppliers")
    return form_page(request, "agent/assets/admin/supplier_edit.html", form, supplier=supplier)
