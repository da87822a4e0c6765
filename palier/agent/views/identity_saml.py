"""Administration of the SAML identity providers (admins only; everyone else gets a 404)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.identity_saml import SamlProviderForm
from palier.agent.views._admin import save_form
from palier.lib.web import admin_required
from palier.people.http import AuthedRequest

# pysaml2 takes half a second to import: loaded on the first SAML request, not with the URLs
saml = cast(ModuleType, SimpleLazyObject(lambda: importlib.import_module("palier.identity.saml")))


def _page(request: AuthedRequest, form: SamlProviderForm, **context: object) -> HttpResponse:
    return render(
        request,
        "agent/identity_saml/providers.html",
        {"form": form, "providers": saml.providers(), **context},
        status=400 if form.is_bound else 200,
    )


@admin_required
def providers(request: AuthedRequest) -> HttpResponse:
    """The SAML providers, and the form that adds one."""
    form = SamlProviderForm(request.POST or None, request.FILES or None)
    if provider := save_form(request, form, saml.save_provider, provider=None):
        messages.success(
            request, _("%(name)s is added, switched off: test it, then switch it on.") % {"name": provider.name}
        )
        return redirect("saml:admin-edit", provider.pk)
    return _page(request, form)


@admin_required
def edit(request: AuthedRequest, provider_id: int) -> HttpResponse:
    provider = saml.get_provider(provider_id)
    form = SamlProviderForm(request.POST or None, request.FILES or None, provider=provider)
    if save_form(request, form, saml.save_provider, provider=provider):
        messages.success(request, _("%(name)s is saved.") % {"name": provider.name})
        return redirect("saml:admin-edit", provider.pk)
    context = {
        "provider": provider,
        "form": form,
        "sp_entity_id": saml.sp_entity_id(provider),
        "acs_url": saml.acs_url(provider),
        "metadata_url": saml.metadata_url(provider),
        "checks": None,
    }
    return render(request, "agent/identity_saml/edit.html", context, status=400 if form.is_bound else 200)


@admin_required
@require_POST
def test(request: AuthedRequest, provider_id: int) -> HttpResponse:
    """ "Test this provider": each check in plain words."""
    provider = saml.get_provider(provider_id)
    checks = saml.test_provider(provider)
    context = {
        "provider": provider,
        "form": SamlProviderForm(provider=provider),
        "sp_entity_id": saml.sp_entity_id(provider),
        "acs_url": saml.acs_url(provider),
        "metadata_url": saml.metadata_url(provider),
        "checks": checks,
        "all_ok": all(check.ok for check in checks),
    }
    return render(request, "agent/identity_saml/edit.html", context)


@admin_required
@require_POST
def toggle(request: AuthedRequest, provider_id: int) -> HttpResponse:
    provider = saml.get_provider(provider_id)
    try:
        saml.set_enabled(provider, enabled=not provider.enabled, by=request.user)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        if provider.enabled:
            messages.success(request, _("%(name)s is switched on.") % {"name": provider.name})
        else:
            messages.success(request, _("%(name)s is switched off.") % {"name": provider.name})
    return redirect("saml:admin-providers")


@admin_required
@require_POST
def delete(request: AuthedRequest, provider_id: int) -> HttpResponse:
    provider = saml.get_provider(provider_id)
    name = provider.name
    try:
        saml.delete_provider(provider, by=request.user)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("%(name)s is deleted.") % {"name": name})
    return redirect("saml:admin-providers")
