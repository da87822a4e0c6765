"""Integrations administration (alert sources, chat apps, chat identities), mounted at /hooks/admin/
as ``integrations:`` next to the webhooks of ``palier/integrations/urls.py``."""

from django.urls import path

from palier.agent.views import integrations as views

urlpatterns = [
    path("admin/", views.alert_sources, name="admin-alerts"),
    path("admin/sources/<int:source_id>/revoke/", views.alert_source_revoke, name="admin-alert-revoke"),
    path("admin/chat/", views.chat_apps, name="admin-chat"),
    path("admin/chat/<int:app_id>/toggle/", views.chat_app_toggle, name="admin-chat-toggle"),
    path("admin/chat/<int:app_id>/teams-package/", views.teams_package, name="admin-teams-package"),
    path("admin/identities/", views.identities, name="admin-identities"),
    path("admin/identities/<int:identity_id>/delete/", views.identity_delete, name="admin-identity-delete"),
]
