"""Admin pages of the LDAP / Active Directory providers (administrators only, 404 for everyone
else): list and add, edit, enable or disable, delete, "test this provider", "sync now" and "dry
run" with the result shown, and each provider's recent sync runs (docs/identity.md)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.identity_ldap import LdapProviderForm
from palier.agent.views._admin import form_page, save_form
from palier.identity import ldap_admin
from palier.identity.kinds import Check
from palier.identity.models import Provider
from palier.lib.web import admin_required
from palier.people.http import AuthedRequest


@admin_required
def provider_list(request: AuthedRequest) -> HttpResponse:
    form = LdapProviderForm(request.POST or None)
    if created := save_form(request, form, ldap_admin.create_ldap_provider):
        messages.success(request, _("“%(name)s” is created.") % {"name": created})
        return redirect("identity_ldap:edit", created.pk)
    providers = list(ldap_admin.ldap_providers())
    runs = ldap_admin.last_runs(providers)
    rows = [(provider, runs.get(provider.pk)) for provider in providers]
    return form_page(request, "agent/identity_ldap/list.html", form, rows=rows)


def _edit_page(
    request: AuthedRequest, provider: Provider, form: LdapProviderForm, *, checks: list[Check] | None = None
) -> HttpResponse:
    runs = ldap_admin.recent_runs(provider)
    shown = None
    if (wanted := request.GET.get("run", "")).isdigit():
        shown = ldap_admin.get_run(provider, int(wanted))
    context = {"form": form, "provider": provider, "runs": runs, "shown": shown, "checks": checks}
    return render(request, "agent/identity_ldap/edit.html", context, status=400 if form.is_bound else 200)


@admin_required
def provider_edit(request: AuthedRequest, provider_id: int) -> HttpResponse:
    provider = ldap_admin.get_ldap_provider(provider_id)
    form = LdapProviderForm(request.POST or None, initial=LdapProviderForm.initial_for(provider))
    if save_form(request, form, ldap_admin.update_ldap_provider, provider=provider):
        messages.success(request, _("“%(name)s” is saved.") % {"name": provider})
        return redirect("identity_ldap:edit", provider.pk)
    if form.is_bound:
        provider = ldap_admin.get_ldap_provider(provider_id)
    return _edit_page(request, provider, form)


@admin_required
@require_POST
def provider_enabled(request: AuthedRequest, provider_id: int) -> HttpResponse:
    provider = ldap_admin.get_ldap_provider(provider_id)
    enabled = request.POST.get("enabled") == "1"
    try:
        ldap_admin.set_enabled(provider, enabled=enabled, by=request.user)
    except ValidationError as exc:
        messages.error(request, _("Fix the settings first: %(error)s") % {"error": "; ".join(exc.messages)})
    else:
        messages.success(request, _("“%(name)s” is enabled.") if enabled else _("“%(name)s” is switched off."))
    return redirect("identity_ldap:edit", provider.pk)


@admin_required
@require_POST
def provider_delete(request: AuthedRequest, provider_id: int) -> HttpResponse:
    provider = ldap_admin.get_ldap_provider(provider_id)
    try:
        ldap_admin.delete_ldap_provider(provider, by=request.user)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("identity_ldap:edit", provider.pk)
    messages.success(request, _("“%(name)s” is deleted; its people keep their accounts.") % {"name": provider})
    return redirect("identity_ldap:list")


@admin_required
@require_POST
def provider_test(request: AuthedRequest, provider_id: int) -> HttpResponse:
    """Connect, StartTLS, bind and search with the saved settings; the page lists each step."""
    provider = ldap_admin.get_ldap_provider(provider_id)
    checks = ldap_admin.check(provider, by=request.user)
    form = LdapProviderForm(initial=LdapProviderForm.initial_for(provider))
    return _edit_page(request, provider, form, checks=checks)


@admin_required
@require_POST
def provider_sync(request: AuthedRequest, provider_id: int) -> HttpResponse:
    """ "Sync now" or "dry run" (``dry_run=1``); the page then shows the run."""
    provider = ldap_admin.get_ldap_provider(provider_id)
    run = ldap_admin.run_sync(provider, dry_run=request.POST.get("dry_run") == "1", by=request.user)
    if run.status != run.Status.OK:
        messages.error(request, _("Nothing was changed: %(error)s") % {"error": run.error})
    elif run.dry_run:
        messages.info(request, _("Dry run: the changes below were not made."))
    else:
        messages.success(request, _("The directory is synced."))
    return redirect(f"{reverse('identity_ldap:edit', args=[provider.pk])}?run={run.pk}#run")
