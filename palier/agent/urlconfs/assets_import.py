"""Import of assets, locations and licences, mounted at /agent/assets/import/ as ``assets_import:``."""

from django.urls import path

from palier.agent.views import assets_import as views

urlpatterns = [
    path("", views.upload, name="upload"),
    path("confirm/", views.confirm, name="confirm"),
]
