"""Sign-in and identity administration (admins only; everyone else gets a 404): the landing page
with the sign-in policy and every identity provider, and a person's password and sessions from
their user page (set a password, send a reset link, sign out everywhere)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.identity import AdminPasswordForm, PolicyForm
from palier.agent.views._admin import form_page, save_form
from palier.identity import passwords, policy
from palier.identity import selectors as identity_selectors
from palier.identity.models import Provider
from palier.lib.errors import DomainError
from palier.lib.web import admin_required
from palier.people import selectors, sessions
from palier.people.http import AuthedRequest

KINDS = [(kind.value, kind.label) for kind in Provider.Kind]


@admin_required
def index(request: AuthedRequest) -> HttpResponse:
    rules = policy.current()
    off = [organisation for organisation in selectors.organisations_by_name() if not organisation.password_sign_in]
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_from(rules, off))
    if save_form(request, form, passwords.update_policy):
        messages.success(request, _("The sign-in policy is saved."))
        return redirect("identity:index")
    providers = list(identity_selectors.all_providers())
    kinds = [
        {
            "kind": kind,
            "label": label,
            "url": f"/agent/identity/{kind}/",
            "providers": [p for p in providers if p.kind == kind],
        }
        for kind, label in KINDS
    ]
    return form_page(request, "agent/identity/index.html", form, kinds=kinds)


def _errors(request: AuthedRequest, exc: ValidationError | DomainError) -> None:
    texts = [exc.message] if isinstance(exc, DomainError) else exc.messages
    for text in texts:
        messages.error(request, text)


@admin_required
@require_POST
def user_password(request: AuthedRequest, user_id: int) -> HttpResponse:
    """Set a person's password (the validators apply; the password is never shown again)."""
    person = selectors.get_user_for_admin(user_id)
    form = AdminPasswordForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Type the new password."))
        return redirect("agent:admin-user-edit", person.pk)
    try:
        passwords.set_password(person, password=form.cleaned_data["password"], by=request.user)
    except (ValidationError, DomainError) as exc:
        _errors(request, exc)
    else:
        messages.success(
            request, _("The password of “%(name)s” is set; their sessions are signed out.") % {"name": person}
        )
    return redirect("agent:admin-user-edit", person.pk)


@admin_required
@require_POST
def user_reset_link(request: AuthedRequest, user_id: int) -> HttpResponse:
    person = selectors.get_user_for_admin(user_id)
    try:
        passwords.send_reset_link(person, by=request.user)
    except (ValidationError, DomainError) as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("A reset link is on its way to %(email)s.") % {"email": person.email})
    return redirect("agent:admin-user-edit", person.pk)


@admin_required
@require_POST
def user_sign_out(request: AuthedRequest, user_id: int) -> HttpResponse:
    person = selectors.get_user_for_admin(user_id)
    keep = request.session.session_key if person.pk == request.user.pk else None
    ended = sessions.end_sessions(person, by=request.user, keep=keep, reason="auth.sessions_ended")
    messages.success(
        request, _("“%(name)s” is signed out everywhere (%(count)d sessions).") % {"name": person, "count": ended}
    )
    return redirect("agent:admin-user-edit", person.pk)
