from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProblemsConfig(AppConfig):
    """Problems and known errors (the causes behind incidents) and major incidents (one outage,
    many reports, one voice to the people affected)."""

    name = "palier.problems"
    label = "problems"
    verbose_name = _("Problems")
