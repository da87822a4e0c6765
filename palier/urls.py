from django.contrib import admin
from django.urls import include, path

from palier.people.views import home

urlpatterns = [
    path("", home, name="home"),
    path("", include("palier.portal.urls")),
    path("kb/", include("palier.kb.urls")),
    path("agent/routing/", include("palier.routing.urls")),
    path("agent/sla/", include("palier.sla.urls")),
    path("hooks/", include("palier.integrations.urls")),
    path("agent/mail/", include("palier.mail.urls")),
    path("catalog/", include("palier.catalog.urls")),
    path("agent/automation/", include("palier.automation.urls")),
    path("agent/macros/", include("palier.macros.urls")),
    path("surveys/", include("palier.surveys.urls")),
    path("notifications/", include("palier.notifications.urls")),
    path("agent/", include("palier.agent.urls")),
    path("api/v1/", include("palier.api.urls")),
    path("accounts/", include("palier.people.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
]
