from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemConfig(AppConfig):
    """Running Palier: the all-in-one launcher, the worker, the scheduler and housekeeping. No tables."""

    name = "palier.system"
    label = "system"
    verbose_name = _("System")

    def ready(self) -> None:
        # the one place that registers what palier/events.py lists: the ticket hooks, the stream
        # consumers and the periodic jobs (every app's models are loaded before any ready() runs)
        from palier import events

        events.wire()
