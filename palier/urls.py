from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("palier.portal.urls")),
    path("agent/", include("palier.agent.urls")),
    path("api/v1/", include("palier.api.urls")),
    path("accounts/", include("palier.people.urls")),
    path("django-admin/", admin.site.urls),
]
