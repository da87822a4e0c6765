"""The change calendar, mounted at /agent/changes/calendar/ as ``change_calendar:``: month, week
and list views, the iCalendar feeds (signed links, no session), and the administration of freeze
windows and of the services' maintenance windows."""

from __future__ import annotations

from django.urls import path

from palier.agent.views import change_calendar as views

urlpatterns = [
    path("", views.month, name="month"),
    path("week/", views.week, name="week"),
    path("list/", views.change_list, name="list"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
    path("feed/regenerate/", views.feed_regenerate, name="feed-regenerate"),
    path("freezes/", views.freeze_list, name="freezes"),
    path("freezes/<int:freeze_id>/", views.freeze_edit, name="freeze-edit"),
    path("freezes/<int:freeze_id>/delete/", views.freeze_delete, name="freeze-delete"),
    path("maintenance/", views.maintenance, name="maintenance"),
    path("maintenance/<int:service_id>/", views.maintenance_service, name="maintenance-service"),
    path("maintenance/<int:service_id>/<int:window_id>/delete/", views.maintenance_delete, name="maintenance-delete"),
]
