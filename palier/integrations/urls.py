"""Webhook endpoints (mounted at /hooks/) and the integrations administration pages."""

from django.urls import path

from palier.integrations.views import admin, hooks

app_name = "integrations"
urlpatterns = [
    path("alerts/", hooks.alert_webhook, name="alerts"),
    path("slack/<slug:slug>/events/", hooks.slack_events, name="slack-events"),
    path("slack/<slug:slug>/command/", hooks.slack_command, name="slack-command"),
    path("teams/<slug:slug>/", hooks.teams_webhook, name="teams"),
    path("admin/", admin.alert_sources, name="admin-alerts"),
    path("admin/sources/<int:source_id>/revoke/", admin.alert_source_revoke, name="admin-alert-revoke"),
    path("admin/chat/", admin.chat_apps, name="admin-chat"),
    path("admin/chat/<int:app_id>/toggle/", admin.chat_app_toggle, name="admin-chat-toggle"),
    path("admin/identities/", admin.identities, name="admin-identities"),
    path("admin/identities/<int:identity_id>/delete/", admin.identity_delete, name="admin-identity-delete"),
]
