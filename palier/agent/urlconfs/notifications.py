"""The outgoing email outbox, mounted at /notifications/outbox/ as ``notifications:``."""

from django.urls import path

from palier.agent.views import notifications as views

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:outgoing_id>/retry/", views.outbox_retry, name="outbox-retry"),
]
