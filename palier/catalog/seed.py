"""The starter catalog (French and English), seeded by migration ``0002_seed`` and safe to run
again: an item that already exists (by its short name) is left as the admins changed it.
Works with historical models. Fulfilment groups are found by name (e.g. "Identity"), else the
triage group."""

from __future__ import annotations

from typing import Any

# (fr, en)
CATEGORIES = {
    "software": ("Logiciels", "Software", 1),
    "hardware": ("Matériel", "Hardware", 2),
    "access": ("Accès", "Access", 3),
    "people": ("Arrivées", "Onboarding", 4),
    "accounts": ("Comptes", "Accounts", 5),
}

F = dict[str, Any]


def _f(key: str, kind: str, fr: str, en: str, *, required: bool = False, **extra: Any) -> F:
    return {"key": key, "kind": kind, "label_fr": fr, "label_en": en, "required": required, **extra}


def _choices(*rows: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"value": v, "fr": fr, "en": en} for v, fr, en in rows]


ITEMS: list[dict[str, Any]] = [
    {
        "slug": "install-software",
        "category": "software",
        "icon": "💿",
        "name": ("Installer un logiciel", "Install software"),
        "description": (
            "Demandez l'installation d'un logiciel sur votre poste. Votre responsable valide la demande.",
            "Ask for software to be installed on your computer. Your manager approves the request.",
        ),
        "fields": [
            _f("software", "short_text", "Logiciel et version", "Software and version", required=True),
            _f(
                "computer",
                "short_text",
                "Nom du poste",
                "Computer name",
                help_fr="Sur l'étiquette du poste.",
                help_en="On the computer's label.",
            ),
            _f("reason", "long_text", "Pourquoi en avez-vous besoin ?", "Why do you need it?", required=True),
        ],
        "stages": ["manager"],
        "tasks": [("Installer le logiciel", "Install the software", "")],
    },
    {
        "slug": "new-hardware",
        "category": "hardware",
        "icon": "💻",
        "name": ("Nouveau matériel", "New hardware"),
        "description": (
            "Ordinateur, écran, clavier, casque… Votre responsable valide la demande.",
            "Laptop, screen, keyboard, headset… Your manager approves the request.",
        ),
        "fields": [
            _f(
                "equipment",
                "choice",
                "Matériel",
                "Equipment",
                required=True,
                choices=_choices(
                    ("laptop", "Ordinateur portable", "Laptop"),
                    ("screen", "Écran", "Screen"),
                    ("keyboard", "Clavier et souris", "Keyboard and mouse"),
                    ("headset", "Casque", "Headset"),
                    ("other", "Autre", "Other"),
                ),
            ),
            _f("quantity", "number", "Quantité", "Quantity", required=True, min_value=1, max_value=10),
            _f("needed_by", "date", "Pour le", "Needed by"),
            _f("reason", "long_text", "Justification", "Reason", required=True),
        ],
        "stages": ["manager"],
        "tasks": [("Préparer et livrer le matériel", "Prepare and deliver the hardware", "")],
    },
    {
        "slug": "access",
        "category": "access",
        "icon": "🔑",
        "name": ("Accès à une application ou un dossier partagé", "Access to an application or shared folder"),
        "description": (
            "Obtenez un accès à une application ou à un dossier partagé. Votre responsable valide la demande.",
            "Get access to an application or a shared folder. Your manager approves the request.",
        ),
        "fields": [
            _f(
                "resource",
                "short_text",
                "Application ou dossier",
                "Application or folder",
                required=True,
                help_fr="Par exemple : \\\\fichiers\\compta ou SAP.",
                help_en="For example: \\\\files\\accounting or SAP.",
            ),
            _f(
                "level",
                "choice",
                "Niveau d'accès",
                "Access level",
                required=True,
                choices=_choices(("read", "Lecture", "Read"), ("write", "Lecture et écriture", "Read and write")),
            ),
            _f("until", "date", "Jusqu'au (facultatif)", "Until (optional)"),
            _f("reason", "long_text", "Pourquoi en avez-vous besoin ?", "Why do you need it?", required=True),
        ],
        "stages": ["manager"],
        "tasks": [("Donner l'accès", "Grant the access", "identity")],
    },
    {
        "slug": "onboarding",
        "category": "people",
        "icon": "👋",
        "name": ("Arrivée d'un nouveau collaborateur", "New employee onboarding"),
        "description": (
            "Compte, ordinateur, téléphone et badge pour une personne qui arrive.",
            "Account, laptop, phone and badge for someone joining.",
        ),
        "fields": [
            _f("full_name", "short_text", "Nom complet", "Full name", required=True),
            _f("start_date", "date", "Date d'arrivée", "Start date", required=True),
            _f("job", "short_text", "Poste et service", "Job and department", required=True),
            _f("manager", "person", "Responsable (adresse email)", "Manager (email address)"),
            _f("phone", "checkbox", "A besoin d'un téléphone", "Needs a phone"),
            _f("notes", "long_text", "Remarques", "Notes"),
        ],
        "stages": ["manager"],
        "tasks": [
            ("Créer le compte", "Create the account", "identity"),
            ("Préparer l'ordinateur", "Prepare the laptop", "workplace"),
            ("Fournir le téléphone", "Provide the phone", "telecom"),
            ("Faire le badge", "Make the badge", "facilities"),
        ],
    },
    {
        "slug": "password-reset",
        "category": "accounts",
        "icon": "🔒",
        "name": ("Réinitialiser un mot de passe", "Password reset"),
        "description": (
            "Mot de passe oublié ou compte bloqué sur une application.",
            "Forgotten password or account locked in an application.",
        ),
        "fields": [
            _f("account", "short_text", "Application ou compte", "Application or account", required=True),
            _f(
                "mine",
                "checkbox",
                "Je confirme qu'il s'agit de mon propre compte",
                "I confirm this is my own account",
                required=True,
            ),
        ],
        "stages": [],
        "tasks": [("Réinitialiser le mot de passe", "Reset the password", "identity")],
    },
]

GROUP_NAMES = {
    "identity": ("Identity", "Identités"),
    "workplace": ("Workplace", "Poste de travail"),
    "telecom": ("Telecom", "Téléphonie"),
    "facilities": ("Facilities", "Services généraux"),
}


def _group(SupportGroup: Any, code: str) -> Any:
    names = GROUP_NAMES.get(code, ())
    found = SupportGroup.objects.filter(name__in=names).first() if names else None
    return found or SupportGroup.objects.filter(is_triage=True).first()


def seed(apps: Any, schema_editor: Any) -> None:
    CatalogCategory = apps.get_model("catalog", "CatalogCategory")
    CatalogItem = apps.get_model("catalog", "CatalogItem")
    SupportGroup = apps.get_model("people", "SupportGroup")
    categories = {}
    for code, (fr, en, order) in CATEGORIES.items():
        categories[code], _c = CatalogCategory.objects.get_or_create(
            name_en=en, defaults={"name_fr": fr, "order": order}
        )
    for order, spec in enumerate(ITEMS, start=1):
        if CatalogItem.objects.filter(slug=spec["slug"]).exists():
            continue
        item = CatalogItem.objects.create(
            slug=spec["slug"],
            name_fr=spec["name"][0],
            name_en=spec["name"][1],
            description_fr=spec["description"][0],
            description_en=spec["description"][1],
            category=categories[spec["category"]],
            icon=spec["icon"],
            order=order,
        )
        for n, field in enumerate(spec["fields"], start=1):
            item.fields.create(order=n, **field)
        for n, kind in enumerate(spec["stages"], start=1):
            item.stages.create(order=n, kind=kind)
        for n, (fr, en, group) in enumerate(spec["tasks"], start=1):
            item.task_templates.create(order=n, subject_fr=fr, subject_en=en, group=_group(SupportGroup, group))
