"""Webhook subscriptions (administrators), mounted at /agent/webhooks/ as ``webhooks:``."""

from django.urls import path

from palier.agent.views import webhooks as views

urlpatterns = [
    path("", views.subscriptions, name="list"),
    path("<int:subscription_id>/", views.subscription_detail, name="detail"),
    path("<int:subscription_id>/enable/", views.subscription_enable, name="enable"),
    path("<int:subscription_id>/disable/", views.subscription_disable, name="disable"),
    path("<int:subscription_id>/secret/", views.subscription_rotate, name="rotate"),
    path("<int:subscription_id>/delete/", views.subscription_delete, name="delete"),
    path("<int:subscription_id>/deliveries/<uuid:delivery_id>/redeliver/", views.redeliver, name="redeliver"),
]
