"""Change pages for the desk's staff: the list, raising a change (type first: a standard change
from a template, the others with the full form), a change's page (lifecycle buttons, risk
questionnaire, links, comments, review) and its form. The rules live in ``palier.changes``:
these views parse, call one selector or service, and render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.changes import (
    AssetLinkForm,
    ChangeFilterForm,
    ChangeForm,
    CloseForm,
    CommentForm,
    ProblemLinkForm,
    ReviewForm,
    RiskForm,
    StatusForm,
    TicketLinkForm,
)
from palier.catalog.models import pick
from palier.changes import display, permissions, rules, selectors, services
from palier.changes.models import Change, ChangeTemplate
from palier.lib.errors import DomainError
from palier.lib.web import agent_required, apply_errors
from palier.people.http import AuthedRequest
from palier.people.models import User
from palier.reports.dashboards import viewer_zone
from palier.tickets.models import Ticket
from palier.tickets.selectors import get_ticket_for

S = Change.Status
RISK_STATUSES = frozenset({S.DRAFT, S.ASSESSMENT, S.REJECTED})
REVIEW_STATUSES = frozenset({S.REVIEW, S.CLOSED})


def in_viewer_zone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Show and read the change windows in the viewer's time zone (their working time zone, else
    the desk's): the datetime-local fields, the page's dates."""

    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(viewer_zone(request.user)):
            return view(request, *args, **kwargs)

    return wrapper


def _error_text(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(str(m) for m in exc.messages)


def _back(change: Change, anchor: str = "") -> HttpResponse:
    return redirect(reverse("changes:detail", args=[change.pk]) + (f"#{anchor}" if anchor else ""))


# --- the list --------------------------------------------------------------------------------------


@agent_required
@in_viewer_zone
def change_list(request: AuthedRequest) -> HttpResponse:
    form = ChangeFilterForm(request.GET)
    page = selectors.change_page(request.user, form.to_filters(), after=form.cursor())
    query = request.GET.copy()
    query.pop("after", None)
    following = query.copy()
    if page.next_after:
        following["after"] = str(page.next_after)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "next_query": following.urlencode() if page.next_after else "",
        "first_page": form.cursor() is None,
    }
    return render(request, "agent/changes/list.html", context)


# --- raising a change ------------------------------------------------------------------------------


def _ticket_from(request: AuthedRequest) -> Ticket | None:
    """The ticket a change is raised from (``?ticket=<id>``): 404 when the user may not see it."""
    raw = request.POST.get("ticket") or request.GET.get("ticket") or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("ticket")
    return get_ticket_for(request.user, int(raw))


def _choose(request: AuthedRequest, ticket: Ticket | None, error: str = "") -> HttpResponse:
    context = {"templates": selectors.active_templates(), "ticket": ticket, "error": error}
    return render(request, "agent/changes/choose_type.html", context, status=400 if error else 200)


def _assets_for(request: AuthedRequest, form: ChangeForm) -> list[int] | None:
    """The ids of the tags typed, or None with an error on the form when one is unknown."""
    tags = form.tags()
    found = selectors.assets_by_tags(request.user, tags)
    missing = [t for t in tags if t.upper() not in found]
    if missing:
        form.add_error(
            "assets",
            _("No asset you may see has the tag %(tags)s; nothing was saved.") % {"tags": ", ".join(missing[:5])},
        )
        return None
    return sorted({a.pk for a in found.values()})


@agent_required
@in_viewer_zone
def change_new(request: AuthedRequest) -> HttpResponse:
    """First the type (and for a standard change its template), then the form."""
    ticket = _ticket_from(request)
    kind = request.POST.get("kind") or request.GET.get("kind") or ""
    if kind not in Change.Kind.values:
        return _choose(request, ticket)
    template: ChangeTemplate | None = None
    if kind == Change.Kind.STANDARD:
        template = selectors.find_active_template(request.POST.get("template") or request.GET.get("template"))
        if template is None:
            return _choose(request, ticket, _("Choose one of the templates below."))
        if not template.is_active and request.method != "POST":
            return _choose(request, ticket, _("This template is switched off; choose another one."))
    form = ChangeForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        asset_ids = _assets_for(request, form)
        if asset_ids is not None:
            values = form.to_values()
            try:
                with transaction.atomic():
                    change = services.create_change(
                        by=request.user,
                        kind=kind,
                        template=template,
                        asset_ids=asset_ids,
                        **values,
                    )
                    if ticket is not None:
                        services.link_ticket(change, ticket, by=request.user)
            except (ValidationError, DomainError) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Change %(reference)s raised.") % {"reference": change.reference})
                return _back(change)
    context = {
        "form": form,
        "kind": kind,
        "kind_label": Change.Kind(kind).label,
        "template": template,
        "ticket": ticket,
    }
    return render(request, "agent/changes/form.html", context, status=400 if form.is_bound else 200)


@agent_required
@in_viewer_zone
def change_edit(request: AuthedRequest, change_id: int) -> HttpResponse:
    change = selectors.get_change_for(request.user, change_id)
    if change.status == S.CLOSED:
        messages.error(request, _("A closed change cannot be edited."))
        return _back(change)
    form = ChangeForm(request.POST or None, kind=change.kind, editing=True, initial=ChangeForm.initial_for(change))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_change(
                change, by=request.user, version=form.cleaned_data.get("version"), **form.to_values()
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return _back(change)
    context = {"form": form, "change": change, "kind": change.kind, "kind_label": change.get_kind_display()}
    return render(request, "agent/changes/form.html", context, status=400 if form.is_bound else 200)


# --- a change's page -------------------------------------------------------------------------------


def _targets(change: Change) -> list[tuple[str, str]]:
    """The buttons: every status a person may move the change to, but closing (its own form)."""
    allowed = rules.allowed_targets(change.status, change.kind) - rules.BY_APPROVAL_ONLY
    return [(s, str(label)) for s, label in S.choices if s in allowed and s != S.CLOSED]


def _risk_rows(change: Change, questions: list[Any]) -> list[tuple[str, str]]:
    rows = []
    for question in questions:
        value = (change.risk_answers or {}).get(str(question.pk))
        choice = next((c for c in question.choices if str(c.get("value")) == value), None)
        answer = pick(str(choice.get("fr") or ""), str(choice.get("en") or "")) if choice else "—"
        rows.append((question.text, answer))
    return rows


def _detail(request: AuthedRequest, change: Change, *, status: int = 200, **forms: Any) -> HttpResponse:
    data = selectors.change_page_data(request.user, change)
    allowed = rules.allowed_targets(change.status, change.kind)
    closing = S.CLOSED in allowed
    context: dict[str, Any] = {
        "change": change,
        "data": data,
        "lines": display.lines(data.timeline),
        "can_edit": permissions.can(request.user, "edit") and change.status != S.CLOSED,
        "targets": _targets(change),
        "close_form": forms.get("close_form")
        or (CloseForm(initial={"version": change.version}, status=change.status) if closing else None),
        "risk_rows": _risk_rows(change, data.questions),
        "risk_form": forms.get("risk_form")
        or (
            RiskForm(questions=data.questions, answers=change.risk_answers or {}, initial={"version": change.version})
            if change.status in RISK_STATUSES and data.questions
            else None
        ),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "asset_form": forms.get("asset_form") or AssetLinkForm(),
        "ticket_form": forms.get("ticket_form") or TicketLinkForm(),
        "problem_form": forms.get("problem_form") or ProblemLinkForm(),
        "review_form": forms.get("review_form")
        or (
            ReviewForm(
                initial={"review_notes": change.review_notes, "lessons": change.lessons, "version": change.version}
            )
            if change.status in REVIEW_STATUSES
            else None
        ),
    }
    return render(request, "agent/changes/detail.html", context, status=status)


@agent_required
@in_viewer_zone
def change_detail(request: AuthedRequest, change_id: int) -> HttpResponse:
    return _detail(request, selectors.get_change_for(request.user, change_id))


@agent_required
@require_POST
def change_status(request: AuthedRequest, change_id: int) -> HttpResponse:
    change = selectors.get_change_for(request.user, change_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The page was out of date; here it is again."))
        return _back(change)
    data = form.cleaned_data
    try:
        services.transition_change(
            change,
            to=data["to"],
            by=request.user,
            version=data["version"],
            outcome=data.get("outcome") or "",
            note=data.get("note") or "",
        )
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Status changed."))
    return _back(change)


@agent_required
@require_POST
@in_viewer_zone
def change_risk(request: AuthedRequest, change_id: int) -> HttpResponse:
    change = selectors.get_change_for(request.user, change_id)
    questions = selectors.risk_questions(active_only=True)
    form = RiskForm(request.POST, questions=questions, answers={})
    if form.is_valid():
        try:
            services.assess_risk(change, by=request.user, answers=form.answers(), version=form.cleaned_data["version"])
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Risk assessed."))
            return _back(change, "risk")
    return _detail(request, change, status=400, risk_form=form)


@agent_required
@require_POST
@in_viewer_zone
def change_comment(request: AuthedRequest, change_id: int) -> HttpResponse:
    change = selectors.get_change_for(request.user, change_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_on_change(change, by=request.user, body=form.cleaned_data["body"])
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Comment added."))
            return _back(change, "timeline")
    return _detail(request, change, status=400, comment_form=form)


@agent_required
@require_POST
@in_viewer_zone
def change_link_assets(request: AuthedRequest, change_id: int) -> HttpResponse:
    change = selectors.get_change_for(request.user, change_id)
    form = AssetLinkForm(request.POST)
    if form.is_valid():
        tags = form.tag_list()
        found = selectors.assets_by_tags(request.user, tags)
        missing = [t for t in tags if t.upper() not in found]
        if missing:
            form.add_error(
                "tags",
                _("No asset you may see has the tag %(tags)s; nothing was linked.") % {"tags": ", ".join(missing[:5])},
            )
        else:
            try:
                services.link_assets(change, [a.pk for a in found.values()], by=request.user)
            except (ValidationError, DomainError) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Assets linked."))
                return _back(change, "change-assets")
    return _detail(request, change, status=400, asset_form=form)


@agent_required
@require_POST
def change_unlink_asset(request: AuthedRequest, change_id: int, asset_id: int) -> HttpResponse:
    change = selectors.get_change_for(request.user, change_id)
    asset = selectors.get_asset_in_change(change, asset_id)
    try:
        services.unlink_asset(change, asset, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Asset removed from the change."))
    return _back(change, "change-assets")


def _link_by_reference(
    request: AuthedRequest,
    change: Change,
    form: TicketLinkForm | ProblemLinkForm,
    *,
    find: Callable[[User, str], Any],
    link: Callable[..., Any],
    missing: str,
    done: str,
    anchor: str,
    form_name: str,
) -> HttpResponse:
    """Link the ticket or problem a posted reference names, or show the change page with why not."""
    if form.is_valid():
        target = find(request.user, form.cleaned_data["reference"])
        if target is None:
            form.add_error("reference", missing)
        else:
            try:
                link(change, target, by=request.user, relation=form.cleaned_data["relation"])
            except (ValidationError, DomainError) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, done)
                return _back(change, anchor)
    return _detail(request, change, status=400, **{form_name: form})


@agent_required
@require_POST
@in_viewer_zone
def change_link_ticket(request: AuthedRequest, change_id: int) -> HttpResponse:
    change = selectors.get_change_for(request.user, change_id)
    return _link_by_reference(
        request,
        change,
        TicketLinkForm(request.POST),
        find=selectors.get_ticket_by_reference,
        link=services.link_ticket,
        missing=_("This ticket does not exist or you may not see it."),
        done=_("Ticket linked."),
        anchor="change-tickets",
        form_name="ticket_form",
    )


@agent_required
@require_POST
@in_viewer_zone
def change_link_problem(request: AuthedRequest, change_id: int) -> HttpResponse:
    change = selectors.get_change_for(request.user, change_id)
    return _link_by_reference(
        request,
        change,
        ProblemLinkForm(request.POST),
        find=selectors.get_problem_by_reference,
        link=services.link_problem,
        missing=_("This problem does not exist or you may not see it."),
        done=_("Problem linked."),
        anchor="change-problems",
        form_name="problem_form",
    )


@agent_required
@require_POST
@in_viewer_zone
def change_review(request: AuthedRequest, change_id: int) -> HttpResponse:
    change = selectors.get_change_for(request.user, change_id)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_change(
                change,
                by=request.user,
                version=form.cleaned_data["version"],
                review_notes=form.cleaned_data["review_notes"],
                lessons=form.cleaned_data["lessons"],
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Review saved."))
            return _back(change, "review")
    return _detail(request, change, status=400, review_form=form)
