"""The audit log page and its CSV export (administrators), mounted at /agent/audit/ as ``audit:``."""

from django.urls import path

from palier.agent.views import audit as views

urlpatterns = [
    path("", views.audit_log, name="log"),
    path("export.csv", views.audit_export, name="export"),
]
