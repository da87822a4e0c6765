"""Asset pages, mounted at /agent/assets/ as ``assets:``."""

from django.urls import path

from palier.agent.views import assets as views

urlpatterns = [
    path("", views.asset_list, name="list"),
    path("<int:asset_id>/", views.asset_detail, name="detail"),
]
