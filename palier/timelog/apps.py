from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TimelogConfig(AppConfig):
    """Time logged on tickets and the hourly cost rates the cost of support is computed with."""

    name = "palier.timelog"
    label = "timelog"
    verbose_name = _("Time and cost")
