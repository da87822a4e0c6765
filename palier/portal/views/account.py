"""The password pages (forgot, reset by link) and the Security page of the profile: change the
password, see and end one's sessions and API tokens."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.audit import context as audit_context
from palier.identity import passwords, policy
from palier.lib.errors import DomainError
from palier.lib.web import apply_errors, signed_in
from palier.people import selectors, sessions
from palier.people import services as people
from palier.people.http import AuthedRequest
from palier.portal.forms.account import ChangePasswordForm, ForgotForm, NewPasswordForm

LINK_SESSION_KEY = "palier.password_reset_token"
SET_TOKEN = "set-password"


def forgot(request: HttpRequest) -> HttpResponse:
    """Ask for a reset link. The answer is the same whether an account has this address or not."""
    form = ForgotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            passwords.request_reset(address=form.cleaned_data["email"], ip=audit_context.client_ip(request))
        except passwords.TooManyRequests as exc:
            return render(request, "portal/account/forgot.html", {"form": form, "limited": exc.message}, status=429)
        return render(request, "portal/account/forgot.html", {"form": ForgotForm(), "sent": True})
    status = 400 if form.is_bound else 200
    return render(request, "portal/account/forgot.html", {"form": form}, status=status)


def _bad_link(request: HttpRequest, user: object) -> HttpResponse:
    passwords.record_bad_link(user if user is not None else None, ip=audit_context.client_ip(request))  # type: ignore[arg-type]
    return render(request, "portal/account/reset_invalid.html", status=400)


def reset_link(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link from the email. The token moves into the session and out of the address (so it
    leaks through no Referer), then the person chooses a password."""
    user = passwords.user_for_link(uidb64)
    if token != SET_TOKEN:
        if not passwords.link_works(user, token):
            return _bad_link(request, user)
        request.session[LINK_SESSION_KEY] = token
        return redirect("account:password-reset-link", uidb64, SET_TOKEN)
    token = str(request.session.get(LINK_SESSION_KEY, ""))
    if user is None or not passwords.link_works(user, token):
        return _bad_link(request, user)
    if not passwords.password_allowed(user):
        return render(
            request, "portal/account/reset_invalid.html", {"refused": passwords.refusal_message()}, status=403
        )
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            passwords.reset_password(
                user_id=user.pk,
                token=token,
                new=form.cleaned_data["new_password1"],
                ip=audit_context.client_ip(request),
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            request.session.pop(LINK_SESSION_KEY, None)
            messages.success(request, _("Your password is set. Sign in with it."))
            return redirect("login")
    context = {"form": form, "person": user}
    return render(request, "portal/account/reset_set.html", context, status=400 if form.is_bound else 200)


def _security(request: AuthedRequest, *, form: ChangePasswordForm | None = None, status: int = 200) -> HttpResponse:
    current = request.session.session_key
    since = timezone.now() - timedelta(hours=policy.current().session_hours)
    rows = sessions.sessions_of(request.user, since=since)  # older ones have ended by now
    context = {
        "form": form or ChangePasswordForm(),
        "password_allowed": passwords.password_allowed(request.user),
        "has_password": request.user.has_usable_password(),
        "sessions": [(row, row.session_key == current) for row in rows],
        "others": sum(1 for row in rows if row.session_key != current),
        "tokens": selectors.tokens_for(request.user),
    }
    return render(request, "portal/account/security.html", context, status=status)


@signed_in
def security(request: AuthedRequest) -> HttpResponse:
    return _security(request)


@signed_in
@require_POST
def password_change(request: AuthedRequest) -> HttpResponse:
    """Change one's password: this session stays, every other one ends."""
    form = ChangePasswordForm(request.POST)
    if form.is_valid():
        old_key = request.session.session_key
        try:
            ended = passwords.change_password(
                request.user,
                current=form.cleaned_data["current_password"],
                new=form.cleaned_data["new_password1"],
                keep=old_key,
                ip=audit_context.client_ip(request),
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)  # this session stays signed in (new key)
            sessions.rekey(old_key, request.session.session_key)
            text = _("Your password is changed.")
            if ended:
                text += " " + _("Your other sessions are signed out.")
            messages.success(request, text)
            return redirect("account:security")
    return _security(request, form=form, status=400)


@signed_in
@require_POST
def session_end(request: AuthedRequest, session_id: int) -> HttpResponse:
    if sessions.end_session(request.user, session_id=session_id, by=request.user):
        messages.success(request, _("The session is signed out."))
    return redirect("account:security")


@signed_in
@require_POST
def sessions_end_others(request: AuthedRequest) -> HttpResponse:
    ended = sessions.end_sessions(
        request.user, by=request.user, keep=request.session.session_key, reason="auth.sessions_ended"
    )
    messages.success(request, _("Signed out everywhere else (%(count)d sessions).") % {"count": ended})
    return redirect("account:security")


@signed_in
@require_POST
def token_revoke(request: AuthedRequest, token_id: int) -> HttpResponse:
    """Revoke one of my API tokens from the Security page (the profile has the same button)."""
    token = selectors.get_token_for(request.user, token_id)
    people.revoke_api_token(token, by=request.user)
    messages.success(request, _("The token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    return redirect("account:security")
