from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data behind ``palier demo``: people, tickets with conversations, and each domain's demo
    setup. It depends on every other app and nothing depends on it; no tables."""

    name = "palier.demo"
    label = "demo"
    verbose_name = _("Demo data")
