"""Agent-side knowledge base: list by status, the bilingual editor, lifecycle, versions with diff
and restore, files, links to tickets, and the panel of the agent ticket page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from palier.agent.forms.kb import STATUS_FILTERS, ArticleForm, FileForm
from palier.kb import selectors, services
from palier.kb.models import Article, ArticleVersion
from palier.kb.search import reader_language
from palier.lib.errors import DomainError, StaleVersion
from palier.lib.uploads import add_upload_errors, limit_uploads
from palier.lib.web import agent_required, apply_errors
from palier.people.http import AuthedRequest
from palier.tickets import selectors as tickets
from palier.tickets.models import Ticket

LABELS: dict[str, Any] = {
    Article.Status.IN_REVIEW: gettext_lazy("Send for review"),
    Article.Status.PUBLISHED: gettext_lazy("Publish"),
    Article.Status.ARCHIVED: gettext_lazy("Archive"),
    Article.Status.DRAFT: gettext_lazy("Back to draft"),
}


@agent_required
@require_GET
def article_list(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    cards, page = selectors.articles_for_manager(
        request.user, status=status, language=reader_language(), page=request.GET.get("page")
    )
    context = {
        "cards": cards,
        "page": page,
        "status": status,
        "filters": STATUS_FILTERS,
    }
    return render(request, "agent/kb/list.html", context)


def _ticket_from(request: AuthedRequest, raw: Any) -> Ticket | None:
    try:
        ticket_id = int(raw)
    except (TypeError, ValueError):
        return None
    return tickets.get_ticket_for(request.user, ticket_id)


@agent_required
def article_new(request: AuthedRequest) -> HttpResponse:
    """A new article; ``?ticket=<id>`` prefills it from a resolved ticket (problem + solution)."""
    ticket = _ticket_from(request, request.POST.get("ticket") or request.GET.get("ticket"))
    initial: dict[str, Any] = {"visibility": Article.Visibility.PUBLIC}
    if ticket is not None:
        try:
            prefill = selectors.prefill_from_ticket(request.user, ticket)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("agent:ticket-detail", ticket_id=ticket.pk)
        lang = reader_language()
        initial.update({f"title_{lang}": prefill["title"], f"body_{lang}": prefill["body"], "ticket": ticket.pk})
    form = ArticleForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.create_article(
                by=request.user,
                translations=form.translations(),
                category=data["category"],
                visibility=data["visibility"],
                organisations=list(data["organisations"]),
                ticket=ticket,
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The article is saved as a draft."))
            return redirect("kb:manage-edit", article_id=item.pk)
    context = {"form": form, "ticket": ticket, "article": None}
    return render(request, "agent/kb/edit.html", context, status=400 if form.is_bound else 200)


@agent_required
def article_edit(request: AuthedRequest, article_id: int) -> HttpResponse:
    item = selectors.get_article_for_manager(request.user, article_id)
    form = ArticleForm.for_article(item, request.POST or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_article(
                item,
                by=request.user,
                translations=form.translations(),
                category=data["category"],
                visibility=data["visibility"],
                organisations=list(data["organisations"]),
                expected_version=data["version"],
            )
        except StaleVersion as exc:
            form.add_error(None, exc.message)  # the version field is hidden: say it on top
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The article is saved."))
            return redirect("kb:manage-edit", article_id=item.pk)
    return _edit_page(request, item, form, status=400 if form.is_bound else 200)


def _edit_page(
    request: AuthedRequest, item: Article, form: ArticleForm, *, file_form: FileForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "article": item,
        "transitions": [(to, LABELS[to]) for to in sorted(services.TRANSITIONS[item.status])],
        "files": list(item.files.all()),
        "file_form": file_form or FileForm(),
        "links": selectors.ticket_links(item),
    }
    return render(request, "agent/kb/edit.html", context, status=status)


@agent_required
@require_POST
def article_transition(request: AuthedRequest, article_id: int) -> HttpResponse:
    item = selectors.get_article_for_manager(request.user, article_id)
    try:
        item = services.transition_article(item, to=request.POST.get("to", ""), by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The article is now “%(status)s”.") % {"status": item.get_status_display()})
    return redirect("kb:manage-edit", article_id=item.pk)


@agent_required
@require_GET
def article_versions(request: AuthedRequest, article_id: int) -> HttpResponse:
    item = selectors.get_article_for_manager(request.user, article_id)
    all_versions = selectors.versions(item)
    by_id = {v.pk: v for v in all_versions}
    diff = None
    old: ArticleVersion | None = by_id.get(_int(request.GET.get("a")))
    new: ArticleVersion | None = by_id.get(_int(request.GET.get("b")))
    if old is not None and new is not None and old.language == new.language:
        diff = selectors.diff_html(old, new)
    context = {"article": item, "versions": all_versions, "diff": diff, "old": old, "new": new}
    return render(request, "agent/kb/versions.html", context)


def _int(raw: str | None) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return 0


@agent_required
@require_POST
def version_restore(request: AuthedRequest, article_id: int, version_id: int) -> HttpResponse:
    item = selectors.get_article_for_manager(request.user, article_id)
    try:
        services.restore_version(item, version_id=version_id, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("kb:manage-versions", article_id=item.pk)
    messages.success(request, _("The version is restored as a new version."))
    return redirect("kb:manage-edit", article_id=item.pk)


@agent_required
@require_POST
@limit_uploads
def file_upload(request: AuthedRequest, article_id: int) -> HttpResponse:
    item = selectors.get_article_for_manager(request.user, article_id)
    file_form = FileForm(request.POST, request.FILES)
    add_upload_errors(request, file_form, "file")
    if file_form.is_valid():
        try:
            services.add_article_file(item, by=request.user, upload=file_form.cleaned_data["file"])
        except ValidationError as exc:
            file_form.add_error("file", exc.messages)
        except DomainError as exc:
            file_form.add_error("file", exc.message)
        else:
            messages.success(request, _("The file is added."))
            return redirect("kb:manage-edit", article_id=item.pk)
    item = selectors.get_article_for_manager(request.user, article_id)
    return _edit_page(request, item, ArticleForm.for_article(item), file_form=file_form, status=400)


@agent_required
@require_POST
def file_delete(request: AuthedRequest, file_id: int) -> HttpResponse:
    item = selectors.get_file_for_manager(request.user, file_id=file_id)
    services.remove_article_file(item, by=request.user)
    messages.success(request, _("The file is removed."))
    return redirect("kb:manage-edit", article_id=item.article_id)


@agent_required
@require_POST
def ticket_link(request: AuthedRequest, article_id: int) -> HttpResponse:
    """Link (or with ``remove``, unlink) a ticket; from the ticket page answers with its panel."""
    item = selectors.get_article_for_manager(request.user, article_id)
    ticket = _ticket_from(request, request.POST.get("ticket"))
    if ticket is None:
        messages.error(request, _("Give the number of a ticket you can see."))
        return redirect("kb:manage-edit", article_id=item.pk)
    if request.POST.get("remove"):
        services.unlink_ticket(item, ticket=ticket, by=request.user)
    else:
        services.link_ticket(item, ticket=ticket, by=request.user)
    if request.htmx:
        return ticket_panel(request, ticket.pk)
    return redirect("kb:manage-edit", article_id=item.pk)


@agent_required
def ticket_panel(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """The agent ticket page's knowledge panel: linked articles, suggestions to insert, and
    "write an article" when the ticket is resolved."""
    ticket = tickets.get_ticket_for(request.user, ticket_id)
    language = reader_language()
    linked = selectors.articles_linked_to(ticket, language=language)
    linked_ids = {card.article.pk for card in linked}
    suggestions = [
        h
        for h in selectors.ticket_suggestions(request.user, ticket, language=language)
        if h.article.pk not in linked_ids
    ]
    context = {
        "ticket": ticket,
        "linked": linked,
        "suggestions": suggestions,
        # a link in a public reply must open for the requester: internal articles get no "Insert link"
        "requester_can_read": selectors.readable_ids(ticket.requester, [h.article.pk for h in suggestions]),
        "can_write": ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED),
    }
    return render(request, "agent/kb/ticket_panel.html", context)
