"""The inventory endpoint, mounted at the root as ``inventory:`` (``palier/urls.py``): /inventory/,
and /inventory without the slash, the URL the GLPI Agent makes of a bare host name; its
administration pages are ``palier/agent/urlconfs/assets_inventory.py``."""

from django.urls import path

from palier.assets.inventory import views

urlpatterns = [
    path("inventory/", views.inventory_endpoint, name="intake"),
    path("inventory", views.inventory_endpoint, name="intake-bare"),
]
