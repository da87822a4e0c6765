"""Demo problems and a major incident, added by ``palier demo`` (docs/problems.md, "Demo").

Four problems: a known error on the VPN gateway with its workaround and five linked incidents,
one under investigation, one with its root cause known and one resolved; and one ongoing major
incident with an attached incident, a published status note and its communication log. Rows are
written through the models in bulk (a seeding path, like ``demo/tickets.py``), with the history
events the services would write. Done once: running the demo again adds nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from palier.assets.models import Asset, AssetType, Relationship
from palier.core.numbers import next_number
from palier.lib.text import normalise
from palier.people.models import SupportGroup, User
from palier.problems.models import (
    MajorIncident,
    MajorIncidentLink,
    MajorIncidentSubscriber,
    MajorIncidentUpdate,
    Problem,
    ProblemAsset,
    ProblemEvent,
    ProblemIncident,
)
from palier.tickets import history as ticket_history
from palier.tickets.models import Ticket, TicketEvent

VPN_TAG = "NET-VPN-01"
P = Problem.Status
E = ProblemEvent.Kind

# title, status, impact, urgency, root cause, workaround, permanent fix, days ago
PROBLEMS = [
    (
        "Le VPN se déconnecte toutes les heures",
        P.KNOWN_ERROR,
        "high",
        "high",
        "Fuite mémoire du firmware 7.2.5 de la passerelle VPN : les tunnels sont coupés quand la table "
        "des sessions est pleine.",
        "Se reconnecter au VPN avec le client FortiClient (bouton « Connecter ») ; si la connexion échoue, "
        "redémarrer le client. La session reprend en moins d'une minute.",
        "Mise à jour du firmware en 7.2.8 (changement planifié).",
        12,
    ),
    (
        "Lenteurs de l'ERP en fin de mois",
        P.INVESTIGATING,
        "medium",
        "high",
        "",
        "",
        "",
        6,
    ),
    (
        "Échecs de synchronisation de la messagerie sur mobile",
        P.ROOT_CAUSE_KNOWN,
        "medium",
        "medium",
        "Le certificat intermédiaire du serveur de messagerie manque dans la chaîne envoyée aux mobiles.",
        "",
        "",
        9,
    ),
    (
        "Imprimantes du 2e étage hors ligne après la coupure électrique",
        P.RESOLVED,
        "low",
        "medium",
        "Les imprimantes redémarrent avec une adresse DHCP différente de celle de la file d'impression.",
        "Imprimer sur l'imprimante du 1er étage.",
        "Réservations DHCP ajoutées pour chaque imprimante.",
        25,
    ),
]


@dataclass
class ProblemsResult:
    problems: int = 0
    linked_incidents: int = 0
    major_incidents: int = 0


def vpn_gateway() -> Asset | None:
    """The demo CMDB's VPN gateway (added here, connected to the Lyon core, when the CMDB exists)."""
    found = Asset.objects.filter(tag=VPN_TAG).first()
    if found is not None:
        return found
    kind = AssetType.objects.filter(slug="network-equipment").first()
    core = Asset.objects.filter(tag="NET-LYO-CORE").first()
    if kind is None or core is None:
        return None
    now = timezone.now()
    gateway = Asset(
        tag=VPN_TAG,
        type=kind,
        name="Passerelle VPN (Fortinet FortiGate 200F)",
        manufacturer="Fortinet",
        model="FortiGate 200F",
        status=Asset.Status.DEPLOYED,
        location=core.location,
        created_at=now,
        updated_at=now,
    )
    gateway.refresh_search_text()
    gateway.save()
    Relationship.objects.create(source=gateway, kind=Relationship.Kind.CONNECTS_TO, target=core)
    return gateway


def _incidents(words: str, count: int, exclude: set[int]) -> list[Ticket]:
    """``count`` incidents about ``words`` (else any open incident), not yet linked anywhere."""
    base = Ticket.objects.filter(kind=Ticket.Kind.INCIDENT, problem_link__isnull=True, major_link__isnull=True)
    base = base.filter(major_incident__isnull=True).exclude(pk__in=exclude)
    chosen = list(base.filter(subject__icontains=words).order_by("-id")[:count])
    for extra in (base.filter(status__in=Ticket.OPEN_STATUSES), base):  # then any open one, then any
        if len(chosen) < count:
            more = extra.exclude(pk__in=[t.pk for t in chosen]).order_by("-id")
            chosen += list(more[: count - len(chosen)])
    return chosen


@transaction.atomic
def populate(*, admin: User | None, manager: User | None) -> ProblemsResult:
    result = ProblemsResult()
    if Problem.objects.exists() or not Ticket.objects.filter(kind=Ticket.Kind.INCIDENT).exists():
        return result
    now = timezone.now()
    group = SupportGroup.objects.filter(level=2).order_by("id").first()
    owner = manager or admin
    made: list[Problem] = []
    for title, status, impact, urgency, cause, workaround, fix, days in PROBLEMS:
        created = now - timedelta(days=days)
        problem = Problem(
            number=next_number("problem"),
            title=title,
            description=title + ".",
            impact=impact,
            urgency=urgency,
            priority={("high", "high"): 1, ("medium", "high"): 2, ("medium", "medium"): 3}.get((impact, urgency), 4),
            status=status,
            group=group,
            assignee=owner,
            root_cause=cause,
            workaround=workaround,
            permanent_fix=fix,
            created_by=owner,
            created_at=created,
            updated_at=now - timedelta(days=1),
            known_error_at=created + timedelta(days=3) if status == P.KNOWN_ERROR else None,
            resolved_at=now - timedelta(days=2) if status == P.RESOLVED else None,
        )
        problem.search_text = normalise(" ".join([problem.reference, title, cause, workaround]))
        made.append(problem)
    Problem.objects.bulk_create(made)
    made = list(Problem.objects.order_by("number"))
    events = [
        ProblemEvent(problem=p, kind=E.CREATED, actor=owner, data={"title": p.title}, at=p.created_at) for p in made
    ]
    events += [
        ProblemEvent(problem=p, kind=E.STATUS, actor=owner, data={"status": ["new", p.status]}, at=p.updated_at)
        for p in made
        if p.status != P.NEW
    ]
    known = made[0]
    gateway = vpn_gateway()
    if gateway is not None:
        ProblemAsset.objects.create(problem=known, asset=gateway)
        events.append(ProblemEvent(problem=known, kind=E.ASSET_LINKED, actor=owner,
                                   data={"asset": gateway.pk, "tag": gateway.tag, "name": gateway.name}))  # fmt: skip
    used: set[int] = set()
    links: list[ProblemIncident] = []
    ticket_events: list[TicketEvent] = []
    for problem, words, count in ((known, "VPN", 5), (made[1], "lent", 2), (made[3], "imprim", 2)):
        tickets = _incidents(words, count, used)
        used.update(t.pk for t in tickets)
        links += [ProblemIncident(problem=problem, ticket=t, linked_by=owner, linked_at=now) for t in tickets]
        ticket_events += [
            ticket_history.build(t, TicketEvent.Kind.PROBLEM, by=owner, internal=True, reference=problem.reference,
                                 action="linked", problem=problem.pk)
            for t in tickets
        ]  # fmt: skip
        if tickets:
            events.append(ProblemEvent(problem=problem, kind=E.INCIDENT_LINKED, actor=owner,
                                       data={"count": len(tickets), "tickets": [t.reference for t in tickets]}))  # fmt: skip
    ProblemIncident.objects.bulk_create(links)
    ProblemEvent.objects.bulk_create(events)
    ticket_history.record_many(ticket_events)
    result.problems, result.linked_incidents = len(made), len(links)
    result.major_incidents = _major_incident(admin or owner, used, now)
    return result


def _major_incident(by: User | None, used: set[int], now: datetime) -> int:
    """One ongoing outage of the mail service, with an attached incident and a published note."""
    tickets = _incidents("messagerie", 2, used)
    if len(tickets) < 2:
        return 0
    main, attached = tickets
    headline = "Messagerie indisponible pour le site de Lyon"
    note = (
        "La messagerie est indisponible depuis 9 h 10 pour les utilisateurs de Lyon. Nos équipes travaillent "
        "au rétablissement ; prochain point à 11 h."
    )
    major = MajorIncident.objects.create(
        ticket=main,
        headline=headline,
        status_note=note,
        published=True,
        declared_by=by,
        declared_at=now - timedelta(hours=2),
        note_updated_at=now - timedelta(minutes=40),
        search_text=normalise(f"{headline} {note}"),
    )
    MajorIncidentLink.objects.create(major=major, ticket=attached, linked_by=by, linked_at=now - timedelta(hours=1))
    MajorIncidentSubscriber.objects.bulk_create(
        [MajorIncidentSubscriber(major=major, user_id=uid) for uid in {main.requester_id, attached.requester_id}]
    )
    MajorIncidentUpdate.objects.bulk_create(
        [
            MajorIncidentUpdate(major=major, author=by, channel=MajorIncidentUpdate.Channel.INTERNAL,
                                message="Cellule de crise ouverte ; l'équipe systèmes analyse le serveur de messagerie.",
                                at=now - timedelta(hours=2))  ,
            MajorIncidentUpdate(major=major, author=by, channel=MajorIncidentUpdate.Channel.PORTAL, message=note,
                                recipients=2, at=now - timedelta(minutes=40)),
        ]
    )  # fmt: skip
    ticket_history.record_many(
        [
            ticket_history.build(main, TicketEvent.Kind.MAJOR, by=by, internal=True, reference=main.reference,
                                 action="declared"),
            ticket_history.build(attached, TicketEvent.Kind.MAJOR, by=by, internal=True, reference=main.reference,
                                 action="attached"),
        ]
    )  # fmt: skip
    return 1
