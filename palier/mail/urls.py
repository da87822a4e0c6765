from django.urls import path

from palier.mail import views

app_name = "mail"

urlpatterns = [
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/<int:pk>/retry/", views.retry, name="retry"),
]
