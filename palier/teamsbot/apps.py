from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamsBotConfig(AppConfig):
    name = "palier.teamsbot"
    label = "teamsbot"
    verbose_name = _("Microsoft Teams bot")
