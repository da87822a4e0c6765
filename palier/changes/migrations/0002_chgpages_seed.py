from django.db import migrations


def seed(apps, schema_editor):
    from palier.changes.seed import seed as write

    write(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("changes", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
