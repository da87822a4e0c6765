"""The Teams bot's endpoint, mounted at /hooks/teams/ as ``teamsbot:`` (the outgoing webhook of
``palier/integrations/urls.py`` keeps /hooks/teams/<address>/)."""

from django.urls import path

from palier.teamsbot import views

urlpatterns = [
    path("<slug:slug>/messages", views.messages, name="messages"),
]
