"""``/health``, ``/ready`` and ``/metrics``: machine endpoints, without sign-in or session."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from palier.ops import access, probes
from palier.ops.metrics import exposition


@never_cache
@require_safe
def health(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing is checked, nothing is read."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def ready(request: HttpRequest) -> HttpResponse:
    """200 when every check passes, else 503; the body names the checks, never why one failed."""
    outcome = probes.readiness()
    ok = all(outcome.values())
    checks = {name: "ok" if passed else "failed" for name, passed in outcome.items()}
    return JsonResponse({"status": "ready" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format, for a listed address and/or the bearer token (``access.py``)."""
    if not access.enabled():
        raise Http404
    if not access.address_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    if not access.token_valid(request):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="palier-metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
