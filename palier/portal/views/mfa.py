"""The second-factor pages under /accounts/2fa/: "Two-step sign-in" (set up an authenticator
app, security keys, recovery codes) and the second step of sign-in. The rules are in
``palier/identity/mfa/``; the middleware there sends half-signed-in sessions here."""

from __future__ import annotations

import base64
import json
from typing import Any

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.identity.mfa import codes, flow, keys, services
from palier.identity.mfa import selectors as mfa_selectors
from palier.identity.mfa.services import CodeRefused
from palier.lib.errors import DomainError
from palier.lib.web import apply_errors, signed_in
from palier.people.http import AuthedRequest
from palier.portal.forms.mfa import CodeForm, ConfirmForm

ISSUER = "Palier"
_CHALLENGE = "palier_mfa_challenge"
_NEW_CODES = "palier_mfa_new_codes"


def _next(request: HttpRequest, value: str | None) -> str:
    value = value or ""
    if value and url_has_allowed_host_and_scheme(value, {request.get_host()}, require_https=request.is_secure()):
        return value
    return reverse("home")


def _rp(request: HttpRequest) -> tuple[str, str]:
    """The WebAuthn relying party (host name without port) and origin, as this browser sees us
    (the host is one of ALLOWED_HOSTS: Django checked it)."""
    host = request.get_host()
    rp_id = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return rp_id.strip("[]"), f"{request.scheme}://{host}"


def _challenge(request: HttpRequest, purpose: str, value: bytes | None = None) -> bytes:
    """Keep a ceremony's challenge in the session (``value``) or take it back, once."""
    if value is not None:
        request.session[_CHALLENGE] = [purpose, base64.b64encode(value).decode()]
        return value
    stored = request.session.pop(_CHALLENGE, None)
    if not isinstance(stored, list) or len(stored) != 2 or stored[0] != purpose:
        return b""
    return base64.b64decode(stored[1])


def _credential(body: dict[str, Any]) -> dict[str, Any]:
    value = body.get("credential")
    return value if isinstance(value, dict) else {}


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _codes_page(request: AuthedRequest, fresh: list[str], status: int = 200) -> HttpResponse:
    return render(request, "portal/mfa/codes.html", {"codes": fresh}, status=status)


# --- Two-step sign-in (set-up) ---------------------------------------------------------------------


@signed_in
def index(request: AuthedRequest) -> HttpResponse:
    state = flow.current(request)
    context = {
        "factors": mfa_selectors.factors_of(request.user),
        "state": state,
        "grace_ends": flow.grace_ends(request.user) if state == flow.OFFER else None,
        "required": mfa_selectors.required_for(request.user),
        "next": _next(request, request.GET.get("next")),
    }
    return render(request, "portal/mfa/index.html", context)


def _totp_page(request: AuthedRequest, form: ConfirmForm, *, restart: bool = False, status: int = 200) -> HttpResponse:
    try:
        secret = services.pending_totp(request.user, restart=restart)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("mfa:index")
    uri = codes.provisioning_uri(secret, account=request.user.email, issuer=ISSUER)
    context = {
        "form": form,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr": segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
    }
    return render(request, "portal/mfa/totp.html", context, status=status)


@signed_in
def totp(request: AuthedRequest) -> HttpResponse:
    """Set up an authenticator app: the QR code and the secret, then a code to confirm it. POST
    (without a code) starts again with a new secret."""
    if request.method == "POST":
        return _totp_page(request, ConfirmForm(), restart=True)
    return _totp_page(request, ConfirmForm())


@signed_in
@require_POST
def totp_confirm(request: AuthedRequest) -> HttpResponse:
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            fresh = services.confirm_totp(request.user, form.cleaned_data["code"])
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            flow.done(request)
            messages.success(request, _("Your authenticator app is set up."))
            return _codes_page(request, fresh, status=201) if fresh else redirect("mfa:index")
    return _totp_page(request, form, status=400)


@signed_in
@require_POST
def totp_remove(request: AuthedRequest) -> HttpResponse:
    try:
        services.remove_totp(request.user, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The authenticator app is removed."))
    return redirect("mfa:index")


@signed_in
@require_POST
def recovery(request: AuthedRequest) -> HttpResponse:
    try:
        fresh = services.regenerate_recovery_codes(request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("mfa:index")
    return _codes_page(request, fresh, status=201)


@signed_in
def new_codes(request: AuthedRequest) -> HttpResponse:
    """The recovery codes given with a first security key (the key's page is a script), once."""
    fresh = request.session.pop(_NEW_CODES, None)
    if not isinstance(fresh, list) or not fresh:
        return redirect("mfa:index")
    return _codes_page(request, [str(c) for c in fresh])


@signed_in
@require_POST
def skip(request: AuthedRequest) -> HttpResponse:
    """Not now: allowed while the grace period lasts."""
    if flow.current(request) == flow.OFFER:
        flow.done(request)
    return redirect(_next(request, request.POST.get("next")))


@signed_in
@require_POST
def key_options(request: AuthedRequest) -> JsonResponse:
    rp_id, _origin = _rp(request)
    options, challenge = keys.registration_options(request.user, rp_id=rp_id, rp_name=ISSUER)
    _challenge(request, "register", challenge)
    return JsonResponse(json.loads(options))


@signed_in
@require_POST
def key_register(request: AuthedRequest) -> JsonResponse:
    body = _json_body(request)
    rp_id, origin = _rp(request)
    try:
        _key, fresh = keys.register(
            request.user,
            name=str(body.get("name") or ""),
            credential=_credential(body),
            challenge=_challenge(request, "register"),
            rp_id=rp_id,
            origin=origin,
        )
    except DomainError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    flow.done(request)
    if fresh:
        request.session[_NEW_CODES] = fresh
        return JsonResponse({"next": reverse("mfa:new-codes")}, status=201)
    messages.success(request, _("Your security key is registered."))
    return JsonResponse({"next": reverse("mfa:index")}, status=201)


@signed_in
@require_POST
def key_remove(request: AuthedRequest, key_id: int) -> HttpResponse:
    try:
        keys.remove(request.user, key_id, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The security key is removed."))
    return redirect("mfa:index")


# --- the second step of sign-in --------------------------------------------------------------------


@signed_in
def verify(request: AuthedRequest) -> HttpResponse:
    if flow.current(request) != flow.VERIFY:
        return redirect(_next(request, request.GET.get("next") or request.POST.get("next")))
    form = CodeForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                services.check_code(request.user, form.cleaned_data["code"])
            except CodeRefused as exc:
                apply_errors(form, exc)
                status = 429 if exc.locked else 403
            else:
                return _passed(request, form.cleaned_data["remember"], form.cleaned_data["next"])
    context = {
        "form": form,
        "factors": mfa_selectors.factors_of(request.user),
        "remember_days": flow.remember_days(),
    }
    return render(request, "portal/mfa/verify.html", context, status=status)


def _passed(request: AuthedRequest, remember: bool, target: str) -> HttpResponse:
    flow.done(request)
    response = redirect(_next(request, target))
    if remember:
        flow.remember(response, request.user)
    return response


@signed_in
@require_POST
def verify_key_options(request: AuthedRequest) -> JsonResponse:
    rp_id, _origin = _rp(request)
    options, challenge = keys.authentication_options(request.user, rp_id=rp_id)
    _challenge(request, "authenticate", challenge)
    return JsonResponse(json.loads(options))


@signed_in
@require_POST
def verify_key(request: AuthedRequest) -> JsonResponse:
    if flow.current(request) != flow.VERIFY:
        return JsonResponse({"next": reverse("home")})
    body = _json_body(request)
    rp_id, origin = _rp(request)
    try:
        keys.authenticate(
            request.user,
            credential=_credential(body),
            challenge=_challenge(request, "authenticate"),
            rp_id=rp_id,
            origin=origin,
        )
    except CodeRefused as exc:
        return JsonResponse({"error": exc.message}, status=429 if exc.locked else 403)
    flow.done(request)
    result = JsonResponse({"next": _next(request, str(body.get("next") or ""))})
    if body.get("remember") is True:
        flow.remember(result, request.user)
    return result
