from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "palier.mail"
    label = "mail"
    verbose_name = _("Email")

    def ready(self) -> None:
        from palier.lib import schedule
        from palier.mail import tasks

        schedule.register("mail-poll", seconds=15, enqueue=tasks.poll_mailboxes_task.enqueue)
        schedule.register("mail-process-pending", seconds=300, enqueue=tasks.process_pending_task.enqueue)
