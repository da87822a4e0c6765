"""The asset list's export, mounted at /agent/assets/export/ as ``assets_export:``."""

from django.urls import path

from palier.agent.views import assets_export as views

urlpatterns = [
    path("assets.csv", views.export_csv, name="csv"),
    path("assets.xlsx", views.export_xlsx, name="xlsx"),
]
