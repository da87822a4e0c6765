"""Licences and warnings (desk staff), mounted at /agent/assets/licences/ as ``assets_licences:``:
the compliance report (CSV too), the licences expiring or over-allocated, the counts of assets
nobody owns and of machines with a stale inventory (links to the filtered asset list), and an
administrator's audited reveal of a licence key."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.assets import licences, reminders
from palier.lib.errors import NotFound
from palier.lib.web import admin_required, agent_required
from palier.people.http import AuthedRequest
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


@require_POST
@admin_required
def reveal_key(request: AuthedRequest, asset_id: int) -> HttpResponse:
    try:
        licence = licences.get_licence_for(request.user, asset_id)
    except NotFound:
        raise Http404("licence") from None
    key = licences.reveal_key(request.user, licence)
    response = render(request, "agent/assets_licences/key.html", {"licence": licence, "key": key})
    response["Cache-Control"] = "no-store"
    return response
