from django.urls import path

app_name = "macros"

urlpatterns: list[object] = []
