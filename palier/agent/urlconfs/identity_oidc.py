"""OpenID Connect provider administration, mounted at /agent/identity/oidc/ as ``identity-oidc:``."""

from django.urls import path

from palier.agent.views import identity_oidc as views

urlpatterns = [
    path("", views.providers, name="list"),
    path("<int:provider_id>/", views.edit, name="edit"),
    path("<int:provider_id>/enabled/", views.enabled, name="enabled"),
    path("<int:provider_id>/delete/", views.delete, name="delete"),
    path("<int:provider_id>/test/", views.test, name="test"),
]
