"""Inventory administration (tokens, received reports), mounted at /agent/assets/inventory/ as
``assets_inventory:``; the agents' endpoint is ``palier/assets/inventory/urls.py`` (/inventory/)."""

from django.urls import path

from palier.agent.views import assets_inventory as views

urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:report_id>/raw/", views.report_raw, name="report-raw"),
]
