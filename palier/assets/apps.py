from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    """Assets and configuration items: types, locations, lifecycle, relationships, licences,
    inventory reports and the links between tickets and the things they touch."""

    name = "palier.assets"
    label = "assets"
    verbose_name = _("Assets")
