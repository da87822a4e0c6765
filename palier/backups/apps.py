from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    """``palier backup`` and ``palier restore``: one verified archive of the database and the files."""

    name = "palier.backups"
    label = "backups"
    verbose_name = _("Backups")

    def ready(self) -> None:
        from palier.backups import checks  # noqa: F401 (registers the deployment check)
