from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "palier.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from palier.lib import schedule
        from palier.sla.services import engine
        from palier.sla.tasks import sla_sweep_task
        from palier.tickets import hooks

        hooks.register(
            before_many=engine.tickets_placed, opened_many=engine.tickets_opened, changed=engine.ticket_changed
        )
        schedule.register("sla-sweep", seconds=30, enqueue=sla_sweep_task.enqueue)
        self._watch_policies()

    def _watch_policies(self) -> None:
        """Any saved or deleted policy or calendar (pages, API, Django admin, shell) invalidates
        the per-process cache of active policies in every process."""
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from palier.sla.models import Calendar, CalendarHoliday, SlaPolicy
        from palier.sla.services.policies import bump_policies

        def changed(**_kwargs: object) -> None:
            bump_policies()

        for model in (SlaPolicy, Calendar, CalendarHoliday):
            post_save.connect(changed, sender=model, dispatch_uid=f"sla-bump-save-{model.__name__}", weak=False)
            post_delete.connect(changed, sender=model, dispatch_uid=f"sla-bump-delete-{model.__name__}", weak=False)
        for through in (SlaPolicy.categories.through, SlaPolicy.organisations.through):
            m2m_changed.connect(changed, sender=through, dispatch_uid=f"sla-bump-{through.__name__}", weak=False)
