"""Half-signed-in sessions reach only the second-step pages.

After the password (or the directory) a person with a second factor is signed in to Django but
their session is in the ``verify`` state (``flow.py``): until a code, a recovery code or a security
key is given, every page redirects to the second step and the API answers 401 with a problem
document, never data. Sign-out, language switching and static files stay open. A person who must
set up a factor (``offer``, ``enrol``) reaches only the set-up pages the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from palier.identity.mfa import flow


class SecondStepMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        state = flow.current(request)
        if state == flow.OK or self._open(request.path_info, state):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return _problem()
        target = reverse("mfa:verify") if state == flow.VERIFY else reverse("mfa:index")
        if request.method == "GET" and request.path_info != "/":
            target += "?" + urlencode({"next": request.get_full_path()}, safe="/")
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)

    @staticmethod
    def _open(path: str, state: str) -> bool:
        always = (reverse("logout"), "/i18n/", settings.STATIC_URL or "/static/")
        if path.startswith(always):
            return True
        if state == flow.VERIFY:
            return path.startswith(reverse("mfa:verify"))
        return path.startswith(reverse("mfa:index"))


def _problem() -> JsonResponse:
    body = {
        "type": "about:blank",
        "title": "Second factor required",
        "status": 401,
        "detail": _("Finish signing in with your second factor first."),
    }
    return JsonResponse(body, status=401, content_type="application/problem+json")
