from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    """Requests for change: templates, risk, the change advisory board's approvals, the change
    calendar with its conflicts and freezes, and the review after implementation."""

    name = "palier.changes"
    label = "changes"
    verbose_name = _("Changes")
