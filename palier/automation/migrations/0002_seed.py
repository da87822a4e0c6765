"""Three starter rules: remind the requester after 3 business days pending, close 7 days after
resolution, tell the group's manager when a P1 opens. (The automation user they act as is created
on first use by ``services.rules.robot``.)"""

import secrets

from django.db import migrations

RULES = [
    {
        "name": "Relancer le demandeur après 3 jours en attente / Remind the requester after 3 days pending",
        "trigger": "timer",
        "wait_status": "pending_requester",
        "wait_hours": 72,
        "wait_business": True,
        "conditions": {"all": [], "any": []},
        "actions": [{"type": "email", "to": "requester", "template": "reminder"}],
    },
    {
        "name": "Clore 7 jours après la résolution / Close 7 days after resolution",
        "trigger": "timer",
        "wait_status": "resolved",
        "wait_hours": 168,
        "wait_business": False,
        "conditions": {"all": [], "any": []},
        "actions": [{"type": "close"}],
    },
    {
        "name": "Prévenir le responsable du groupe d'un P1 / Tell the group's manager about a P1",
        "trigger": "created",
        "wait_status": "",
        "wait_hours": None,
        "wait_business": True,
        "conditions": {"all": [{"field": "priority", "op": "is", "value": 1}], "any": []},
        "actions": [{"type": "email", "to": "manager", "template": "p1_opened"}],
    },
]


def seed(apps, schema_editor):
    Rule = apps.get_model("automation", "Rule")
    if "automationstate" in apps.get_app_config("automation").models:  # gone since 0003 (a test seeds later models)
        AutomationState = apps.get_model("automation", "AutomationState")
        SlaEvent = apps.get_model("sla", "SlaEvent")
        # SLA rules react to warnings and breaches fired from now on, not to the desk's history
        last = SlaEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        AutomationState.objects.get_or_create(pk=1, defaults={"sla_position": last})
    if Rule.objects.exists():
        return
    for position, fields in enumerate(RULES):
        Rule.objects.create(position=position, is_active=True, secret=secrets.token_hex(24), **fields)


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_initial"), ("people", "0004_assignment"), ("sla", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
