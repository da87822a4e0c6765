"""Major-incident pages for the desk: the list (ongoing first), a major incident's page (status
note form, communication log, attached tickets, the review once ended), and the actions posted
from it or from a ticket's page. The rules live in ``palier.problems.services.major``: these
views parse, call one selector or service, and redirect with its message."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from palier.agent.forms.major import AttachForm, DeclareForm, ResolveForm, ReviewForm, UpdateForm
from palier.lib.errors import DomainError, NotFound
from palier.lib.web import agent_required
from palier.people.http import AuthedRequest
from palier.problems import major_selectors as selectors
from palier.problems import permissions, services
from palier.problems.models import MajorIncident
from palier.problems.services.major import REVIEW_FIELDS
from palier.tickets import selectors as ticket_selectors


def _major(request: AuthedRequest, major_id: int) -> MajorIncident:
    try:
        return selectors.major_for(request.user, major_id)
    except NotFound:
        raise Http404("major incident") from None


def _error_text(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(str(m) for m in exc.messages)


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


def _page_number(request: AuthedRequest, name: str = "page") -> int:
    try:
        return max(1, int(request.GET.get(name, "1")))
    except ValueError:
        return 1


@agent_required
@require_GET
def major_list(request: AuthedRequest) -> HttpResponse:
    page = selectors.major_page(request.user, number=_page_number(request))
    return render(request, "agent/major/list.html", {"page": page})


@agent_required
@require_GET
def major_detail(request: AuthedRequest, major_id: int) -> HttpResponse:
    major = _major(request, major_id)
    attached = selectors.attached_page(major, number=_page_number(request, "attached"))
    context = {
        "major": major,
        "attached": attached,
        "log": selectors.communication_log(major),
        "may_publish": permissions.can(request.user, "publish"),
        "update_form": UpdateForm(prefix="update"),
        "attach_form": AttachForm(prefix="attach"),
        "resolve_form": ResolveForm(prefix="resolve"),
        "review_form": ReviewForm(
            prefix="review",
            initial={name: getattr(major, name) for name in REVIEW_FIELDS} | {"version": major.version},
        ),
    }
    return render(request, "agent/major/detail.html", context)


def _run(request: AuthedRequest, action: object, success: str) -> bool:
    try:
        action()  # type: ignore[operator]
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
        return False
    messages.success(request, success)
    return True


@agent_required
@require_POST
def major_declare(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """Declare the ticket major (posted from the ticket's page); on success, to its new page."""
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id)
    form = DeclareForm(request.POST, prefix="major")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("agent:ticket-detail", ticket_id=ticket.pk)
    data = form.cleaned_data
    created: list[MajorIncident] = []

    def declare() -> None:
        created.append(
            services.declare_major(ticket, by=request.user, headline=data["headline"], status_note=data["status_note"])
        )

    if _run(request, declare, _("The incident is declared major.")):
        return redirect("major:detail", major_id=created[0].pk)
    return redirect("agent:ticket-detail", ticket_id=ticket.pk)


@agent_required
@require_POST
def major_publish(request: AuthedRequest, major_id: int) -> HttpResponse:
    major = _major(request, major_id)
    form = UpdateForm(request.POST, prefix="update")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        data = form.cleaned_data
        internal = data["internal"]
        _run(
            request,
            lambda: services.publish_update(
                major,
                by=request.user,
                message=data["message"],
                portal=data["portal"] and not internal,
                email=data["email"] and not internal,
                internal=internal,
            ),
            _("Internal note added.") if internal else _("Update published."),
        )
    return redirect("major:detail", major_id=major.pk)


@agent_required
@require_POST
def major_attach(request: AuthedRequest, major_id: int) -> HttpResponse:
    major = _major(request, major_id)
    form = AttachForm(request.POST, prefix="attach")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("major:detail", major_id=major.pk)
    ticket = ticket_selectors.get_ticket_by_reference(request.user, form.cleaned_data["reference"])
    if ticket is None:
        messages.error(request, _("This ticket does not exist or you may not see it."))
    else:
        _run(
            request,
            lambda: services.attach_incident(major, ticket, by=request.user),
            _("%(ref)s is attached.") % {"ref": ticket.reference},
        )
    return redirect("major:detail", major_id=major.pk)


@agent_required
@require_POST
def major_detach(request: AuthedRequest, major_id: int, ticket_id: int) -> HttpResponse:
    major = _major(request, major_id)
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id)
    _run(
        request,
        lambda: services.detach_incident(major, ticket, by=request.user),
        _("%(ref)s is detached.") % {"ref": ticket.reference},
    )
    return redirect("major:detail", major_id=major.pk)


@agent_required
@require_POST
def major_resolve(request: AuthedRequest, major_id: int) -> HttpResponse:
    major = _major(request, major_id)
    form = ResolveForm(request.POST, prefix="resolve")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        data = form.cleaned_data
        _run(
            request,
            lambda: services.resolve_major(
                major, by=request.user, message=data["message"], resolve_attached=data["resolve_attached"]
            ),
            _("The major incident has ended."),
        )
    return redirect("major:detail", major_id=major.pk)


@agent_required
@require_POST
def major_review(request: AuthedRequest, major_id: int) -> HttpResponse:
    major = _major(request, major_id)
    form = ReviewForm(request.POST, prefix="review")
    if not form.is_valid():
        messages.error(request, _("The page was out of date; here it is again."))
    else:
        data = dict(form.cleaned_data)
        version = data.pop("version")
        _run(
            request,
            lambda: services.save_review(major, by=request.user, version=version, **data),
            _("Review saved."),
        )
    return redirect("major:detail", major_id=major.pk)
