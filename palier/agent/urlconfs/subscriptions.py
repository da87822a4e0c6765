"""Scheduled summaries and exports ("My subscriptions"), mounted at /agent/reports/ as ``reports:``."""

from django.urls import path

from palier.agent.views import subscriptions as views

urlpatterns = [
    path("subscriptions/", views.subscription_list, name="subscriptions"),
    path("subscriptions/<int:subscription_id>/active/", views.subscription_active, name="subscription-active"),
    path("subscriptions/<int:subscription_id>/delete/", views.subscription_delete, name="subscription-delete"),
]
