"""Mail intake administration (mailboxes, quarantine), mounted at /agent/mail/ as ``mail:``."""

from django.urls import path

from palier.agent.views import mail as views

urlpatterns = [
    path("", views.mailbox_list, name="mailboxes"),
    path("mailboxes/<int:mailbox_id>/", views.mailbox_edit, name="mailbox-edit"),
    path("mailboxes/<int:mailbox_id>/active/", views.mailbox_active, name="mailbox-active"),
    path("mailboxes/<int:mailbox_id>/test/", views.mailbox_test, name="mailbox-test"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/<int:pk>/retry/", views.retry, name="retry"),
]
