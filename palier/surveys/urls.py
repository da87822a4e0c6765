from django.urls import path

app_name = "surveys"

urlpatterns: list[object] = []
