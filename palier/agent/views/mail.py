"""Admin pages of the mail intake (admins only, 404 for everyone else): mailboxes with their
health, create / edit / activate / deactivate, "test connection", and the quarantine (Retry).

Views parse a form, call one mail service and render; a refused form keeps what the admin typed
(never the password) and shows the service's message next to the field (status 400)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.mail import MailboxForm
from palier.agent.views._admin import form_page, save_form
from palier.lib.web import admin_required
from palier.mail import imap, mailboxes, selectors, services
from palier.mail.models import InboundMessage
from palier.people.http import AuthedRequest


@admin_required
def quarantine(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "agent/mail/quarantine.html",
        {"items": list(selectors.quarantine()), "mailboxes": list(selectors.mailboxes())},
    )


@admin_required
@require_POST
def retry(request: AuthedRequest, pk: int) -> HttpResponse:
    inbound = services.retry(pk, by=request.user)
    if inbound.state == InboundMessage.State.QUARANTINED:
        messages.error(request, _("The message is still quarantined: %(error)s") % {"error": inbound.error})
    else:
        messages.success(request, _("The message was processed."))
    return redirect("mail:quarantine")


@admin_required
def mailbox_list(request: AuthedRequest) -> HttpResponse:
    form = MailboxForm(request.POST or None)
    if created := save_form(request, form, mailboxes.create_mailbox):
        messages.success(request, _("“%(name)s” is created.") % {"name": created})
        return redirect("mail:mailbox-edit", created.pk)
    return form_page(
        request, "agent/mail/mailboxes.html", form, mailboxes=selectors.mailbox_page(request.GET.get("page"))
    )


@admin_required
def mailbox_edit(request: AuthedRequest, mailbox_id: int) -> HttpResponse:
    mailbox = selectors.get_mailbox(mailbox_id)
    form = MailboxForm(
        request.POST or None, initial=MailboxForm.initial_for(mailbox), stored=MailboxForm.stored_secrets(mailbox)
    )
    if save_form(request, form, mailboxes.update_mailbox, mailbox=mailbox):
        messages.success(request, _("“%(name)s” is saved.") % {"name": mailbox})
        return redirect("mail:mailbox-edit", mailbox.pk)
    if form.is_bound:  # the health and title show what is saved, not what was refused
        mailbox = selectors.get_mailbox(mailbox_id)
    return form_page(request, "agent/mail/mailbox_edit.html", form, mailbox=mailbox)


@admin_required
@require_POST
def mailbox_active(request: AuthedRequest, mailbox_id: int) -> HttpResponse:
    mailbox = selectors.get_mailbox(mailbox_id)
    active = request.POST.get("active") == "1"
    mailboxes.set_active(mailbox=mailbox, active=active, by=request.user)
    if active:
        messages.success(request, _("“%(name)s” is active again.") % {"name": mailbox})
    else:
        messages.success(request, _("“%(name)s” is deactivated: it is no longer read.") % {"name": mailbox})
    return redirect("mail:mailbox-edit", mailbox.pk)


@admin_required
@require_POST
def mailbox_test(request: AuthedRequest, mailbox_id: int) -> HttpResponse:
    """Try to sign in with the saved settings and say what happened (the health is not changed)."""
    mailbox = selectors.get_mailbox(mailbox_id)
    if not mailbox.uses_imap:
        messages.error(request, _("This mailbox has no IMAP host: it only receives through palier mailgate."))
    elif error := imap.check_connection(mailbox):
        messages.error(request, _("Connection failed: %(error)s") % {"error": error})
    else:
        messages.success(
            request, _("Connection works: signed in and opened %(folder)s.") % {"folder": mailbox.folder or "INBOX"}
        )
    return redirect("mail:mailbox-edit", mailbox.pk)
