"""The starting risk questionnaire and standard change templates, written by the data migration
``0002`` (and again by the test suite after a flush). Administrators change them afterwards."""

from __future__ import annotations

from typing import Any

# (French, English, [(value, French, English, score), …]); the highest total is 17
QUESTIONS: list[tuple[str, str, list[tuple[str, str, str, int]]]] = [
    (
        "Le changement touche-t-il un service utilisé par beaucoup de personnes ?",
        "Does the change touch a service many people use?",
        [("no", "Non", "No", 0), ("team", "Une équipe", "One team", 1), ("many", "Oui, beaucoup", "Yes, many", 3)],
    ),
    (
        "Le changement a-t-il été testé dans un environnement de test ?",
        "Was the change tried in a test environment?",
        [("yes", "Oui", "Yes", 0), ("partly", "En partie", "Partly", 2), ("no", "Non", "No", 4)],
    ),
    (
        "Peut-on revenir en arrière rapidement ?",
        "Can it be backed out quickly?",
        [
            ("yes", "Oui, en minutes", "Yes, in minutes", 0),
            ("slow", "Oui, en heures", "Yes, in hours", 2),
            ("no", "Non", "No", 4),
        ],
    ),
    (
        "Les utilisateurs verront-ils une interruption ?",
        "Will people notice an interruption?",
        [
            ("none", "Aucune", "None", 0),
            ("short", "Courte, dans le créneau de maintenance", "Short, in the maintenance window", 1),
            ("long", "Longue ou hors créneau", "Long or outside the window", 3),
        ],
    ),
    (
        "Ce type de changement a-t-il déjà été réussi ?",
        "Has this kind of change been done successfully before?",
        [("often", "Souvent", "Often", 0), ("once", "Une fois", "Once", 1), ("never", "Jamais", "Never", 3)],
    ),
]

TEMPLATES: list[dict[str, Any]] = [
    {
        "name_fr": "Redémarrer un serveur d'applications",
        "name_en": "Restart an application server",
        "description": "Planned restart of one application server, outside busy hours.",
        "implementation_plan": "1. Take the server out of the load balancer.\n2. Restart the service.\n"
        "3. Check the logs and put the server back.",
        "backout_plan": "Leave the server out of the load balancer and call the on-call engineer.",
        "test_plan": "Open the application's home page and sign in.",
        "risk": "low",
        "duration_minutes": 30,
    },
    {
        "name_fr": "Mises à jour de sécurité mensuelles des postes",
        "name_en": "Monthly security updates on workstations",
        "description": "The month's operating system security updates, pushed to workstations in waves.",
        "implementation_plan": "1. Approve the month's updates for the pilot group.\n2. After one day without "
        "incident, approve them for every workstation.",
        "backout_plan": "Withdraw the approval and uninstall the faulty update on the affected workstations.",
        "test_plan": "Check the update report: every workstation of the wave up to date.",
        "risk": "low",
        "duration_minutes": 120,
    },
]


def seed(apps: Any, schema_editor: Any) -> None:
    """Write the questionnaire and the templates when there are none yet."""
    question_model = apps.get_model("changes", "RiskQuestion")
    template_model = apps.get_model("changes", "ChangeTemplate")
    if not question_model.objects.exists():
        question_model.objects.bulk_create(
            question_model(
                order=order,
                text_fr=french,
                text_en=english,
                choices=[{"value": v, "fr": fr, "en": en, "score": score} for v, fr, en, score in answers],
            )
            for order, (french, english, answers) in enumerate(QUESTIONS, start=1)
        )
    if not template_model.objects.exists():
        template_model.objects.bulk_create(template_model(**values) for values in TEMPLATES)
