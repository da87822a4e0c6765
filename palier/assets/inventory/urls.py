"""The inventory endpoint, mounted at /inventory/ as ``inventory:`` (``palier/urls.py``); its
administration pages are ``palier/agent/urlconfs/assets_inventory.py``."""

from django.urls import path

from palier.assets.inventory import views

urlpatterns = [
    path("", views.inventory_endpoint, name="intake"),
]
