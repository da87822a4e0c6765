from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Machinery every domain app may use and that knows none of them: the versioned process cache."""

    name = "palier.core"
    label = "core"
    verbose_name = _("Core")
