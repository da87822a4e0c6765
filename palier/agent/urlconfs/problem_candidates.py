"""Problem candidates, mounted at /agent/problems/candidates/ as ``problem_candidates:``."""

from __future__ import annotations

from django.urls import URLPattern, path

from palier.agent.views import problem_candidates as views

urlpatterns: list[URLPattern] = [
    path("", views.candidate_list, name="list"),
    path("create/", views.candidate_create, name="create"),
    path("settings/", views.candidate_settings, name="settings"),
]
