"""Asset pages for the desk's staff: the list and an asset's page."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render

from palier.assets import selectors
from palier.lib.errors import NotFound
from palier.lib.web import agent_required
from palier.people.http import AuthedRequest


@agent_required
def asset_list(request: AuthedRequest) -> HttpResponse:
    filters = selectors.AssetFilters(q=request.GET.get("q", "")[:200])
    page = selectors.asset_page(request.user, filters, after=request.GET.get("after") or None)
    return render(request, "agent/assets/list.html", {"page": page, "filters": filters})


@agent_required
def asset_detail(request: AuthedRequest, asset_id: int) -> HttpResponse:
    try:
        asset = selectors.get_asset_for(request.user, asset_id)
    except NotFound:
        raise Http404("asset") from None
    return render(request, "agent/assets/detail.html", {"asset": asset, "events": selectors.timeline(asset)})
