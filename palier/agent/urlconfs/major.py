"""Major-incident pages, mounted at /agent/major/ as ``major:``."""

from __future__ import annotations

from django.urls import URLPattern, path

from palier.agent.views import major as views

urlpatterns: list[URLPattern] = [
    path("", views.major_list, name="list"),
    path("declare/<int:ticket_id>/", views.major_declare, name="declare"),
    path("<int:major_id>/", views.major_detail, name="detail"),
    path("<int:major_id>/updates/", views.major_publish, name="publish"),
    path("<int:major_id>/attach/", views.major_attach, name="attach"),
    path("<int:major_id>/attached/<int:ticket_id>/detach/", views.major_detach, name="detach"),
    path("<int:major_id>/resolve/", views.major_resolve, name="resolve"),
    path("<int:major_id>/review/", views.major_review, name="review"),
]
