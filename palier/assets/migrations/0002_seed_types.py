from django.db import migrations


def seed(apps, schema_editor):
    from palier.assets.seed import STARTER_TYPES

    AssetType = apps.get_model("assets", "AssetType")
    for position, (slug, fr, en, family, inventoried, fields) in enumerate(STARTER_TYPES):
        AssetType.objects.get_or_create(
            slug=slug,
            defaults={
                "name_fr": fr,
                "name_en": en,
                "family": family,
                "inventoried": inventoried,
                "fields": fields,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("assets", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
