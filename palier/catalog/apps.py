from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "palier.catalog"
    label = "catalog"
    verbose_name = _("Service catalog")

    def ready(self) -> None:
        from palier.catalog.services.fulfilment import on_ticket_change
        from palier.tickets import hooks

        hooks.register(changed=on_ticket_change)
