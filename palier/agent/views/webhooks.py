"""Webhook subscription pages (administrators only; everyone else gets a 404): the list with the
creation form (the secret shown once), a subscription's settings and delivery log with its
attempts, redeliver, turn on and off, a new secret, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms import webhooks as f
from palier.lib.errors import DomainError
from palier.lib.web import admin_required, apply_errors
from palier.people.http import AuthedRequest
from palier.webhooks import kinds, selectors, services
from palier.webhooks.models import Delivery

PAGE = 50


@admin_required
def subscriptions(request: AuthedRequest) -> HttpResponse:
    form = f.NewSubscriptionForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.create_subscription(by=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            form = f.NewSubscriptionForm()
    context = {
        "form": form,
        "subscriptions": list(selectors.subscriptions(request.user).order_by("name", "pk")),
        "issued": issued,
        "labels": kinds.TYPES,
    }
    return render(request, "agent/webhooks/list.html", context, status=400 if form.errors else 200)


@admin_required
def subscription_detail(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    sub = selectors.subscription(request.user, subscription_id)
    initial = {"name": sub.name, "url": sub.url, "event_types": sub.event_types}
    form = f.SubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_subscription(sub, by=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The subscription is saved."))
            return redirect("webhooks:detail", sub.pk)
    state = request.GET.get("state", "")
    if state not in Delivery.State.values:
        state = ""
    qs = selectors.deliveries(request.user, sub, state=state).order_by("-pk")
    before = request.GET.get("before", "")
    if before.isdigit():
        qs = qs.filter(pk__lt=int(before))
    rows = list(qs[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    attempts = selectors.attempts_of(rows)
    context = {
        "sub": sub,
        "form": form,
        "deliveries": [(d, attempts[d.pk]) for d in rows],
        "next_before": rows[-1].pk if more else None,
        "state": state,
        "states": Delivery.State.choices,
        "labels": kinds.TYPES,
    }
    return render(request, "agent/webhooks/detail.html", context, status=400 if form.errors else 200)


@admin_required
@require_POST
def subscription_enable(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    sub = selectors.subscription(request.user, subscription_id)
    services.enable_subscription(sub, by=request.user)
    messages.success(request, _("The subscription is on; its waiting deliveries are sent now."))
    return redirect("webhooks:detail", sub.pk)


@admin_required
@require_POST
def subscription_disable(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    sub = selectors.subscription(request.user, subscription_id)
    services.update_subscription(sub, by=request.user, is_active=False)
    messages.success(request, _("The subscription is off; new events are not kept for it."))
    return redirect("webhooks:detail", sub.pk)


@admin_required
@require_POST
def subscription_rotate(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    sub = selectors.subscription(request.user, subscription_id)
    issued = services.rotate_secret(sub, by=request.user)
    return render(request, "agent/webhooks/secret.html", {"sub": issued.subscription, "secret": issued.secret})


@admin_required
@require_POST
def subscription_delete(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    sub = selectors.subscription(request.user, subscription_id)
    services.delete_subscription(sub, by=request.user)
    messages.success(request, _("The subscription %(name)s is deleted.") % {"name": sub.name})
    return redirect("webhooks:list")


@admin_required
@require_POST
def redeliver(request: AuthedRequest, subscription_id: int, delivery_id: str) -> HttpResponse:
    sub = selectors.subscription(request.user, subscription_id)
    delivery = selectors.delivery(request.user, sub, delivery_id)
    services.redeliver(delivery, by=request.user)
    messages.success(request, _("The delivery is sent again."))
    return redirect("webhooks:detail", sub.pk)
