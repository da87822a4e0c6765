from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The audit log of security and administration events: append-only, below every domain app
    (any of them records into it), knowing none of them."""

    name = "palier.audit"
    label = "audit"
    verbose_name = _("Audit log")
