"""Problem pages for the desk's staff: the list, a problem's page (record, status, timeline,
comments, files, watchers, incidents, assets, articles, resolution), its form, and the actions
that link incidents from the queue and from a ticket's page. The rules live in
``palier.problems``: these views parse, call one selector or service, and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from palier.agent.forms.problems import (
    CommentForm,
    FileForm,
    LinkArticleForm,
    LinkAssetForm,
    LinkIncidentsForm,
    LinkToProblemForm,
    ProblemFilterForm,
    ProblemForm,
    ResolveForm,
)
from palier.assets import selectors as asset_selectors
from palier.lib import files
from palier.lib.errors import DomainError, NotFound, StaleVersion
from palier.lib.web import agent_required, apply_errors
from palier.people.http import AuthedRequest
from palier.problems import display, permissions, rules, selectors, services
from palier.problems.models import Problem

DETAIL = "agent/problems/detail.html"
FORM = "agent/problems/form.html"


def _problem(request: AuthedRequest, problem_id: int) -> Problem:
    try:
        return selectors.get_problem_for(request.user, problem_id)
    except NotFound:
        raise Http404("problem") from None


def _error_text(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(str(m) for m in exc.messages)


def _version(request: AuthedRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


def _back(problem: Problem, anchor: str = "") -> HttpResponse:
    return redirect(reverse("problems:detail", args=[problem.pk]) + (f"#{anchor}" if anchor else ""))


# --- the list ----------------------------------------------------------------------------------------


@agent_required
def problem_list(request: AuthedRequest) -> HttpResponse:
    form = ProblemFilterForm(request.GET)
    page = selectors.problem_page(request.user, form.to_filters(), after=form.cursor())
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
    return render(request, "agent/problems/list.html", context)


# --- a problem's page --------------------------------------------------------------------------------


@agent_required
def problem_detail(request: AuthedRequest, problem_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    return render(request, DETAIL, _detail_context(request, problem))


def _next_statuses(request: AuthedRequest, problem: Problem) -> list[tuple[str, str]]:
    manager = permissions.is_problem_manager(request.user)
    targets = rules.allowed_targets(problem.status)
    return [
        (s, str(Problem.Status(s).label))
        for s in Problem.Status.values
        if s in targets and (manager or s not in rules.MANAGER_ONLY) and s != Problem.Status.RESOLVED
    ]


def _detail_context(request: AuthedRequest, problem: Problem, **forms: Any) -> dict[str, Any]:
    user = request.user
    after = request.GET.get("incidents_after", "")
    incidents = selectors.incidents_of(user, problem, after=int(after) if after.isdigit() else None)
    watchers = selectors.watchers_of(problem)
    can_resolve = permissions.is_problem_manager(user) and Problem.Status.RESOLVED in rules.allowed_targets(
        problem.status
    )
    return {
        "problem": problem,
        "timeline": display.timeline_lines(selectors.timeline(problem)),
        "incidents": incidents,
        "incidents_first_page": not after,
        "assets": selectors.assets_of(problem),
        "articles": selectors.articles_of(problem),
        "changes": selectors.changes_of(problem),
        "watchers": watchers,
        "watching": any(w.pk == user.pk for w in watchers),
        "attachments": selectors.attachments_of(problem),
        "next_statuses": _next_statuses(request, problem),
        "can_resolve": can_resolve,
        "comment_form": forms.get("comment_form") or CommentForm(),
        "file_form": forms.get("file_form") or FileForm(),
        "incidents_form": forms.get("incidents_form") or LinkIncidentsForm(),
        "asset_form": forms.get("asset_form") or LinkAssetForm(),
        "article_form": forms.get("article_form") or LinkArticleForm(),
        "resolve_form": forms.get("resolve_form") or ResolveForm(initial={"version": problem.version}),
    }


def _invalid(request: AuthedRequest, problem: Problem, **forms: Any) -> HttpResponse:
    return render(request, DETAIL, _detail_context(request, problem, **forms), status=400)


@agent_required
@require_POST
def problem_status(request: AuthedRequest, problem_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    try:
        services.transition_problem(
            problem, to=request.POST.get("status", ""), by=request.user, version=_version(request)
        )
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Status changed."))
    return _back(problem)


@agent_required
@require_POST
def problem_resolve(request: AuthedRequest, problem_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    form = ResolveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            queued = services.resolve_problem(
                problem,
                by=request.user,
                message=data["message"],
                notify=data["notify"],
                resolve_incidents=data["resolve_incidents"],
                version=data.get("version"),
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            text = _("Problem resolved.")
            if queued:
                text += " " + ngettext(
                    "%(n)d open incident will be told.", "%(n)d open incidents will be told.", queued
                ) % {"n": queued}
            messages.success(request, text)
            return _back(problem)
    return _invalid(request, problem, resolve_form=form)


@agent_required
@require_POST
def problem_comment(request: AuthedRequest, problem_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_on_problem(
                problem, by=request.user, body=form.cleaned_data["body"], internal=form.cleaned_data["internal"]
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Comment added."))
            return _back(problem, "timeline")
    return _invalid(request, problem, comment_form=form)


@agent_required
@require_POST
def problem_watch(request: AuthedRequest, problem_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    watching = request.POST.get("watch") == "1"
    try:
        services.set_watching(problem, by=request.user, watching=watching)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You are watching this problem.") if watching else _("You no longer watch it."))
    return _back(problem)


@agent_required
@require_POST
def file_upload(request: AuthedRequest, problem_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    form = FileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_file(problem, form.cleaned_data["file"], by=request.user)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("File attached."))
            return _back(problem, "files")
    return _invalid(request, problem, file_form=form)


@agent_required
def file_download(request: AuthedRequest, problem_id: int, file_id: int) -> FileResponse:
    try:
        stored = selectors.get_attachment_for(request.user, problem_id, file_id)
    except NotFound:
        raise Http404("file") from None
    return files.stored_file_response(stored.file, name=stored.name, content_type=stored.content_type)


# --- links ---------------------------------------------------------------------------------------------


@agent_required
@require_POST
def incidents_link(request: AuthedRequest, problem_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    form = LinkIncidentsForm(request.POST)
    if form.is_valid():
        ids, bad = selectors.tickets_by_references(request.user, form.cleaned_data["references"])
        if bad:
            form.add_error(
                "references",
                _("Not found or not yours to see: %(refs)s. Nothing was linked.") % {"refs": ", ".join(bad[:20])},
            )
        elif not ids:
            form.add_error("references", _("Give at least one incident reference."))
        else:
            try:
                outcome = services.link_incidents(problem, ids, by=request.user)
            except (ValidationError, DomainError) as exc:
                form.add_error("references", _error_text(exc))
            else:
                messages.success(request, _link_message(len(outcome.linked), outcome.already))
                return _back(problem, "incidents")
    return _invalid(request, problem, incidents_form=form)


def _link_message(linked: int, already: int) -> str:
    text = ngettext("%(n)d incident linked.", "%(n)d incidents linked.", linked) % {"n": linked}
    if already:
        text += " " + ngettext("%(n)d was already linked.", "%(n)d were already linked.", already) % {"n": already}
    return text


@agent_required
@require_POST
def incident_unlink(request: AuthedRequest, problem_id: int, ticket_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    try:
        link = selectors.get_incident_link_for(request.user, problem, ticket_id)
        services.unlink_incident(problem, link.ticket, by=request.user)
    except NotFound:
        raise Http404("incident") from None
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(ref)s removed from the problem.") % {"ref": link.ticket.reference})
    return _back(problem, "incidents")


@agent_required
@require_POST
def asset_link(request: AuthedRequest, problem_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    form = LinkAssetForm(request.POST)
    if form.is_valid():
        try:
            asset = asset_selectors.get_asset_by_tag_for(request.user, form.cleaned_data["tag"])
            services.link_assets(problem, [asset.pk], by=request.user)
        except NotFound as exc:
            form.add_error("tag", exc.message)
        except (ValidationError, DomainError) as exc:
            form.add_error("tag", _error_text(exc))
        else:
            messages.success(request, _("Asset linked."))
            return _back(problem, "assets")
    return _invalid(request, problem, asset_form=form)


@agent_required
@require_POST
def asset_unlink(request: AuthedRequest, problem_id: int, asset_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    try:
        link = selectors.get_asset_link_for(problem, asset_id)
        services.unlink_asset(problem, link.asset, by=request.user)
    except NotFound:
        raise Http404("asset") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Asset removed."))
    return _back(problem, "assets")


@agent_required
@require_POST
def article_link(request: AuthedRequest, problem_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    form = LinkArticleForm(request.POST)
    if form.is_valid():
        try:
            services.link_articles(problem, [form.cleaned_data["article"]], by=request.user)
        except (ValidationError, DomainError) as exc:
            form.add_error("article", _error_text(exc))
        else:
            messages.success(request, _("Article linked."))
            return _back(problem, "articles")
    return _invalid(request, problem, article_form=form)


# --- creating and editing ------------------------------------------------------------------------------


@agent_required
def problem_new(request: AuthedRequest) -> HttpResponse:
    """The problem's form; ``?tickets=1,2,3`` prefills the incidents to link (and the title and
    category of the first)."""
    raw = request.GET.get("tickets", "")
    prefill = selectors.tickets_for_new_problem(request.user, [int(t) for t in raw.split(",") if t.strip().isdigit()])
    initial: dict[str, Any] = {}
    if prefill:
        initial = {
            "title": prefill[-1].subject,
            "category": str(prefill[-1].category_id or ""),
            "incidents": ",".join(str(t.pk) for t in prefill),
        }
    form = ProblemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = form.to_values()
        later = {k: values.pop(k) for k in ("permanent_fix", "respond_by", "resolve_by") if values.get(k)}
        values.pop("respond_by", None), values.pop("resolve_by", None), values.pop("permanent_fix", None)
        try:
            with transaction.atomic():  # the fields create_problem does not take, or nothing
                problem = services.create_problem(by=request.user, incident_ids=form.ticket_ids(), **values)
                if later:
                    services.update_problem(problem, by=request.user, **later)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Problem %(ref)s created.") % {"ref": problem.reference})
            return _back(problem)
    if form.is_bound:
        prefill = selectors.tickets_for_new_problem(request.user, form.ticket_ids() if form.is_valid() else [])
    status = 400 if form.is_bound else 200
    return render(request, FORM, {"form": form, "incidents": prefill}, status=status)


@agent_required
def problem_edit(request: AuthedRequest, problem_id: int) -> HttpResponse:
    problem = _problem(request, problem_id)
    form = ProblemForm(request.POST or None, initial=ProblemForm.initial_for(problem))
    if request.method == "POST" and form.is_valid():
        changed = {k: v for k, v in form.to_values().items() if getattr(problem, k) != v}
        try:
            services.update_problem(problem, by=request.user, version=form.cleaned_data.get("version"), **changed)
        except StaleVersion as exc:
            form.add_error(None, exc.message)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return _back(problem)
    status = 400 if form.is_bound else 200
    return render(request, FORM, {"form": form, "problem": problem}, status=status)


# --- from incidents: the queue's bulk actions and the ticket page's panel -------------------------------


def _next(request: AuthedRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _selected(request: AuthedRequest) -> list[int]:
    return [int(t) for t in request.POST.getlist("tickets") if t.isdigit()][: selectors.MAX_FROM_QUEUE]


def _htmx_redirect(request: AuthedRequest, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@agent_required
@require_POST
def link_tickets(request: AuthedRequest) -> HttpResponse:
    """Link the selected tickets (the queue's checkboxes, or the ticket page's one ticket) to the
    problem named by its reference; all or nothing."""
    ids = _selected(request)
    back = _next(request, reverse("agent:ticket-list"))
    form = LinkToProblemForm(request.POST)
    if not ids:
        messages.error(request, _("Select at least one ticket."))
    elif form.is_valid():
        try:
            problem = selectors.get_problem_by_reference(request.user, form.cleaned_data["problem"])
            outcome = services.link_incidents(problem, ids, by=request.user)
        except (ValidationError, DomainError) as exc:
            messages.error(request, _error_text(exc))
        else:
            text = _link_message(len(outcome.linked), outcome.already)
            messages.success(request, _("%(ref)s: %(text)s") % {"ref": problem.reference, "text": text})
    else:
        messages.error(request, _("Give the problem's reference, e.g. PRB-12."))
    return _htmx_redirect(request, back)


@agent_required
@require_POST
def from_tickets(request: AuthedRequest) -> HttpResponse:
    """ "Create a problem from the selection": on to the problem's form with the incidents."""
    ids = _selected(request)
    if not ids:
        messages.error(request, _("Select at least one ticket."))
        return _htmx_redirect(request, _next(request, reverse("agent:ticket-list")))
    return _htmx_redirect(request, reverse("problems:new") + "?tickets=" + ",".join(str(i) for i in ids))
