"""Survey answer pages (signed links), mounted at /surveys/ as ``surveys:`` next to the agents' pages
of ``palier/agent/urlconfs/surveys.py``."""

from django.urls import path

from palier.portal.views import surveys as views

urlpatterns = [
    path("answer/<str:token>/", views.answer, name="answer"),
    path("answer/<str:token>/thanks/", views.thanks, name="thanks"),
]
