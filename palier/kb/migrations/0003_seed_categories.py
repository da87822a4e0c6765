"""A few starting knowledge-base categories (admins rename or add more)."""

from django.db import migrations

CATEGORIES = [
    ("accounts", "Accounts and passwords", "Comptes et mots de passe"),
    ("printing", "Printing", "Impression"),
    ("network", "Network and VPN", "Réseau et VPN"),
    ("email", "Email and calendar", "Messagerie et agenda"),
    ("software", "Software", "Logiciels"),
    ("hardware", "Computers and phones", "Ordinateurs et téléphones"),
]


def seed(apps, schema_editor):
    KbCategory = apps.get_model("kb", "KbCategory")
    for position, (slug, name_en, name_fr) in enumerate(CATEGORIES):
        KbCategory.objects.get_or_create(
            slug=slug, defaults={"name_en": name_en, "name_fr": name_fr, "position": position}
        )


def unseed(apps, schema_editor):
    apps.get_model("kb", "KbCategory").objects.filter(slug__in=[c[0] for c in CATEGORIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("kb", "0002_search_index")]
    operations = [migrations.RunPython(seed, unseed)]
