"""``AutomationState`` goes: the rules' cache token now lives in ``core.CacheVersion`` (created on
the first rule change), and SLA warnings and breaches are ticket events read through the
``automation`` stream cursor (``sla/0004_fired_in_ticket_history`` read ``sla_position`` to tell
which of the old ones automation had already handled), so neither ``sla_position`` nor
``RuleRun.sla_event_id`` (the id of an ``SlaEvent`` row that no longer exists) is needed."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('automation', '0002_seed'),
        ('core', '0001_cache_version'),
        ('sla', '0004_fired_in_ticket_history'),
        ('tickets', '0010_event_once_key'),
    ]

    operations = [
        migrations.DeleteModel(
            name='AutomationState',
        ),
        migrations.RemoveConstraint(
            model_name='rulerun',
            name='automation_run_sla_once',
        ),
        migrations.RemoveField(
            model_name='rulerun',
            name='sla_event_id',
        ),
    ]
