"""Administration pages (admins only; everyone else gets a 404): users, organisations and their
departments, support groups, categories and the priority matrix.

Each view parses a form, calls one people or tickets service and renders; a refused form keeps
what the admin typed and shows the errors next to the fields (status 400).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent import admin_forms as f
from palier.agent.views._admin import form_page, save_form
from palier.identity.mfa import selectors as mfa_selectors
from palier.identity.mfa import services as mfa
from palier.lib.errors import DomainError
from palier.lib.web import admin_required, apply_errors
from palier.people import selectors, services
from palier.people.http import AuthedRequest
from palier.people.models import Organisation
from palier.tickets import selectors as ticket_selectors
from palier.tickets import services as ticket_services
from palier.tickets.models import Level

USER_PAGE = 50


def _done(request: AuthedRequest, text: str, obj: Any, to: str, *args: Any) -> HttpResponse:
    messages.success(request, text % {"name": obj})
    return redirect(to, *args)


@admin_required
def index(request: AuthedRequest) -> HttpResponse:
    return redirect("agent:admin-users")


# --- users ------------------------------------------------------------------------------------------


@admin_required
def users(request: AuthedRequest) -> HttpResponse:
    form = f.UserCreateForm(request.POST or None)
    if created := save_form(request, form, services.create_user):
        return _done(request, _("“%(name)s” is created."), created, "agent:admin-user-edit", created.pk)
    search = f.UserFilterForm(request.GET)
    query = search.query()
    rows, next_before = selectors.user_page_for_admin(**query, limit=USER_PAGE)
    params = request.GET.copy()
    params["before"] = str(next_before or "")
    context = {"users": rows, "search": search, "next_query": params.urlencode() if next_before else ""}
    return form_page(request, "agent/admin/users.html", form, **context, first_page=query["before"] is None)


@admin_required
def user_edit(request: AuthedRequest, user_id: int) -> HttpResponse:
    person = selectors.get_user_for_admin(user_id)
    initial = {
        "full_name": person.full_name,
        "role": person.role,
        "organisation": person.organisation_id,
        "department": person.department_id,
        "language": person.language,
        "phone": person.phone,
    }
    form = f.UserEditForm(request.POST or None, initial=initial)
    if save_form(request, form, services.update_user_account, user=person):
        return _done(request, _("“%(name)s” is saved."), person, "agent:admin-user-edit", person.pk)
    return form_page(request, "agent/admin/user_edit.html", form, person=person, mfa=mfa_selectors.factors_of(person))


@admin_required
@require_POST
def user_active(request: AuthedRequest, user_id: int) -> HttpResponse:
    person = selectors.get_user_for_admin(user_id)
    active = request.POST.get("active") == "1"
    try:
        services.set_user_active(person, active=active, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        text = _("“%(name)s” is active again.") if active else _("“%(name)s” is deactivated.")
        messages.success(request, text % {"name": person})
    return redirect("agent:admin-user-edit", person.pk)


@admin_required
@require_POST
def user_mfa_reset(request: AuthedRequest, user_id: int) -> HttpResponse:
    """Remove every second factor of a person (audited): they set one up again."""
    person = selectors.get_user_for_admin(user_id)
    mfa.reset(person, by=request.user)
    return _done(request, _("The second factor of “%(name)s” is reset."), person, "agent:admin-user-edit", person.pk)


# --- organisations and departments -----------------------------------------------------------------


@admin_required
def organisations(request: AuthedRequest) -> HttpResponse:
    form = f.OrganisationForm(request.POST or None)
    if created := save_form(request, form, services.create_organisation):
        return _done(request, _("“%(name)s” is created."), created, "agent:admin-organisation-edit", created.pk)
    context = {"organisations": selectors.organisations_with_departments()}
    return form_page(request, "agent/admin/organisations.html", form, **context)


def _organisation_page(
    request: AuthedRequest, organisation: Organisation, form: forms.Form, department_form: forms.Form
) -> HttpResponse:
    status = 400 if form.is_bound or department_form.is_bound else 200
    context = {"organisation": organisation, "form": form, "department_form": department_form}
    return render(request, "agent/admin/organisation_edit.html", context, status=status)


def _organisation_initial(organisation: Organisation) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "email_domain": organisation.email_domain,
        "share_tickets": organisation.share_tickets,
    }


@admin_required
def organisation_edit(request: AuthedRequest, organisation_id: int) -> HttpResponse:
    organisation = selectors.get_organisation_for_admin(organisation_id)
    form = f.OrganisationForm(request.POST or None, initial=_organisation_initial(organisation))
    if save_form(request, form, services.update_organisation, organisation=organisation):
        return _done(request, _("“%(name)s” is saved."), organisation, "agent:admin-organisation-edit", organisation.pk)
    return _organisation_page(request, organisation, form, f.DepartmentForm())


@admin_required
@require_POST
def department_create(request: AuthedRequest, organisation_id: int) -> HttpResponse:
    organisation = selectors.get_organisation_for_admin(organisation_id)
    form = f.DepartmentForm(request.POST)
    if created := save_form(request, form, services.create_department, organisation=organisation):
        return _done(request, _("“%(name)s” is created."), created, "agent:admin-organisation-edit", organisation.pk)
    edit_form = f.OrganisationForm(initial=_organisation_initial(organisation))
    return _organisation_page(request, organisation, edit_form, form)


# --- support groups ----------------------------------------------------------------------------------


@admin_required
def groups(request: AuthedRequest) -> HttpResponse:
    form = f.GroupCreateForm(request.POST or None)
    if created := save_form(request, form, services.create_group_with_members):
        return _done(request, _("“%(name)s” is created."), created, "agent:admin-groups")
    return form_page(request, "agent/admin/groups.html", form, groups=selectors.groups_with_members())


@admin_required
def group_edit(request: AuthedRequest, group_id: int) -> HttpResponse:
    group = selectors.get_group_for_admin(group_id)
    initial = {
        "name": group.name,
        "level": group.level,
        "is_vendor": group.is_vendor,
        "email": group.email,
        "manager": group.manager_id,
        "members": [member.pk for member in group.members.all()],
        **{name: getattr(group, name) for name in services.ROUTING_FIELDS if name != "escalation_group"},
        "escalation_group": group.escalation_group_id,
    }
    form = f.GroupEditForm(request.POST or None, initial=initial)
    if save_form(request, form, services.update_group, group=group):
        return _done(request, _("“%(name)s” is saved."), group, "agent:admin-groups")
    return form_page(request, "agent/admin/group_edit.html", form, group=group)


# --- categories --------------------------------------------------------------------------------------


@admin_required
def categories(request: AuthedRequest) -> HttpResponse:
    parent = request.GET.get("parent", "")
    form = f.CategoryForm(request.POST or None, initial={"parent": parent if parent.isdigit() else None})
    if created := save_form(request, form, ticket_services.create_category):
        return _done(request, _("“%(name)s” is created."), created, "agent:admin-categories")
    return form_page(request, "agent/admin/categories.html", form, tree=ticket_selectors.category_tree())


@admin_required
def category_edit(request: AuthedRequest, category_id: int) -> HttpResponse:
    category = ticket_selectors.get_category_for_admin(category_id)
    initial = {
        "name_fr": category.name_fr,
        "name_en": category.name_en,
        "parent": category.parent_id,
        "position": category.position,
    }
    form = f.CategoryEditForm(request.POST or None, initial=initial)
    if save_form(request, form, ticket_services.update_category, category=category):
        return _done(request, _("“%(name)s” is saved."), category, "agent:admin-categories")
    return form_page(request, "agent/admin/category_edit.html", form, category=category)


@admin_required
@require_POST
def category_active(request: AuthedRequest, category_id: int) -> HttpResponse:
    category = ticket_selectors.get_category_for_admin(category_id)
    active = request.POST.get("active") == "1"
    try:
        ticket_services.set_category_active(category, active=active, by=request.user)
    except (ValidationError, DomainError) as exc:
        messages.error(request, exc.message if isinstance(exc, DomainError) else " ".join(exc.messages))
    else:
        text = _("“%(name)s” is offered again.") if active else _("“%(name)s” is no longer offered.")
        messages.success(request, text % {"name": category})
    return redirect(reverse("agent:admin-categories") + f"#category-{category.pk}")


# --- priority matrix ---------------------------------------------------------------------------------


@admin_required
def priorities(request: AuthedRequest) -> HttpResponse:
    form = f.MatrixForm(request.POST or None, matrix=ticket_selectors.priority_matrix())
    if request.method == "POST" and form.is_valid():
        try:
            ticket_services.set_priority_matrix(cells=form.cells(), by=request.user)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The priority matrix is saved; it applies to tickets opened from now on."))
            return redirect("agent:admin-priorities")
    labels = dict(Level.choices)
    grid = [
        (labels[impact], [form[f.cell_name(impact, urgency)] for urgency in Level.values]) for impact in Level.values
    ]
    return form_page(
        request, "agent/admin/priorities.html", form, grid=grid, urgencies=[labels[u] for u in Level.values]
    )
