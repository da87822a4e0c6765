"""People pages: the home redirect, the lockout page of sign-in, the profile (language, personal
API tokens)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.identity import selectors as identity_selectors
from palier.lib.errors import DomainError
from palier.lib.web import apply_errors, signed_in
from palier.people import selectors, services, signin
from palier.people.http import AuthedRequest
from palier.portal.forms.people import EmailAuthenticationForm, LanguageForm, TokenForm


def home(request: HttpRequest) -> HttpResponse:
    """Agents land on their ticket list, requesters on the portal, anonymous visitors on login."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    return redirect("agent:ticket-list" if request.user.is_agent else "portal:home")


class SignInView(LoginView):
    """Django's sign-in form, with the single sign-on buttons beside it."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["providers"] = list(identity_selectors.sign_in_providers())
        return context


def locked_out(request: HttpRequest, original_response: HttpResponse | None, credentials: object) -> HttpResponse:
    """The sign-in page, refused for a while: too many failed sign-ins for this account or from
    this address (django-axes calls it: ``AXES_LOCKOUT_CALLABLE``). 429 with Retry-After."""
    seconds = signin.lockout_seconds(request)
    minutes = max(1, (seconds + 59) // 60)
    form = EmailAuthenticationForm(request, initial={"username": request.POST.get("username", "")[:254]})
    context = {
        "form": form,
        "providers": list(identity_selectors.sign_in_providers()),
        "next": request.POST.get("next", ""),
        "locked_out": _("Too many failed sign-ins. Try again in %(minutes)d minutes.") % {"minutes": minutes},
    }
    response = render(request, "portal/people/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _profile(
    request: AuthedRequest, *, token_form: TokenForm | None = None, secret: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "language_form": LanguageForm(initial={"language": request.user.language or get_language()}),
        "token_form": token_form or TokenForm(),
        "tokens": selectors.tokens_for(request.user),
        "new_secret": secret,
    }
    return render(request, "portal/people/profile.html", context, status=status)


@signed_in
def profile(request: AuthedRequest) -> HttpResponse:
    return _profile(request)


@signed_in
@require_POST
def profile_language(request: AuthedRequest) -> HttpResponse:
    """Save the user's language (the header switcher and the profile form both post here)."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose French or English."))
        return redirect("profile")
    language = form.cleaned_data["language"]
    services.update_user(request.user, by=request.user, language=language)
    target = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = "profile"
    with override(language):
        messages.success(request, _("Your language is saved."))
    response = redirect(target)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response


@signed_in
@require_POST
def token_create(request: AuthedRequest) -> HttpResponse:
    """Issue a token and show its secret in this response only (it is never stored)."""
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            issued = services.create_api_token(
                request.user,
                by=request.user,
                scope=form.cleaned_data["scope"],
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            return _profile(request, secret=issued.secret, status=201)
    return _profile(request, token_form=form, status=400)


@signed_in
@require_POST
def token_revoke(request: AuthedRequest, token_id: int) -> HttpResponse:
    token = selectors.get_token_for(request.user, token_id)
    services.revoke_api_token(token, by=request.user)
    messages.success(request, _("The token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    return redirect("profile")
