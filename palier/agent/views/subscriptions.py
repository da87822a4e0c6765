"""Scheduled summaries and exports, mounted at /agent/reports/subscriptions/: the list with the
form to add one, pause or resume, and removal. Managers and administrators only (404 otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.subscriptions import SubscriptionForm
from palier.lib.errors import DomainError
from palier.lib.web import agent_required, apply_errors
from palier.people.http import AuthedRequest
from palier.reports import permissions, services
from palier.reports import subscriptions as selectors


def _subscriber_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not permissions.can_subscribe(request.user, "subscribe_summary"):
            raise Http404("page")
        return view(request, *args, **kwargs)

    return wrapper


def _create(form: SubscriptionForm, request: AuthedRequest) -> bool:
    if not form.is_valid():
        return False
    try:
        services.subscribe(by=request.user, **form.subscription())
    except (ValidationError, DomainError) as exc:
        apply_errors(form, exc)
        return False
    return True


@agent_required
@_subscriber_required
def subscription_list(request: AuthedRequest) -> HttpResponse:
    can_export = permissions.can_subscribe(request.user, "subscribe_export")
    choices = selectors.filter_choices(request.user)
    form = SubscriptionForm(request.POST or None, choices=choices, can_export=can_export)
    if request.method == "POST" and _create(form, request):
        messages.success(request, _("Subscription added."))
        return redirect("reports:subscriptions")
    context = {"rows": selectors.subscription_rows(request.user), "form": form, "can_export": can_export}
    return render(request, "agent/reports/subscriptions.html", context, status=400 if form.errors else 200)


@agent_required
@_subscriber_required
@require_POST
def subscription_active(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    subscription = selectors.get_subscription_for(request.user, subscription_id)
    active = request.POST.get("active") == "1"
    try:
        services.change_subscription(subscription, by=request.user, is_active=active)
    except (ValidationError, DomainError) as exc:
        text = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
        messages.error(request, text)
    else:
        messages.success(request, _("Subscription resumed.") if active else _("Subscription paused."))
    return redirect("reports:subscriptions")


@agent_required
@_subscriber_required
@require_POST
def subscription_delete(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    subscription = selectors.get_subscription_for(request.user, subscription_id)
    services.unsubscribe(subscription, by=request.user)
    messages.success(request, _("Subscription removed."))
    return redirect("reports:subscriptions")
