"""The two steps every administration form page shares: save a posted form through one service, and
render the page with the form (status 400 when a posted form is shown again with its errors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render

from palier.lib.errors import DomainError
from palier.lib.web import apply_errors
from palier.people.http import AuthedRequest


def save_form(request: AuthedRequest, form: forms.Form, write: Callable[..., Any], **extra: Any) -> Any:
    """Run ``write(**data, **extra, by=request.user)`` for a valid posted form.

    ``data`` is the form's ``to_service()`` when it reshapes its fields for the service, else its
    ``cleaned_data``. Returns what the service returned, or None (the errors are then on the form
    and nothing changed).
    """
    if request.method != "POST" or not form.is_valid():
        return None
    to_service = getattr(form, "to_service", None)
    data = to_service() if to_service is not None else form.cleaned_data
    try:
        return write(**data, **extra, by=request.user)
    except (ValidationError, DomainError) as exc:
        apply_errors(form, exc)
        return None


def form_page(request: AuthedRequest, template: str, form: forms.Form, **context: Any) -> HttpResponse:
    """The page with its form; 400 when the form was posted (and so refused)."""
    return render(request, template, {"form": form, **context}, status=400 if form.is_bound else 200)
