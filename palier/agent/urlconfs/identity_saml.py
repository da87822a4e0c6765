"""Administration of the SAML identity providers, mounted under the ``saml`` namespace."""

from django.urls import path

from palier.agent.views import identity_saml as views

urlpatterns = [
    path("agent/identity/saml/", views.providers, name="admin-providers"),
    path("agent/identity/saml/<int:provider_id>/", views.edit, name="admin-edit"),
    path("agent/identity/saml/<int:provider_id>/test/", views.test, name="admin-test"),
    path("agent/identity/saml/<int:provider_id>/toggle/", views.toggle, name="admin-toggle"),
    path("agent/identity/saml/<int:provider_id>/delete/", views.delete, name="admin-delete"),
]
