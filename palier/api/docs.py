"""Interactive docs that work offline: Swagger UI served from the copy bundled in django-ninja.

Ninja only uses its bundled assets when "ninja" is an installed app; otherwise its template
loads them from a CDN. We render our own page and serve the packaged files ourselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from ninja.openapi.docs import Swagger

if TYPE_CHECKING:
    from ninja import NinjaAPI

ASSETS_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.png": "image/png",
}


class OfflineSwagger(Swagger):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "api": api,
            "swagger_settings": json.dumps(self.settings, indent=1),
            "assets": {
                name.replace(".", "_").replace("-", "_"): reverse("api-docs-asset", args=[name]) for name in ASSETS
            },
        }
        return render(request, "api/docs.html", context)


def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in ASSETS:
        raise Http404(name)
    response = FileResponse((ASSETS_DIR / name).open("rb"), content_type=ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response
