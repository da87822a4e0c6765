"""Licences and warnings (desk staff), mounted at /agent/assets/licences/ as ``assets_licences:``:
the compliance report (CSV too), the licences expiring or over-allocated, the counts of assets
nobody owns and of machines with a stale inventory (links to the filtered asset list), and an
administrator's audited reveal of a licence key."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.assets_licences import SeatForm
from palier.assets import licences, reminders
from palier.assets import selectors as asset_selectors
from palier.assets.models import Asset, Licence
from palier.lib.errors import DomainError, NotFound
from palier.lib.web import admin_required, agent_required, apply_errors
from palier.people import selectors as people_selectors
from palier.people.http import AuthedRequest
from palier.people.models import User
from palier.reports import exports

LIST_SIZE = 50


@agent_required
def licence_overview(request: AuthedRequest) -> HttpResponse:
    user = request.user
    after = request.GET.get("after", "")
    listed = licences.licences_visible_to(user).order_by("asset__tag")
    if after:
        listed = listed.filter(asset__tag__gt=after[:64])
    rows = list(listed[: LIST_SIZE + 1])
    context = {
        "compliance": licences.compliance(user),
        "expiring": list(licences.expiring(user, days=settings.PALIER_LICENCE_NOTICE_DAYS)[:LIST_SIZE]),
        "over_allocated": list(licences.over_allocated(user)[:LIST_SIZE]),
        "licences": [(lic, licences.masked_key(lic)) for lic in rows[:LIST_SIZE]],
        "next_after": rows[LIST_SIZE - 1].asset.tag if len(rows) > LIST_SIZE else "",
        "warnings": reminders.warning_counts(user),
        "notice_days": settings.PALIER_LICENCE_NOTICE_DAYS,
        "stale_days": settings.PALIER_INVENTORY_STALE_DAYS,
        "can_reveal": user.is_admin,
        "can_import": user.is_admin,
    }
    return render(request, "agent/assets_licences/overview.html", context)


def _cells(rows: list[licences.ComplianceRow]) -> Iterator[list[str | int]]:
    for row in rows:
        yield [row.product, row.licences, row.owned, row.assigned, row.installed, row.state_label]


@agent_required
def compliance_export(request: AuthedRequest) -> StreamingHttpResponse:
    headers = [_("product"), _("licences"), _("seats owned"), _("seats assigned"), _("installed on"), _("state")]
    response = StreamingHttpResponse(
        exports.csv_chunks(headers, _cells(licences.compliance(request.user))),
        content_type=exports.CONTENT_TYPES["csv"],
    )
    response["Content-Disposition"] = f'attachment; filename="licence-compliance-{timezone.localdate():%Y%m%d}.csv"'
    return response


def _licence(request: AuthedRequest, asset_id: int) -> Licence:
    try:
        return licences.get_licence_for(request.user, asset_id)
    except NotFound:
        raise Http404("licence") from None


@agent_required
def licence_detail(request: AuthedRequest, asset_id: int) -> HttpResponse:
    """A licence's terms (key masked) and its seats: give one to a person or a machine, release one."""
    licence = _licence(request, asset_id)
    form = SeatForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            holder, machine = _holder(request, form)
            licences.assign_seat(request.user, licence.asset, user=holder, machine=machine)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Seat given."))
            return redirect("assets_licences:detail", asset_id)
    context = {
        "licence": licence,
        "key": licences.masked_key(licence),
        "seats": list(licences.seats_of(licence)[: licence.seats + 50]),
        "form": form,
        "can_reveal": request.user.is_admin,
    }
    return render(request, "agent/assets_licences/detail.html", context)


def _holder(request: AuthedRequest, form: SeatForm) -> tuple[User | None, Asset | None]:
    email = form.cleaned_data.get("person") or ""
    if email:
        found = people_selectors.active_people_with_emails(emails=[email, email.lower()])
        if not found:
            raise ValidationError({"person": _("Nobody active has this address.")})
        return found[0], None
    try:
        return None, asset_selectors.get_asset_by_tag_for(request.user, form.cleaned_data["machine"])
    except NotFound:
        raise ValidationError({"machine": _("No asset you may see has this tag.")}) from None


@require_POST
@agent_required
def release_seat(request: AuthedRequest, asset_id: int, seat_id: int) -> HttpResponse:
    licence = _licence(request, asset_id)
    try:
        licences.release_seat(request.user, licences.get_seat_for(licence, seat_id))
    except NotFound:
        raise Http404("seat") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Seat released."))
    return redirect("assets_licences:detail", asset_id)


@require_POST
@admin_required
def reveal_key(request: AuthedRequest, asset_id: int) -> HttpResponse:
    licence = _licence(request, asset_id)
    key = licences.reveal_key(request.user, licence)
    response = render(request, "agent/assets_licences/key.html", {"licence": licence, "key": key})
    response["Cache-Control"] = "no-store"
    return response
