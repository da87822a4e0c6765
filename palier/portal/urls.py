from django.urls import path

from palier.portal.views import tickets as views

app_name = "portal"
urlpatterns = [
    path("portal/", views.home, name="home"),
    path("portal/new/", views.ticket_new, name="ticket-new"),
    path("portal/requests/", views.ticket_list, name="ticket-list"),
    path("portal/requests/<int:ticket_id>/", views.ticket_detail, name="ticket-detail"),
    path("portal/requests/<int:ticket_id>/reply/", views.ticket_reply, name="ticket-reply"),
    path("portal/requests/<int:ticket_id>/status/", views.ticket_transition, name="ticket-transition"),
    # one download URL for the portal and the agent workspace
    path("attachments/<int:attachment_id>/", views.attachment, name="attachment"),
]
