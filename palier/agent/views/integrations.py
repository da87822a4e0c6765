"""Administration pages of the integrations (admins only; everyone else gets a 404)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms import integrations as f
from palier.agent.views._admin import form_page, save_form
from palier.integrations import selectors
from palier.integrations.services import alerts, chat
from palier.lib.errors import DomainError
from palier.lib.web import admin_required, apply_errors
from palier.people.http import AuthedRequest
from palier.teamsbot import package
from palier.tickets import selectors as ticket_selectors

_ENDPOINTS = {
    "slack": ["integrations:slack-events", "integrations:slack-command", "integrations:slack-interactive"],
    "teams": ["integrations:teams"],
}


@admin_required
def alert_sources(request: AuthedRequest) -> HttpResponse:
    """List the sources and recent deliveries; a created source shows its token once."""
    form = f.AlertSourceForm(request.POST or None)
    token = ""
    if request.method == "POST" and form.is_valid():
        try:
            issued = alerts.create_alert_source(**form.cleaned_data, by=request.user)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            token, form = issued.token, f.AlertSourceForm()
    context = {
        "sources": selectors.alert_sources_for_admin(),
        "deliveries": selectors.recent_deliveries(),
        "new_token": token,
        "alert_url": request.build_absolute_uri(reverse("integrations:alerts")),
    }
    status = 400 if form.errors else 200
    return render(request, "agent/integrations/alerts.html", {"form": form, **context}, status=status)


@admin_required
@require_POST
def alert_source_revoke(request: AuthedRequest, source_id: int) -> HttpResponse:
    source = selectors.get_alert_source_for_admin(source_id)
    alerts.revoke_alert_source(source, by=request.user)
    messages.success(request, _("The source %(name)s is revoked.") % {"name": source.name})
    return redirect("integrations:admin-alerts")


@admin_required
def chat_apps(request: AuthedRequest) -> HttpResponse:
    form = f.ChatAppForm(request.POST or None)
    if app := save_form(request, form, chat.create_chat_app):
        messages.success(request, _("%(name)s is registered.") % {"name": app.name})
        return redirect("integrations:admin-chat")
    rows = [
        {
            "app": app,
            "secret_set": bool(selectors.chat_secret(app)),
            "urls": [request.build_absolute_uri(reverse(name, args=[app.slug])) for name in _ENDPOINTS[app.kind]]
            + (
                [request.build_absolute_uri(reverse("teamsbot:messages", args=[app.slug]))]
                if app.kind == "teams" and app.bot_app_id
                else []
            ),
            "package": app.kind == "teams" and bool(app.bot_app_id),
        }
        for app in selectors.chat_apps_for_admin()
    ]
    return form_page(request, "agent/integrations/chat.html", form, apps=rows)


@admin_required
def teams_package(request: AuthedRequest, app_id: int) -> HttpResponse:
    """The Teams app package of a Teams bot, to upload in Teams (docs/teams.md)."""
    app = selectors.get_chat_app_for_admin(app_id)
    try:
        data = package.build(app)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("integrations:admin-chat")
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="palier-teams-{app.slug}.zip"'
    return response


@admin_required
@require_POST
def chat_app_toggle(request: AuthedRequest, app_id: int) -> HttpResponse:
    app = selectors.get_chat_app_for_admin(app_id)
    chat.set_chat_app_active(app, active=not app.is_active, by=request.user)
    return redirect("integrations:admin-chat")


@admin_required
def identities(request: AuthedRequest) -> HttpResponse:
    form = f.IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = ticket_selectors.person_by_email(form.cleaned_data["email"])
        if user is None:
            form.add_error("email", _("No active account has this email address."))
        else:
            try:
                chat.link_identity(
                    kind=form.cleaned_data["kind"],
                    external_id=form.cleaned_data["external_id"],
                    user=user,
                    by=request.user,
                )
            except (ValidationError, DomainError) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The chat account is linked to %(name)s.") % {"name": user.display_name})
                return redirect("integrations:admin-identities")
    return form_page(request, "agent/integrations/identities.html", form, identities=selectors.identities_for_admin())


@admin_required
@require_POST
def identity_delete(request: AuthedRequest, identity_id: int) -> HttpResponse:
    identity = selectors.get_identity_for_admin(identity_id)
    chat.unlink_identity(identity, by=request.user)
    return redirect("integrations:admin-identities")
