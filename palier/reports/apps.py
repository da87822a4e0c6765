from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Figures about the desk: dashboards' metrics, the reports API and exports. Reads only."""

    name = "palier.reports"
    label = "reports"
    verbose_name = _("Reports")
