"""Requests that come through a reverse proxy: believe what it says only when it is the proxy.

A proxy terminating TLS tells Palier the original scheme in ``X-Forwarded-Proto`` and the client's
address in ``X-Forwarded-For``. Anyone can send those headers, so :class:`TrustedProxyMiddleware`
reads them only when the connection comes from an address of ``PALIER_TRUSTED_PROXIES``; Django's
``SECURE_PROXY_SSL_HEADER`` (which believes every sender) stays unset.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(name: str, values: Sequence[str]) -> tuple[Network, ...]:
    """Addresses or networks (``10.0.0.5``, ``10.0.0.0/24``, ``::1``) of a setting; loud on errors."""
    try:
        return tuple(ipaddress.ip_network(value, strict=False) for value in values)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc} (give addresses or networks, comma-separated)") from exc


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def is_trusted(address: str | None, networks: Sequence[Network]) -> bool:
    ip = _address(address or "")
    return ip is not None and any(ip in network for network in networks)


def client_address(remote: str, forwarded_for: str, networks: Sequence[Network]) -> str:
    """The first address, from the right of the proxy chain, that is not one of our proxies."""
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if _address(hop) is None:
            return remote  # a malformed chain: keep the address we know
        if not is_trusted(hop, networks):
            return hop
    return remote


class TrustedProxyMiddleware:
    """First in the stack, so the security middleware (HSTS), CSRF and sessions see the result."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        networks = settings.PALIER_TRUSTED_PROXIES
        remote = request.META.get("REMOTE_ADDR", "")
        if networks and is_trusted(remote, networks):
            proto = request.META.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
            if proto in ("http", "https"):
                request.META["wsgi.url_scheme"] = proto
            forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR", "")
            if forwarded_for:
                request.META["REMOTE_ADDR"] = client_address(remote, forwarded_for, networks)
        return self.get_response(request)
