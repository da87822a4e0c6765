"""The Teams account confirmation page, mounted at /teams/ as ``teams:``."""

from django.urls import path

from palier.portal.views import teams as views

urlpatterns = [
    path("link/<str:token>/", views.link, name="link"),
]
