"""Requester pages: browse and search the catalog, an item's form, "My approvals", and the
signed approve/reject links from the emails (no sign-in; GET only shows, POST decides)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.assets import selectors as asset_selectors
from palier.catalog import links, selectors, services
from palier.catalog.forms import RequestForm, wants_devices
from palier.catalog.models import Approval, ItemField
from palier.catalog.permissions import nameable_people
from palier.lib.errors import DomainError
from palier.lib.uploads import limit_uploads, upload_errors
from palier.lib.web import apply_errors, signed_in
from palier.people import selectors as people_selectors
from palier.people.http import AuthedRequest
from palier.portal.forms.catalog import DecisionForm, DelegationForm, SearchForm

PER_PAGE = 24
APPROVALS_PER_PAGE = 20


@signed_in
def catalog_home(request: AuthedRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    form.is_valid()
    q = (form.cleaned_data.get("q") or "").strip()
    category_id = form.cleaned_data.get("category")
    items = selectors.catalog_page(request.user, q=q, category_id=category_id)
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "q": q,
        "category_id": category_id,
        "categories": selectors.categories_for(request.user),
        "page": page,
    }
    return render(request, "portal/catalog/home.html", context)


@signed_in
@limit_uploads
def item_page(request: AuthedRequest, item_id: int) -> HttpResponse:
    item = selectors.get_item_for(request.user, item_id)
    specs = selectors.item_fields(item)
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    devices = asset_selectors.own_assets_choices(request.user) if wants_devices(specs) else []
    form = RequestForm(data, files, specs=specs, people=nameable_people(request.user), devices=devices)
    if form.is_bound:
        _upload_errors(request, form, specs)
    if form.is_bound and form.is_valid():
        try:
            ticket = services.submit_request(
                item=item, requester=request.user, answers=form.answers(), uploads=form.uploads
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your request %(ref)s is registered.") % {"ref": ticket.reference})
            return redirect("portal:ticket-detail", ticket_id=ticket.pk)
    status = 400 if form.is_bound else 200
    return render(request, "portal/catalog/item.html", {"item": item, "form": form}, status=status)


def _upload_errors(request: HttpRequest, form: RequestForm, specs: list[ItemField]) -> None:
    """A file refused while parsing (too large) shows beside the first attachment field."""
    names = [f"f_{s.key}" for s in specs if s.kind == ItemField.Kind.ATTACHMENT]
    for message in upload_errors(request):
        form.add_error(names[0] if names else None, message)


@signed_in
def my_approvals(request: AuthedRequest) -> HttpResponse:
    page = Paginator(selectors.approvals_waiting_for(request.user), APPROVALS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    page.object_list = selectors.with_subjects(page.object_list)
    decided = selectors.with_subjects(selectors.approvals_decided_by(request.user))
    context = {"page": page, "decided": decided, "form": DecisionForm()}
    return render(request, "portal/catalog/approvals.html", context)


@signed_in
@require_POST
def decide(request: AuthedRequest, approval_id: int) -> HttpResponse:
    approval = selectors.with_subjects([selectors.get_approval_for(request.user, approval_id)])[0]
    form = DecisionForm(request.POST)
    decision = request.POST.get("decision", "")
    if form.is_valid():
        try:
            services.decide(approval=approval, decision=decision, comment=form.cleaned_data["comment"], by=request.user)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _decided_message(decision, approval))
            return redirect("catalog:approvals")
    context = {"approval": approval, "form": form, "action_url": request.path}
    return render(request, "portal/catalog/decide.html", context, status=400)


@signed_in
def delegation(request: AuthedRequest) -> HttpResponse:
    """Name a deputy for a period: approvals newly asked of you then go to them."""
    form = DelegationForm(request.POST or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        found = people_selectors.active_people_with_emails(emails=[data["deputy_email"].lower()])
        try:
            services.set_delegation(
                user=request.user,
                deputy=found[0] if found else None,
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your deputy is named."))
            return redirect("catalog:delegation")
    context = {"form": form, "delegations": selectors.delegations_of(request.user)}
    return render(request, "portal/catalog/delegation.html", context, status=400 if form.is_bound else 200)


@signed_in
@require_POST
def end_delegation(request: AuthedRequest, delegation_id: int) -> HttpResponse:
    try:
        services.end_delegation(user=request.user, delegation_id=delegation_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The delegation was removed."))
    return redirect("catalog:delegation")


def _reference(approval: Approval) -> str:
    """The reference of what the approval decides: a request's ticket, or a change."""
    if approval.step.submission is not None:
        return approval.step.submission.ticket.reference
    view = getattr(approval, "subject_view", None)
    return view.reference if view is not None else ""


def _decided_message(decision: str, approval: Approval) -> str:
    ref = _reference(approval)
    if decision == Approval.Decision.APPROVED:
        return _("You approved %(ref)s.") % {"ref": ref}
    return _("You rejected %(ref)s.") % {"ref": ref}


def _link_problem(request: HttpRequest, title: str, text: str, status: int) -> HttpResponse:
    return render(request, "portal/catalog/link_problem.html", {"title": title, "text": text}, status=status)


def approval_link(request: HttpRequest, token: str) -> HttpResponse:
    """The page behind an email link: shows the request and asks to confirm with a POST."""
    try:
        claim = links.read_token(token)
    except links.ExpiredLink:
        return _link_problem(
            request,
            _("This link has expired"),
            _("Approval links work for %(days)d days. Sign in and open “My approvals” to decide.")
            % {"days": links.LINK_DAYS},
            410,
        )
    except links.InvalidLink:
        return _link_problem(request, _("This link is not valid"), _("Use the link exactly as it was sent."), 400)
    approval = selectors.approval_for_link(claim.approval_id)
    if approval is None:
        return _link_problem(request, _("This link is not valid"), _("This request no longer exists."), 404)
    selectors.with_subjects([approval])
    if approval.decision != Approval.Decision.PENDING:
        return _already_decided(request, approval)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.decide(
                approval=approval, decision=claim.decision, comment=form.cleaned_data["comment"], by=None, via="link"
            )
        except services.AlreadyDecided:
            return _already_decided(request, approval)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            done = {"approval": approval, "decision": claim.decision, "reference": _reference(approval)}
            return render(request, "portal/catalog/link_done.html", done)
    context: dict[str, Any] = {
        "approval": approval,
        "form": form,
        "decision": claim.decision,
        "action_url": request.path,
    }
    return render(request, "portal/catalog/decide.html", context, status=400 if form.is_bound else 200)


def _already_decided(request: HttpRequest, approval: Approval) -> HttpResponse:
    return _link_problem(
        request,
        _("Already decided"),
        _("A decision was already recorded for %(ref)s; this link no longer changes anything.")
        % {"ref": _reference(approval)},
        409,
    )
