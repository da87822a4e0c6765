from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "palier.surveys"
    label = "surveys"
    verbose_name = _("Satisfaction surveys")

    def ready(self) -> None:
        from palier.surveys.consumer import handle_events
        from palier.tickets import stream

        stream.subscribe("surveys", handle_events)
