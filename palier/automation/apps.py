from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "palier.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from palier.automation.services import engine
        from palier.automation.tasks import automation_tick_task
        from palier.lib import schedule
        from palier.tickets import stream

        stream.subscribe("automation", engine.consume)
        schedule.register("automation", seconds=60, enqueue=automation_tick_task.enqueue)
