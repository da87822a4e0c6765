"""Inventory administration pages (admins only; everyone else gets a 404): the tokens agents post
with, and the reports received with their state, error and raw body."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms import assets_inventory as f
from palier.assets.inventory import reports as report_services
from palier.assets.inventory import selectors
from palier.assets.inventory import tokens as token_services
from palier.lib.errors import DomainError, NotFound
from palier.lib.web import admin_required, apply_errors
from palier.people.http import AuthedRequest


@admin_required
def tokens(request: AuthedRequest) -> HttpResponse:
    """List the tokens; a created token shows its secret once."""
    form = f.InventoryTokenForm(request.POST or None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        try:
            issued = token_services.create_token(**form.cleaned_data, by=request.user)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            secret, form = issued.secret, f.InventoryTokenForm()
    context = {
        "form": form,
        "tokens": selectors.tokens_for_admin(),
        "new_token": secret,
        "endpoint_url": request.build_absolute_uri(reverse("inventory:intake")),
    }
    return render(request, "agent/assets_inventory/tokens.html", context, status=400 if form.errors else 200)


@admin_required
@require_POST
def token_revoke(request: AuthedRequest, token_id: int) -> HttpResponse:
    try:
        token = selectors.get_token_for_admin(token_id)
    except NotFound:
        raise Http404("token") from None
    token_services.revoke_token(token, by=request.user)
    messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect("assets_inventory:tokens")


def _before(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


@admin_required
def reports(request: AuthedRequest) -> HttpResponse:
    page = selectors.report_page(state=request.GET.get("state", ""), before=_before(request.GET.get("before")))
    return render(
        request,
        "agent/assets_inventory/reports.html",
        {"page": page, "states": selectors.STATES},
    )


@admin_required
def report_raw(request: AuthedRequest, report_id: int) -> HttpResponse:
    """The report's body as received (decompressed), for diagnosis; audited."""
    try:
        report = report_services.raw_for_admin(report_id, by=request.user)
    except NotFound:
        raise Http404("report") from None
    response = HttpResponse(bytes(report.body), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="inventory-report-{report.pk}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
