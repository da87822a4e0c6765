"""Licences and warnings, mounted at /agent/assets/licences/ as ``assets_licences:``."""

from django.urls import path

from palier.agent.views import assets_licences as views

urlpatterns = [
    path("", views.licence_overview, name="overview"),
    path("compliance.csv", views.compliance_export, name="compliance-csv"),
    path("<int:asset_id>/", views.licence_detail, name="detail"),
    path("<int:asset_id>/seats/<int:seat_id>/release/", views.release_seat, name="release-seat"),
    path("<int:asset_id>/key/", views.reveal_key, name="reveal-key"),
]
