from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "palier.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        # not a domain reaction: the stream consumers of palier/events.py get their cursors
        post_migrate.connect(_ensure_cursors, sender=self)


def _ensure_cursors(**kwargs: object) -> None:
    from palier.tickets import stream

    if kwargs.get("using", "default") == "default":
        stream.ensure_cursors()
