from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PalierConfig(AppConfig):
    """The project itself, last in INSTALLED_APPS: it wires the apps together. No tables.

    Its ``ready()`` is the one place that registers what ``palier/events.py`` lists (the ticket
    hooks, the stream consumers, the periodic jobs and the providers); every app's models are
    loaded before any ``ready()`` runs. As an app it also contributes the shared templates
    (``palier/templates``), static files (``palier/static``) and catalogs (``palier/locale``).
    """

    name = "palier"
    label = "palier"
    verbose_name = _("Palier")

    def ready(self) -> None:
        from palier import events

        events.wire()
