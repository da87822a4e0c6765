"""The administrators' OpenID Connect provider pages (404 for everyone else): list and add,
change, switch on or off, delete, and "test this provider". The client secret is write-only; a
provider from the configuration file is shown read-only."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.identity_oidc import OidcProviderForm
from palier.agent.views._admin import form_page, save_form
from palier.identity import oidc
from palier.identity.oidc import manage, options
from palier.lib.web import admin_required
from palier.people.http import AuthedRequest

LIST = "agent/identity/oidc_list.html"
EDIT = "agent/identity/oidc_edit.html"


@admin_required
def providers(request: AuthedRequest) -> HttpResponse:
    form = OidcProviderForm(request.POST or None)
    if created := save_form(request, form, manage.create_provider):
        messages.success(request, _("“%(name)s” is created. Test it, then switch it on.") % {"name": created})
        return redirect("identity-oidc:edit", created.pk)
    return form_page(request, LIST, form, providers=list(manage.providers()))


@admin_required
def edit(request: AuthedRequest, provider_id: int) -> HttpResponse:
    provider = manage.get_provider(provider_id)
    if provider.from_environment and request.method == "POST":
        raise PermissionDenied(_("This provider comes from the configuration file: change it there."))
    form = OidcProviderForm(
        request.POST or None, initial=OidcProviderForm.initial_for(provider), stored_secret=bool(provider.secret)
    )
    if save_form(request, form, manage.update_provider, provider=provider):
        messages.success(request, _("“%(name)s” is saved.") % {"name": provider})
        return redirect("identity-oidc:edit", provider.pk)
    if form.is_bound:
        provider = manage.get_provider(provider_id)
    return form_page(request, EDIT, form, provider=provider, redirect_uri=options.redirect_uri(provider))


@admin_required
@require_POST
def enabled(request: AuthedRequest, provider_id: int) -> HttpResponse:
    provider = manage.get_provider(provider_id)
    on = request.POST.get("enabled") == "1"
    try:
        manage.set_enabled(provider, enabled=on, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            (_("“%(name)s” is on: its button is on the sign-in page.") if on else _("“%(name)s” is off."))
            % {"name": provider},
        )
    return redirect("identity-oidc:edit", provider.pk)


@admin_required
@require_POST
def delete(request: AuthedRequest, provider_id: int) -> HttpResponse:
    provider = manage.get_provider(provider_id)
    manage.delete_provider(provider, by=request.user)
    messages.success(request, _("“%(name)s” is deleted.") % {"name": provider})
    return redirect("identity-oidc:list")


@admin_required
@require_POST
def test(request: AuthedRequest, provider_id: int) -> HttpResponse:
    """Check the saved settings against the provider now and show each step's outcome."""
    provider = manage.get_provider(provider_id)
    form = OidcProviderForm(initial=OidcProviderForm.initial_for(provider), stored_secret=bool(provider.secret))
    checks = oidc.test_provider(provider)
    return render(
        request,
        EDIT,
        {"form": form, "provider": provider, "redirect_uri": options.redirect_uri(provider), "checks": checks},
    )
