"""Every desk starts with an L1 triage group so that no new ticket is left without a group."""

from django.db import migrations


def seed(apps, schema_editor):
    SupportGroup = apps.get_model("people", "SupportGroup")
    if not SupportGroup.objects.filter(is_triage=True).exists():
        SupportGroup.objects.get_or_create(name="Service desk", defaults={"level": 1, "is_triage": True})


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
