"""Pages of the sla app (administration)."""

from django.urls import URLPattern

app_name = "sla"
urlpatterns: list[URLPattern] = []
