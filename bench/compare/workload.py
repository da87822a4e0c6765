"""The workload both help desks are seeded with, in the standard library only (the peer's own
virtual environment imports it as well as Palier's).

``tickets(spec)`` yields the same tickets, in the same order, for the same ``Spec``: subject,
description, requester and agent (as indexes: each side maps them to its own accounts), final
status, impact and urgency, age, and exactly ``spec.comments`` comments. Each search word is
in the subject or the description (never in a comment: the peer's search does not read its
follow-ups) of exactly ``floor(tickets * share)`` tickets, spread evenly; the filler text contains
none of them, not even as a substring (the peer searches with ``icontains``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

# word -> share of the tickets that contain it: rare, about 1 %, about 10 %, absent
SEARCH_WORDS: dict[str, float] = {"hyperviseur": 0.001, "imprimante": 0.01, "vpn": 0.10, "kerberos": 0.0}
# final statuses and their weights (Palier's Ticket.Status values; the peer maps them)
STATUSES: dict[str, int] = {"new": 10, "assigned": 10, "in_progress": 10, "resolved": 10, "closed": 60}
LEVELS: dict[str, int] = {"high": 2, "medium": 4, "low": 5}
DAY = 86_400

_SUBJECTS = [
    "Cannot open the shared folder",
    "Ecran noir au demarrage",
    "Outlook asks for the password again",
    "Badge refuse a l'accueil",
    "Laptop fan very loud",
    "Demande d'acces au dossier Finance",
    "Teams calls drop after a minute",
    "Nouveau poste pour un arrivant",
    "Slow network on the second floor",
    "Licence logiciel expiree",
]
_FILLER = [
    "bonjour",
    "depuis",
    "ce",
    "matin",
    "le",
    "poste",
    "affiche",
    "une",
    "erreur",
    "quand",
    "je",
    "lance",
    "l'application",
    "merci",
    "de",
    "regarder",
    "hello",
    "since",
    "this",
    "morning",
    "the",
    "laptop",
    "shows",
    "an",
    "error",
    "when",
    "I",
    "start",
    "the",
    "tool",
    "thanks",
    "for",
    "looking",
    "le",
    "dossier",
    "partage",
    "reste",
    "inaccessible",
    "apres",
    "le",
    "redemarrage",
    "du",
    "service",
    "comptable",
    "the",
    "shared",
    "drive",
    "stays",
    "unreachable",
    "after",
    "the",
    "restart",
    "of",
    "the",
    "accounting",
    "office",
    "cordialement",
    "regards",
    "urgent",
    "bloquant",
    "lent",
    "souvent",
    "parfois",
    "toujours",
    "jamais",
    "reunion",
    "client",
]
_REPLIES = [
    "Thanks, I am looking into it now.",
    "Merci, je regarde et je reviens vers vous.",
    "Could you send a screenshot of the message?",
    "Pouvez-vous redemarrer le poste et reessayer ?",
    "It works again on my side, thank you.",
    "C'est corrige de mon cote, merci.",
]


@dataclass(frozen=True)
class Spec:
    tickets: int
    agents: int
    requesters: int
    comments: int = 3
    seed: int = 42
    words: dict[str, float] = field(default_factory=lambda: dict(SEARCH_WORDS))


@dataclass
class WorkTicket:
    index: int
    subject: str
    description: str
    requester: int  # 0 .. spec.requesters - 1
    agent: int | None  # 0 .. spec.agents - 1, None while new
    status: str
    impact: str
    urgency: str
    age_seconds: int  # how long ago it was created
    comments: list[tuple[str, int, str, int]]  # (role "requester"/"agent", person index, text, seconds after creation)

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.description}"


def has_word(index: int, share: float, offset: int = 0) -> bool:
    """True for exactly ``floor(n * share)`` of the indexes ``0 .. n-1``, evenly spread."""
    if share <= 0:
        return False
    i = index + offset
    per_million = round(share * 1_000_000)
    return ((i + 1) * per_million) // 1_000_000 > (i * per_million) // 1_000_000


def expected_count(n: int, share: float, offset: int = 0) -> int:
    return sum(has_word(i, share, offset) for i in range(n))


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def tickets(spec: Spec) -> Iterator[WorkTicket]:
    if spec.agents < 1 or spec.requesters < 1 or spec.tickets < 0 or spec.comments < 0:
        raise ValueError("a workload needs at least one agent and one requester")
    rng = random.Random(spec.seed)
    words = list(spec.words.items())
    for index in range(spec.tickets):
        status = _pick(rng, STATUSES)
        requester = rng.randrange(spec.requesters)
        agent = None if status == "new" else rng.randrange(spec.agents)
        subject = rng.choice(_SUBJECTS)
        body = " ".join(rng.choice(_FILLER) for _ in range(rng.randrange(20, 45)))
        for position, (word, share) in enumerate(words):
            if has_word(index, share, offset=position * 7):
                if position % 2:
                    subject = f"{subject} ({word})"
                else:
                    body = f"{body} {word}"
        age = rng.randrange(DAY // 24, 365 * DAY) if status in ("resolved", "closed") else rng.randrange(60, 20 * DAY)
        step = max(1, age // (spec.comments + 2))
        comments = []
        for c in range(spec.comments):
            role = "requester" if c % 2 else "agent"
            person = requester if role == "requester" else (agent if agent is not None else index % spec.agents)
            comments.append((role, person, rng.choice(_REPLIES), step * (c + 1)))
        yield WorkTicket(
            index=index,
            subject=subject,
            description=body.capitalize() + ".",
            requester=requester,
            agent=agent,
            status=status,
            impact=_pick(rng, LEVELS),
            urgency=_pick(rng, LEVELS),
            age_seconds=age,
            comments=comments,
        )


def sample_indexes(tickets: int, wanted: int = 2_000) -> list[int]:
    """The workload indexes of the tickets the ticket page scenario opens, on both systems."""
    step = max(1, tickets // max(1, wanted))
    return list(range(0, tickets, step))[:wanted]


def batches(spec: Spec, size: int = 2_000) -> Iterator[list[WorkTicket]]:
    batch: list[WorkTicket] = []
    for ticket in tickets(spec):
        batch.append(ticket)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
