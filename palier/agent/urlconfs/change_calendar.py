"""Pages: filled by the change_calendar work."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
