from django.urls import path

app_name = "automation"

urlpatterns: list[object] = []
