"""Problem pages, mounted at /agent/problems/ as ``problems:``."""

from __future__ import annotations

from django.urls import URLPattern, path

from palier.agent.views import problems as views

urlpatterns: list[URLPattern] = [
    path("", views.problem_list, name="list"),
    path("new/", views.problem_new, name="new"),
    path("link-tickets/", views.link_tickets, name="link-tickets"),
    path("from-tickets/", views.from_tickets, name="from-tickets"),
    path("<int:problem_id>/", views.problem_detail, name="detail"),
    path("<int:problem_id>/edit/", views.problem_edit, name="edit"),
    path("<int:problem_id>/status/", views.problem_status, name="status"),
    path("<int:problem_id>/resolve/", views.problem_resolve, name="resolve"),
    path("<int:problem_id>/comment/", views.problem_comment, name="comment"),
    path("<int:problem_id>/watch/", views.problem_watch, name="watch"),
    path("<int:problem_id>/files/", views.file_upload, name="file-upload"),
    path("<int:problem_id>/files/<int:file_id>/", views.file_download, name="file"),
    path("<int:problem_id>/incidents/", views.incidents_link, name="incidents-link"),
    path("<int:problem_id>/incidents/<int:ticket_id>/remove/", views.incident_unlink, name="incident-unlink"),
    path("<int:problem_id>/assets/", views.asset_link, name="asset-link"),
    path("<int:problem_id>/assets/<int:asset_id>/remove/", views.asset_unlink, name="asset-unlink"),
    path("<int:problem_id>/articles/", views.article_link, name="article-link"),
]
