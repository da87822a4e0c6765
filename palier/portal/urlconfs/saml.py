"""SAML single sign-on pages, mounted under the ``saml`` namespace with the admin pages."""

from django.urls import path

from palier.portal.views import saml as views

urlpatterns = [
    path("accounts/saml/<slug:slug>/login/", views.login, name="login"),
    path("accounts/saml/<slug:slug>/acs/", views.acs, name="acs"),
    path("accounts/saml/<slug:slug>/metadata/", views.metadata, name="metadata"),
    path("accounts/saml/<slug:slug>/logout/", views.logout, name="logout"),
    path("accounts/saml/<slug:slug>/sls/", views.sls, name="sls"),
]
