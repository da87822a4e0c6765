from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataExportConfig(AppConfig):
    """``palier export-data``: every ticket of the desk, or of one organisation, in an open format."""

    name = "palier.dataexport"
    label = "dataexport"
    verbose_name = _("Data export")
