from django.urls import path

from palier.agent.views import admin, tickets

app_name = "agent"
urlpatterns = [
    path("", tickets.ticket_list, name="ticket-list"),
    path("tickets/<int:ticket_id>/", tickets.ticket_detail, name="ticket-detail"),
    path("tickets/<int:ticket_id>/reply/", tickets.ticket_reply, name="ticket-reply"),
    path("tickets/<int:ticket_id>/status/", tickets.ticket_status, name="ticket-status"),
    path("tickets/<int:ticket_id>/take/", tickets.ticket_take, name="ticket-take"),
    path("admin/", admin.index, name="admin"),
    path("admin/users/", admin.users, name="admin-users"),
    path("admin/organisations/", admin.organisations, name="admin-organisations"),
    path("admin/groups/", admin.groups, name="admin-groups"),
]
