"""Notification inbox and preferences, mounted at /notifications/ as ``notifications:`` next to the
outbox of ``palier/agent/urlconfs/notifications.py``."""

from django.urls import path

from palier.portal.views import notifications as views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.mark_read, name="read"),
    path("preferences/", views.preferences, name="preferences"),
]
