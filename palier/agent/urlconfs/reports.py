"""Dashboard pages, mounted at /agent/reports/ as ``reports:``."""

from django.urls import URLPattern, path

from palier.agent.views import reports as views

urlpatterns: list[URLPattern] = [
    path("", views.team, name="team"),
    path("me/", views.personal, name="personal"),
    path("charts.css", views.charts_css, name="charts-css"),
]
