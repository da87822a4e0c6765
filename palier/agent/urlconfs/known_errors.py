"""Pages: filled by the known_errors work."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
