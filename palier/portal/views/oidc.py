"""OpenID Connect sign-in pages: the button's address (off to the provider), the provider's way
back (checked, then signed in or refused with a clear message), and sign-out, which also ends
the provider's session when the person came through one that offers it."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import cast

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from palier.identity.models import Provider
from palier.identity.oidc import flow, manage
from palier.identity.provisioning import PROVIDER_SESSION_KEY, SignInRefused

# pysaml2 takes half a second to import: loaded on the first SAML request, not with the URLs
saml = cast(ModuleType, SimpleLazyObject(lambda: importlib.import_module("palier.identity.saml")))


def _safe_next(request: HttpRequest, value: str) -> str:
    allowed = url_has_allowed_host_and_scheme(value, {request.get_host()}, require_https=request.is_secure())
    return value if value and allowed else ""


def _refused(request: HttpRequest, provider: Provider, refused: SignInRefused) -> HttpResponse:
    context = {"provider": provider, "message": refused.message, "reason": refused.reason}
    return render(request, "portal/people/sso_refused.html", context, status=403)


@require_GET
def sign_in(request: HttpRequest, slug: str) -> HttpResponse:
    provider = manage.for_sign_in(slug)
    try:
        url = flow.begin(request, provider, next_url=_safe_next(request, request.GET.get("next", "")))
    except SignInRefused as refused:
        return _refused(request, provider, refused)
    return redirect(url)


@require_GET
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    provider = manage.for_sign_in(slug)
    try:
        signed_in = flow.finish(request, provider)
    except SignInRefused as refused:
        return _refused(request, provider, refused)
    return redirect(_safe_next(request, signed_in.next_url) or resolve_url(settings.LOGIN_REDIRECT_URL))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """End the Palier session; then, after a single sign-on through a provider that offers it,
    the provider's session too: OpenID Connect's end-session endpoint, or SAML single logout
    (either sends the person back to the sign-in page)."""
    slug = request.session.get(PROVIDER_SESSION_KEY, "")
    provider = manage.by_slug(slug) if slug else None
    url = ""
    if provider is not None and provider.enabled and provider.kind == Provider.Kind.SAML:
        url = saml.sign_out(request, provider)  # reads its session data, then signs out
    else:
        id_token = request.session.get(flow.ID_TOKEN_SESSION_KEY, "")
        logout(request)
        if provider is not None and provider.kind == Provider.Kind.OIDC and provider.enabled:
            url = flow.sign_out_url(provider, id_token) or ""
    if url:
        # a page that moves on by itself: the sign-out form's policy (form-action 'self')
        # would block a redirect to the provider
        return render(request, "portal/people/signing_out.html", {"provider": provider, "provider_url": url})
    return redirect(resolve_url(settings.LOGOUT_REDIRECT_URL))
