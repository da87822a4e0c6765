from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemConfig(AppConfig):
    """Running Palier: the all-in-one launcher, the worker, the scheduler and housekeeping. No tables."""

    name = "palier.system"
    label = "system"
    verbose_name = _("System")

    def ready(self) -> None:
        from palier.lib import schedule
        from palier.system.tasks import housekeeping_task

        schedule.register("housekeeping", seconds=6 * 3600, enqueue=housekeeping_task.enqueue)
