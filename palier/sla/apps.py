from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "palier.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from palier.lib import schedule
        from palier.sla.services import engine
        from palier.sla.tasks import sla_sweep_task
        from palier.tickets import hooks

        hooks.register(
            before_many=engine.tickets_placed, opened_many=engine.tickets_opened, changed=engine.ticket_changed
        )
        schedule.register("sla-sweep", seconds=30, enqueue=sla_sweep_task.enqueue)
