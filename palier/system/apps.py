from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemConfig(AppConfig):
    """Running Palier: the all-in-one launcher, the worker, the scheduler and housekeeping. No tables."""

    name = "palier.system"
    label = "system"
    verbose_name = _("System")
