"""Pages: filled by the major work."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
