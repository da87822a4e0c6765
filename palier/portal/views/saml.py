"""SAML single sign-on pages: start a sign-in, receive the identity provider's answer, publish
Palier's service provider metadata. The checks are in ``palier/identity/saml.py``."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from palier.identity.models import Provider
from palier.identity.provisioning import SignInRefused

# pysaml2 takes half a second to import: loaded on the first SAML request, not with the URLs
saml = cast(ModuleType, SimpleLazyObject(lambda: importlib.import_module("palier.identity.saml")))


def _safe_next(request: HttpRequest, target: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else resolve_url(settings.LOGIN_REDIRECT_URL)


@require_GET
def login(request: HttpRequest, slug: str) -> HttpResponse:
    """Off to the identity provider with an AuthnRequest (redirect binding)."""
    provider = saml.enabled_provider(slug)
    secure = request.is_secure() or settings.SESSION_COOKIE_SECURE
    try:
        response: HttpResponse = saml.start_sign_in(
            provider, _safe_next(request, request.GET.get("next", "")), secure=secure
        )
        return response
    except SignInRefused as refused:
        return _refused(request, provider, refused)


def _refused(request: HttpRequest, provider: Provider, refused: SignInRefused) -> HttpResponse:
    context = {"provider": provider, "message": refused.message}
    return render(request, "portal/saml/refused.html", context, status=403)


# The identity provider posts from its own site, without Palier's CSRF token: the answer is
# protected by the IdP's signature, its audience and recipient, and InResponseTo, which must
# name the request this browser started (``saml.pending_request``).
@csrf_exempt
@require_POST
def acs(request: HttpRequest, slug: str) -> HttpResponse:
    provider = saml.enabled_provider(slug)
    try:
        _user, next_url = saml.consume(request, provider)
    except SignInRefused as refused:
        response = _refused(request, provider, refused)
    else:
        response = redirect(_safe_next(request, next_url))
    response.delete_cookie(saml.COOKIE_NAME, path=saml.COOKIE_PATH)
    return response


@require_POST
def logout(request: HttpRequest, slug: str) -> HttpResponse:
    """Sign out of Palier and, when the IdP offers it, of the IdP too (single logout)."""
    provider = saml.get_provider_by_slug(slug)
    return redirect(saml.sign_out(request, provider) or resolve_url(settings.LOGOUT_REDIRECT_URL))


@require_GET
def sls(request: HttpRequest, slug: str) -> HttpResponse:
    """The IdP's single logout messages: its answer to ours (then the sign-in page), or its own
    request to end this browser's session (then our answer, back to the IdP)."""
    provider = saml.get_provider_by_slug(slug)
    if "SAMLRequest" in request.GET:
        back = saml.logout_requested(request, provider)
        if not back:
            return _refused(request, provider, saml.logout_refused())
        return redirect(back)
    return redirect(resolve_url(settings.LOGOUT_REDIRECT_URL))


@require_GET
def metadata(request: HttpRequest, slug: str) -> HttpResponse:
    """Palier's SP metadata for this provider, to import at the identity provider."""
    provider = saml.get_provider_by_slug(slug)
    return HttpResponse(saml.sp_metadata(provider), content_type="application/samlmetadata+xml")
