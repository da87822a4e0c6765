"""Who may read ``/metrics``: a bearer token (``PALIER_METRICS_TOKEN``) and/or listed addresses
(``PALIER_METRICS_ALLOW``). Neither set: the endpoint does not exist (404). Both set: a scrape needs
both. The figures name mailboxes and show the desk's activity, so they are never public."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def enabled() -> bool:
    return bool(settings.PALIER_METRICS_TOKEN or settings.PALIER_METRICS_ALLOW)


def token_valid(request: HttpRequest) -> bool:
    expected = settings.PALIER_METRICS_TOKEN
    if not expected:
        return True
    scheme, _, supplied = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not supplied:
        return False
    return hmac.compare_digest(supplied.strip().encode(), expected.encode())


def address_allowed(request: HttpRequest) -> bool:
    """The client's address (``REMOTE_ADDR``, which ``TrustedProxyMiddleware`` sets from
    ``X-Forwarded-For`` only for a trusted proxy) is one of the listed addresses or networks."""
    networks = settings.PALIER_METRICS_ALLOW
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "").strip())
    except ValueError:
        return False
    return any(address in network for network in networks)
