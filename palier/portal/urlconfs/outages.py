"""Portal pages of major incidents: the known outages, mounted at /outages/ as ``outages:``."""

from __future__ import annotations

from django.urls import URLPattern, path

from palier.portal.views import outages as views

urlpatterns: list[URLPattern] = [
    path("match/", views.match, name="match"),
    path("<int:major_id>/", views.detail, name="detail"),
    path("<int:major_id>/affected/", views.affected, name="affected"),
    path("<int:major_id>/subscribe/", views.subscribe, name="subscribe"),
    path("<int:major_id>/unsubscribe/", views.unsubscribe, name="unsubscribe"),
]
