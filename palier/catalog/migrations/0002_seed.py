"""The starter catalog: install software, new hardware, access, onboarding, password reset."""

from django.db import migrations


def seed(apps, schema_editor):
    from palier.catalog.seed import seed as run

    run(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial"), ("people", "0002_triage_group")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
