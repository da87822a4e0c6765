"""Portal pages of major incidents: the known outages."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
