"""Webhook endpoints of the integrations (machine intake, not pages), mounted at /hooks/ as
``integrations:``; their administration pages are in ``palier/agent/urlconfs/integrations.py``."""

from django.urls import path

from palier.integrations.views import hooks

urlpatterns = [
    path("alerts/", hooks.alert_webhook, name="alerts"),
    path("slack/<slug:slug>/events/", hooks.slack_events, name="slack-events"),
    path("slack/<slug:slug>/command/", hooks.slack_command, name="slack-command"),
    path("slack/<slug:slug>/interactive/", hooks.slack_interactive, name="slack-interactive"),
    path("teams/<slug:slug>/", hooks.teams_webhook, name="teams"),
]
