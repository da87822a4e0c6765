from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "palier.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from palier.lib import schedule
        from palier.tickets.tasks import close_resolved_tickets_task, pump_stream_task

        schedule.register("close-resolved-tickets", seconds=900, enqueue=close_resolved_tickets_task.enqueue)
        # safety net: commits queue a pump themselves; this catches up after a queue outage or a gap
        schedule.register("event-stream", seconds=10, enqueue=pump_stream_task.enqueue)
        post_migrate.connect(_ensure_cursors, sender=self)


def _ensure_cursors(**kwargs: object) -> None:
    from palier.tickets import stream

    if kwargs.get("using", "default") == "default":
        stream.ensure_cursors()
