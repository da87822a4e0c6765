from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "palier.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from palier.lib import schedule
        from palier.notifications.consumer import handle_events
        from palier.notifications.tasks import send_pending_emails_task
        from palier.tickets import stream

        stream.subscribe("notifications", handle_events)
        schedule.register("email-send-pending", seconds=30, enqueue=send_pending_emails_task.enqueue)
