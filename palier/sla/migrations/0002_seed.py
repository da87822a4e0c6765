"""A default business-hours calendar (Mon-Fri 09:00-18:00 Paris, French public holidays), a 24/7
calendar, and P1-P4 policies, so a fresh desk measures its tickets from the first one."""

from django.db import migrations

from palier.sla.seed import seed


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
