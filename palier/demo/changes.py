"""Demo changes, added by ``palier demo`` (docs/changes.md, "Demo").

A change advisory board (the group "Change advisory board" with the demo manager and the
administrator, deciding by a quorum of 2) on the normal path and an emergency board on the
emergency path; two standard-change templates; about 25 changes around today (standard, normal
and emergency, in every status, some closed failed or rolled back with the incident they
caused); two of them touch the same server in overlapping windows (a conflict); and a freeze
window at the end of the fiscal year with one change planned inside it. Rows are written through
the models in bulk (a seeding path); the calendar's footprint is computed by the hooks the
change services call after a save (``AFTER_SAVE``). Done once: running the demo again adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from palier.assets.models import Asset
from palier.changes.models import (
    Change,
    ChangeApprovalStage,
    ChangeAsset,
    ChangeBoard,
    ChangeEvent,
    ChangeProblem,
    ChangeTemplate,
    ChangeTicket,
    FreezeWindow,
    Risk,
)
from palier.changes.services import AFTER_SAVE
from palier.core.numbers import next_number
from palier.lib.text import normalise
from palier.people.models import Membership, SupportGroup, User
from palier.problems.models import Problem
from palier.tickets.models import Ticket

S = Change.Status
K = Change.Kind
O = Change.Outcome  # noqa: E741
BOARD_GROUP = "Change advisory board"
CONFLICT_TAG = "SRV-ESX-LYO-01"

TEMPLATES = [
    ("Redémarrage planifié d'un serveur", "Planned server restart", "Redémarrer le serveur, vérifier les services.",
     "Rallumer sur l'ancien noyau.", 30),
    ("Ajout d'un utilisateur au VPN", "Add a user to the VPN", "Ajouter le compte au groupe VPN.",
     "Retirer le compte du groupe.", 15),
]  # fmt: skip

# kind, status, outcome, risk, title, day offset from today (start), hours long, asset tag
CHANGES: list[tuple[str, str, str, str, str, int, int, str]] = [
    (K.NORMAL, S.CLOSED, O.SUCCESSFUL, Risk.MEDIUM, "Mise à jour de PostgreSQL 15.6", -14, 3, "VM-DB-01"),
    (K.NORMAL, S.CLOSED, O.FAILED, Risk.HIGH, "Migration de l'ERP vers la version 17", -12, 6, "APP-ERP"),
    (K.STANDARD, S.CLOSED, O.SUCCESSFUL, Risk.LOW, "Redémarrage d'esx-paris-01", -11, 1, "SRV-ESX-PAR-01"),
    (K.EMERGENCY, S.CLOSED, O.ROLLED_BACK, Risk.HIGH, "Correctif de sécurité du pare-feu", -9, 2, "NET-FW-01"),
    (K.NORMAL, S.CLOSED, O.CANCELLED, Risk.LOW, "Changement du fournisseur SMS", -8, 2, ""),
    (K.STANDARD, S.CLOSED, O.SUCCESSFUL, Risk.LOW, "Ajout de 20 comptes VPN", -7, 1, "NET-VPN-01"),
    (K.NORMAL, S.CLOSED, O.SUCCESSFUL, Risk.MEDIUM, "Renouvellement du certificat de l'intranet", -6, 1, "VM-WEB-01"),
    (K.NORMAL, S.REVIEW, "", Risk.MEDIUM, "Extension du stockage des fichiers", -3, 4, "VM-FILE-01"),
    (K.EMERGENCY, S.IMPLEMENTING, "", Risk.CRITICAL, "Remplacement d'un disque du serveur de paie", 0, 3, "VM-PAIE-01"),
    (K.NORMAL, S.SCHEDULED, "", Risk.MEDIUM, "Mise à jour du firmware de la passerelle VPN", 2, 2, "NET-VPN-01"),
    (K.NORMAL, S.SCHEDULED, "", Risk.HIGH, "Mise à jour de VMware ESXi 8.0 U3 (Lyon 01)", 4, 4, CONFLICT_TAG),
    (K.STANDARD, S.SCHEDULED, "", Risk.LOW, "Redémarrage d'esx-lyon-01", 4, 1, CONFLICT_TAG),
    (K.NORMAL, S.APPROVED, "", Risk.MEDIUM, "Nouvelle règle de sauvegarde de la messagerie", 5, 2, "SVC-MAIL"),
    (K.NORMAL, S.AWAITING_APPROVAL, "", Risk.HIGH, "Bascule du cœur de réseau de Paris", 6, 5, "NET-PAR-CORE"),
    (K.EMERGENCY, S.AWAITING_APPROVAL, "", Risk.HIGH, "Blocage d'un domaine d'hameçonnage", 1, 1, "NET-FW-01"),
    (K.NORMAL, S.REJECTED, "", Risk.CRITICAL, "Migration de la paie un jour de paie", 3, 8, "APP-SILAE"),
    (K.NORMAL, S.ASSESSMENT, "", Risk.MEDIUM, "Passage de l'intranet en HTTP/3", 8, 2, "VM-WEB-01"),
    (K.NORMAL, S.ASSESSMENT, "", Risk.LOW, "Nettoyage des anciennes VM de test", 9, 3, ""),
    (K.NORMAL, S.DRAFT, "", Risk.LOW, "Déploiement de Windows 11 24H2 (pilote)", 12, 8, ""),
    (K.EMERGENCY, S.DRAFT, "", Risk.MEDIUM, "Révocation d'un certificat compromis", 1, 1, "VM-WEB-02"),
    (K.STANDARD, S.DRAFT, "", Risk.LOW, "Redémarrage d'esx-lyon-02", 10, 1, "SRV-ESX-LYO-02"),
    (
        K.NORMAL,
        S.SCHEDULED,
        "",
        Risk.HIGH,
        "Clôture comptable : mise à jour de l'ERP",
        0,
        4,
        "APP-ERP",
    ),  # in the freeze
    (K.NORMAL, S.SCHEDULED, "", Risk.MEDIUM, "Ajout de mémoire à pg-prod-01", 14, 2, "VM-DB-01"),
    (K.STANDARD, S.SCHEDULED, "", Risk.LOW, "Ajout d'un utilisateur au VPN", 3, 1, "NET-VPN-01"),
    (K.NORMAL, S.CLOSED, O.SUCCESSFUL, Risk.LOW, "Mise à jour du site web public", -2, 1, "VM-WEB-02"),
]
IN_FREEZE = "Clôture comptable : mise à jour de l'ERP"


@dataclass
class ChangesResult:
    changes: int = 0
    conflicts: int = 0
    freezes: int = 0


def _board(admin: User | None, manager: User | None) -> None:
    group, _created = SupportGroup.objects.get_or_create(name=BOARD_GROUP, defaults={"level": 3})
    for member in (manager, admin):
        if member is not None:
            Membership.objects.get_or_create(group=group, user=member)
    if not ChangeBoard.objects.exists():
        cab = ChangeBoard.objects.create(name="CAB", group=group, rule=ChangeBoard.Rule.QUORUM, quorum=2)
        ecab = ChangeBoard.objects.create(
            name="CAB d'urgence", group=group, rule=ChangeBoard.Rule.ANY, is_emergency=True
        )
        ChangeApprovalStage.objects.create(path=ChangeApprovalStage.Path.NORMAL, order=1, board=cab)
        ChangeApprovalStage.objects.create(path=ChangeApprovalStage.Path.EMERGENCY, order=1, board=ecab)


def _templates() -> list[ChangeTemplate]:
    if not ChangeTemplate.objects.exists():
        ChangeTemplate.objects.bulk_create(
            [
                ChangeTemplate(name_fr=fr, name_en=en, implementation_plan=plan, backout_plan=back,
                               duration_minutes=minutes, risk=Risk.LOW)
                for fr, en, plan, back, minutes in TEMPLATES
            ]
        )  # fmt: skip
    return list(ChangeTemplate.objects.order_by("id"))


def fiscal_freeze(now: datetime) -> tuple[datetime, datetime]:
    """The end of the fiscal year (31 December): from the 28th to the 3rd of January."""
    zone = timezone.get_current_timezone()
    year = now.astimezone(zone).year if now.astimezone(zone).month > 1 else now.astimezone(zone).year - 1
    start = datetime(year, 12, 28, tzinfo=zone)
    return start, datetime(year + 1, 1, 3, tzinfo=zone)


@transaction.atomic
def populate(*, admin: User | None, manager: User | None, seed: int | None = None) -> ChangesResult:
    result = ChangesResult()
    _board(admin, manager)
    if Change.objects.exists():
        return result
    rng = random.Random(seed)
    now = timezone.now()
    today = now.astimezone(timezone.get_current_timezone()).replace(hour=20, minute=0, second=0, microsecond=0)
    templates = _templates()
    freeze_start, freeze_end = fiscal_freeze(now)
    if not FreezeWindow.objects.filter(starts_at__lt=freeze_end, ends_at__gt=freeze_start).exists():
        FreezeWindow.objects.create(name="Clôture de l'exercice", reason="Aucun changement pendant la clôture comptable.",
                                    starts_at=freeze_start, ends_at=freeze_end, created_by=admin)  # fmt: skip
        result.freezes = 1
    group = SupportGroup.objects.filter(level=2).order_by("id").first()
    implementers = list(User.objects.filter(role=User.Role.AGENT, is_active=True).order_by("id")[:10])
    assets = {a.tag: a for a in Asset.objects.filter(tag__in={row[7] for row in CHANGES if row[7]})}
    made: list[Change] = []
    for n, (kind, status, outcome, risk, title, offset, hours, _tag) in enumerate(CHANGES):
        start = freeze_start + timedelta(days=1, hours=10) if title == IN_FREEZE else today + timedelta(days=offset)
        if title == "Redémarrage d'esx-lyon-01":  # inside the ESXi update's window: the conflict
            start += timedelta(hours=1)
        end = start + timedelta(hours=hours)
        started = status in (S.IMPLEMENTING, S.REVIEW) or (status == S.CLOSED and outcome != O.CANCELLED)
        change = Change(
            number=next_number("change"),
            kind=kind,
            template=templates[n % len(templates)] if kind == K.STANDARD and templates else None,
            title=title,
            description=title + ".",
            reason="Maintien en condition opérationnelle.",
            impact="medium",
            risk=risk,
            risk_score={"low": 2, "medium": 5, "high": 9, "critical": 13}[risk],
            implementation_plan="1. Annoncer la fenêtre. 2. Appliquer. 3. Vérifier les services.",
            backout_plan="Restaurer l'instantané pris avant l'intervention.",
            test_plan="Tests de bon fonctionnement par l'équipe applicative.",
            planned_start=start,
            planned_end=end,
            actual_start=start if started else None,
            actual_end=end if started and status != S.IMPLEMENTING else None,
            group=group,
            implementer=rng.choice(implementers) if implementers and status != S.DRAFT else None,
            requested_by=manager,
            status=status,
            outcome=outcome,
            review_notes="Intervention terminée." if status == S.CLOSED and outcome != O.CANCELLED else "",
            created_at=min(now, start) - timedelta(days=5),
            updated_at=now,
            closed_at=(end + timedelta(hours=2)) if status == S.CLOSED else None,
        )
        change.search_text = normalise(f"{change.reference} {title}")
        made.append(change)
    Change.objects.bulk_create(made)
    made = list(Change.objects.order_by("number"))
    by_title = {c.title: c for c in made}
    ChangeAsset.objects.bulk_create(
        [ChangeAsset(change=by_title[row[4]], asset=assets[row[7]]) for row in CHANGES if row[7] in assets]
    )
    ChangeEvent.objects.bulk_create(
        [ChangeEvent(change=c, kind=ChangeEvent.Kind.CREATED, actor=manager, data={"kind": c.kind}, at=c.created_at)
         for c in made]
        + [ChangeEvent(change=c, kind=ChangeEvent.Kind.STATUS, actor=manager, data={"status": ["draft", c.status]},
                       at=c.updated_at) for c in made if c.status != S.DRAFT]
    )  # fmt: skip
    _failures(by_title, manager)
    for change in made:  # the calendar's footprint (the hooks the services call after a save)
        for hook in AFTER_SAVE:
            hook(change)
    result.changes = len(made)
    result.conflicts = 1 if CONFLICT_TAG in assets else 0
    return result


def _failures(by_title: dict[str, Change], manager: User | None) -> None:
    """The failed ERP migration caused an incident and a problem; the firmware update fixes the VPN's."""
    failed = by_title["Migration de l'ERP vers la version 17"]
    incident = Ticket.objects.filter(kind=Ticket.Kind.INCIDENT, change_links__isnull=True).order_by("-id").first()
    if incident is not None:
        ChangeTicket.objects.create(change=failed, ticket=incident, relation=ChangeTicket.Relation.CAUSED,
                                    linked_by=manager)  # fmt: skip
    erp = Problem.objects.filter(title__startswith="Lenteurs de l'ERP").first()
    if erp is not None:
        ChangeProblem.objects.create(change=failed, problem=erp, relation=ChangeProblem.Relation.CAUSED)
    vpn = Problem.objects.filter(title__startswith="Le VPN").first()
    if vpn is not None:
        fix = by_title["Mise à jour du firmware de la passerelle VPN"]
        ChangeProblem.objects.create(change=fix, problem=vpn, relation=ChangeProblem.Relation.FIXES)
