"""Minimal administration pages (admins only): users, organisations and support groups.

Each page lists what exists and holds a creation form; the writes go through people.services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from palier.agent.forms import GroupForm, OrganisationForm, UserForm
from palier.lib.errors import DomainError
from palier.lib.web import AuthedRequest, admin_required, apply_errors
from palier.people import selectors, services


def _create(request: AuthedRequest, form: forms.Form, create: Any) -> str | None:
    """Run ``create(**cleaned_data)`` for a valid posted form; the created object's name, or None."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        created = create(**form.cleaned_data, by=request.user)
    except (ValidationError, DomainError) as exc:
        apply_errors(form, exc)
        return None
    messages.success(request, _("“%(name)s” is created.") % {"name": created})
    return str(created)


def _page(request: AuthedRequest, template: str, form: forms.Form, context: dict[str, Any]) -> HttpResponse:
    status = 400 if form.is_bound else 200
    return render(request, template, {"form": form, "section": template, **context}, status=status)


@admin_required
def index(request: AuthedRequest) -> HttpResponse:
    return redirect("agent:admin-users")


@admin_required
def users(request: AuthedRequest) -> HttpResponse:
    form = UserForm(request.POST or None)
    if _create(request, form, services.create_user):
        return redirect("agent:admin-users")
    q = request.GET.get("q", "")[:200]
    return _page(request, "agent/admin/users.html", form, {"users": selectors.users_for_admin(q=q), "q": q})


@admin_required
def organisations(request: AuthedRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if _create(request, form, services.create_organisation):
        return redirect("agent:admin-organisations")
    return _page(
        request, "agent/admin/organisations.html", form, {"organisations": selectors.organisations_for_admin()}
    )


@admin_required
def groups(request: AuthedRequest) -> HttpResponse:
    form = GroupForm(request.POST or None)
    if _create(request, form, services.create_group_with_members):
        return redirect("agent:admin-groups")
    return _page(request, "agent/admin/groups.html", form, {"groups": selectors.groups_for_admin()})
