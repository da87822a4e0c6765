"""OpenID Connect sign-in, mounted at /accounts/oidc/ as ``oidc:``."""

from django.urls import path

from palier.portal.views import oidc as views

urlpatterns = [
    path("<slug:slug>/login/", views.sign_in, name="login"),
    path("<slug:slug>/callback/", views.callback, name="callback"),
]
