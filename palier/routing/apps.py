from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "palier.routing"
    label = "routing"
    verbose_name = _("Routing and escalation")

    def ready(self) -> None:
        from palier.routing.services.assignment import assign_in_group
        from palier.routing.services.placement import place_new_tickets
        from palier.tickets import hooks

        hooks.register(before_many=place_new_tickets, assign=assign_in_group)
