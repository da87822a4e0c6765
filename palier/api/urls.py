"""/api/v1/: the ninja API, its offline docs assets, and problem answers for unknown URLs and methods."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, re_path
from django.utils.translation import gettext as _

from palier.api.api import api
from palier.api.docs import docs_asset
from palier.api.errors import CONTENT_TYPE, not_found, problem


def _problem_for_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ninja answers a wrong method with a plain-text 405; make it a problem with its Allow header."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type") == CONTENT_TYPE:
            return response
        answer = problem(405, _("This method is not allowed here; allowed: %(allow)s.") % {"allow": response["Allow"]})
        answer["Allow"] = response["Allow"]
        return answer

    return wrapper


def _api_patterns() -> list[URLPattern | URLResolver]:
    patterns, _app_name, _namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _problem_for_405(pattern.callback)
    return patterns


urlpatterns = [
    path("docs/assets/<str:name>", docs_asset, name="api-docs-asset"),
    path("", (_api_patterns(), "api", "api")),
    re_path(r"^(?P<path>.*)$", not_found),
]
