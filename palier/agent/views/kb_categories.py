"""Agent-side knowledge-base categories: the list (paginated, with article counts) beside the
creation form, the edit page, and deletion of empty categories."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.kb import CategoryForm
from palier.kb import selectors, services
from palier.lib.errors import DomainError
from palier.lib.web import agent_required, apply_errors
from palier.people.http import AuthedRequest

PER_PAGE = 50


@agent_required
def category_list(request: AuthedRequest) -> HttpResponse:
    categories = selectors.categories_for_manager(request.user)
    form = CategoryForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            category = services.create_kb_category(by=request.user, data=form.to_input())
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The category “%(name)s” is created.") % {"name": category.name})
            return redirect("kb:categories")
    page = Paginator(categories, PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "form": form}
    return render(request, "agent/kb/categories.html", context, status=400 if form.is_bound else 200)


@agent_required
def category_edit(request: AuthedRequest, category_id: int) -> HttpResponse:
    category = selectors.get_category_for_manager(request.user, category_id)
    initial = {"name_fr": category.name_fr, "name_en": category.name_en, "slug": category.slug}
    form = CategoryForm(request.POST or None, initial={**initial, "position": category.position})
    if form.is_bound and form.is_valid():
        try:
            services.update_kb_category(category, by=request.user, data=form.to_input())
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The category is saved."))
            return redirect("kb:categories")
    context = {"category": category, "form": form}
    return render(request, "agent/kb/category_edit.html", context, status=400 if form.is_bound else 200)


@agent_required
@require_POST
def category_delete(request: AuthedRequest, category_id: int) -> HttpResponse:
    category = selectors.get_category_for_manager(request.user, category_id)
    try:
        services.delete_kb_category(category, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The category “%(name)s” is deleted.") % {"name": category.name})
    return redirect("kb:categories")
