"""The operations endpoints, mounted at the root (``palier/urls.py``)."""

from django.urls import path

from palier.ops import views

app_name = "ops"

urlpatterns = [
    path("health", views.health, name="health"),
    path("ready", views.ready, name="ready"),
    path("metrics", views.metrics, name="metrics"),
]
