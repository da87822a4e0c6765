from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "palier.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from palier.lib import schedule
        from palier.tickets.tasks import close_resolved_tickets_task

        schedule.register("close-resolved-tickets", seconds=900, enqueue=close_resolved_tickets_task.enqueue)
