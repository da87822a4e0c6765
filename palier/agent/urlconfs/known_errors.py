"""The known-error base, mounted at /agent/problems/known-errors/ as ``known_errors:``."""

from __future__ import annotations

from django.urls import URLPattern, path

from palier.agent.views import known_errors as views

urlpatterns: list[URLPattern] = [
    path("", views.known_error_list, name="list"),
    path("apply/<int:ticket_id>/<int:problem_id>/", views.apply_workaround, name="apply"),
]
