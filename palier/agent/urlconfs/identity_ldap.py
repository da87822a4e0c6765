"""LDAP / Active Directory administration, mounted at /agent/identity/ldap/ as ``identity_ldap:``."""

from django.urls import path

from palier.agent.views import identity_ldap as views

urlpatterns = [
    path("", views.provider_list, name="list"),
    path("<int:provider_id>/", views.provider_edit, name="edit"),
    path("<int:provider_id>/enabled/", views.provider_enabled, name="enabled"),
    path("<int:provider_id>/delete/", views.provider_delete, name="delete"),
    path("<int:provider_id>/test/", views.provider_test, name="test"),
    path("<int:provider_id>/sync/", views.provider_sync, name="sync"),
]
