from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorklistConfig(AppConfig):
    """Tasks on any ticket (a checklist with assignees, groups and due dates), task templates, and
    the replies and reminders an agent schedules on a ticket."""

    name = "palier.worklist"
    label = "worklist"
    verbose_name = _("Tasks and follow-ups")
