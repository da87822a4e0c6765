"""Seed the category tree of capability 1 (French and English) and the ITIL priority matrix."""

from django.db import migrations

# (slug, English, French, [(slug, English, French), ...])
CATEGORIES = [
    ("hardware", "Hardware", "Matériel", [
        ("hardware-computer", "Laptops and desktops", "Ordinateurs portables et fixes"),
        ("hardware-printer", "Printers and scanners", "Imprimantes et scanners"),
        ("hardware-peripheral", "Screens and peripherals", "Écrans et périphériques"),
    ]),
    ("software", "Software", "Logiciels", [
        ("software-install", "Software installation", "Installation de logiciel"),
        ("software-licence", "Licences", "Licences"),
        ("software-fault", "Software fault", "Dysfonctionnement logiciel"),
    ]),
    ("network", "Network equipment", "Équipements réseau", [
        ("network-wifi", "Wi-Fi", "Wi-Fi"),
        ("network-vpn", "VPN and remote access", "VPN et accès distant"),
        ("network-switch", "Switches, routers and firewalls", "Commutateurs, routeurs et pare-feu"),
    ]),
    ("telephony", "Telephony", "Téléphonie", [
        ("telephony-mobile", "Mobile phones", "Téléphones mobiles"),
        ("telephony-desk", "Desk phones and softphones", "Téléphones fixes et logiciels"),
    ]),
    ("applications", "Applications", "Applications", [
        ("applications-email", "Email and calendar", "Messagerie et agenda"),
        ("applications-business", "Business applications", "Applications métier"),
        ("applications-collab", "Collaboration tools", "Outils collaboratifs"),
    ]),
    ("accounts", "User accounts and access", "Comptes utilisateurs et accès", [
        ("accounts-password", "Password reset", "Réinitialisation de mot de passe"),
        ("accounts-access", "Access request", "Demande d'accès"),
        ("accounts-new", "New account", "Nouveau compte"),
    ]),
    ("maintenance", "Computer maintenance", "Maintenance informatique", [
        ("maintenance-update", "Updates and patches", "Mises à jour et correctifs"),
        ("maintenance-performance", "Slowness and performance", "Lenteurs et performances"),
    ]),
    ("servers", "Servers", "Serveurs", [
        ("servers-outage", "Server outage", "Panne de serveur"),
        ("servers-os", "Operating system", "Système d'exploitation"),
    ]),
    ("databases", "Databases", "Bases de données", []),
    ("security", "Security", "Sécurité", [
        ("security-spam", "Spam and phishing", "Spam et hameçonnage"),
        ("security-antivirus", "Antivirus", "Antivirus"),
        ("security-incident", "Security incident", "Incident de sécurité"),
    ]),
    ("cabling", "Cabling", "Câblage", []),
    ("backups", "Backups and continuity", "Sauvegardes et continuité", [
        ("backups-restore", "File restore", "Restauration de fichiers"),
    ]),
    ("cloud", "Hosting and cloud", "Hébergement et cloud", []),
]

MATRIX = {
    ("high", "high"): 1, ("high", "medium"): 2, ("medium", "high"): 2,
    ("high", "low"): 3, ("medium", "medium"): 3, ("low", "high"): 3,
    ("medium", "low"): 4, ("low", "medium"): 4, ("low", "low"): 4,
}


def seed(apps, schema_editor):
    Category = apps.get_model("tickets", "Category")
    PriorityRule = apps.get_model("tickets", "PriorityRule")
    for position, (slug, en, fr, children) in enumerate(CATEGORIES):
        parent, _ = Category.objects.get_or_create(
            slug=slug, defaults={"name_en": en, "name_fr": fr, "position": position}
        )
        for child_position, (child_slug, child_en, child_fr) in enumerate(children):
            Category.objects.get_or_create(
                slug=child_slug,
                defaults={"name_en": child_en, "name_fr": child_fr, "parent": parent, "position": child_position},
            )
    for (impact, urgency), priority in MATRIX.items():
        PriorityRule.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_search_and_numbers")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
