"""Macro pages, mounted at /agent/macros/: the list with the creation form, the edit page,
deletion, and the reply box's picker (an htmx partial)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.macros import MacroForm
from palier.lib.errors import DomainError
from palier.lib.web import agent_required, apply_errors
from palier.macros import permissions, selectors, services
from palier.macros.models import Macro
from palier.people.http import AuthedRequest
from palier.tickets import selectors as ticket_selectors


def _frame(request: AuthedRequest) -> str:
    """Admins see the macro pages among the administration tabs; agents in their workspace."""
    return "agent/admin/base.html" if request.user.is_admin else "agent/layout.html"


def _save(form: MacroForm, request: AuthedRequest, macro: Macro | None) -> Macro | None:
    if not form.is_valid():
        return None
    try:
        if macro is None:
            return services.create_macro(by=request.user, fields=form.to_fields())
        return services.update_macro(macro, by=request.user, fields=form.to_fields())
    except (ValidationError, DomainError) as exc:
        apply_errors(form, exc)
        return None


@agent_required
def macro_list(request: AuthedRequest) -> HttpResponse:
    can_share = permissions.can_share(request.user)
    form = MacroForm(request.POST or None, can_share=can_share, initial={"is_active": True})
    if request.method == "POST":
        created = _save(form, request, None)
        if created is not None:
            messages.success(request, _("Macro “%(name)s” created.") % {"name": created.name})
            return redirect("macros:list")
    query = request.GET.get("q", "")
    macros = selectors.macros_managed_by(request.user, query=query)
    page = Paginator(macros, settings.PALIER_PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {"page": page, "form": form, "q": query, "frame": _frame(request)}
    return render(request, "agent/macros/list.html", context, status=400 if form.errors else 200)


@agent_required
def macro_edit(request: AuthedRequest, macro_id: int) -> HttpResponse:
    macro = selectors.get_macro_for(request.user, macro_id)
    can_share = permissions.can_share(request.user)
    if request.method == "POST":
        form = MacroForm(request.POST, can_share=can_share)
        if _save(form, request, macro) is not None:
            messages.success(request, _("Macro “%(name)s” saved.") % {"name": macro.name})
            return redirect("macros:list")
    else:
        form = MacroForm(initial=MacroForm.initial_for(macro), can_share=can_share)
    context = {"macro": macro, "form": form, "frame": _frame(request)}
    return render(request, "agent/macros/edit.html", context, status=400 if form.errors else 200)


@agent_required
@require_POST
def macro_delete(request: AuthedRequest, macro_id: int) -> HttpResponse:
    macro = selectors.get_macro_for(request.user, macro_id)
    services.delete_macro(macro, by=request.user)
    messages.success(request, _("Macro “%(name)s” deleted.") % {"name": macro.name})
    return redirect("macros:list")


@agent_required
def macro_picker(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """The macros matching the typed name, rendered for this ticket (the reply box inserts one)."""
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id)
    query = request.GET.get("macro_q", "")
    entries = selectors.picker_entries(request.user, ticket=ticket, query=query)
    return render(request, "agent/macros/picker_results.html", {"entries": entries, "query": query})
