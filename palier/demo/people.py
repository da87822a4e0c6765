"""The demo's people: organisations, departments, support groups, agents, managers, an admin and
requesters, created in bulk with one password hash shared by every account."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from palier.demo import text as txt
from palier.people.models import Department, Membership, Organisation, SupportGroup, User
from palier.system.demo_accounts import DEMO_STAFF_DOMAIN
from palier.tickets.search import normalise

REQUESTERS = 2_000
STAFF_DOMAIN = DEMO_STAFF_DOMAIN
VENDOR_DOMAIN = "nexalis.example"

Group = tuple[int, str, list[int]]  # (id, name, member ids)


@dataclass
class Cast:
    requesters: list[tuple[int, int | None, str]]  # (id, organisation id, language)
    featured_requester: tuple[int, int | None, str]
    triage: Group
    groups_by_topic: dict[str, list[Group]]
    escalation: list[Group]  # every working group but triage
    names: dict[int, str]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalise(text)).strip("-")


class _Names:
    """Hands out realistic, unique names and email addresses."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken = set(User.objects.values_list("email", flat=True))

    def person(self, lang: str, domain: str) -> tuple[str, str]:
        first = self.rng.choice(txt.FIRST_NAMES[lang])
        last = self.rng.choice(txt.LAST_NAMES[lang])
        local = f"{_slug(first)}.{_slug(last)}"
        email, n = f"{local}@{domain}", 1
        while email in self.taken:
            n += 1
            email = f"{local}{n}@{domain}"
        self.taken.add(email)
        return f"{first} {last}", email


def _organisations() -> list[tuple[Organisation, str]]:
    out = []
    for name, domain, lang, share, departments in txt.ORGANISATIONS:
        org, _created = Organisation.objects.get_or_create(
            name=name, defaults={"email_domain": domain, "share_tickets": share}
        )
        Department.objects.bulk_create(
            [Department(organisation=org, name=d) for d in departments], ignore_conflicts=True
        )
        out.append((org, lang))
    return out


def _groups() -> list[tuple[SupportGroup, int]]:
    """The demo's groups with how many agents each gets; the existing triage group is reused."""
    out = []
    for name, level, vendor, agents, _topics in txt.GROUPS:
        triage = SupportGroup.objects.filter(is_triage=True).first() if level == 1 and not _topics else None
        group = (
            triage
            or SupportGroup.objects.get_or_create(
                name=name, defaults={"level": level, "is_vendor": vendor, "is_triage": False}
            )[0]
        )
        out.append((group, agents))
    return out


def _user(name: str, email: str, role: str, lang: str, password: str, **extra: object) -> User:
    return User(
        email=email,
        full_name=name,
        role=role,
        language=lang,
        password=password,
        is_staff=role == User.Role.ADMIN,
        **extra,
    )


def _staff(rng: random.Random, names: _Names, password: str, logins: dict[str, str]) -> None:
    groups = _groups()
    users = [_user("Alex Admin", logins["admin"], User.Role.ADMIN, "fr", password)]
    managers = {
        level: _user(name, email, User.Role.MANAGER, "fr", password)
        for level, name, email in [
            (1, "Nadia Manager", logins["manager"]),
            (2, "Bruno Lefort", f"bruno.lefort@{STAFF_DOMAIN}"),
            (3, "Karen Hughes", f"karen.hughes@{STAFF_DOMAIN}"),
            (4, "Marc Nexalis", f"marc@{VENDOR_DOMAIN}"),
        ]
    }
    users += managers.values()
    members: list[tuple[SupportGroup, User]] = []
    for group, count in groups:
        domain = VENDOR_DOMAIN if group.is_vendor else STAFF_DOMAIN
        for _ in range(count):
            lang = "en" if rng.random() < 0.25 else "fr"
            if not members:
                name, email = "Léa Agent", logins["agent"]  # the well-known agent, in the triage group
            else:
                name, email = names.person(lang, domain)
            user = _user(name, email, User.Role.AGENT, lang, password)
            users.append(user)
            members.append((group, user))
        members.append((group, managers[min(group.level, 4)]))
    User.objects.bulk_create(users, batch_size=500)
    Membership.objects.bulk_create([Membership(group=g, user=u) for g, u in members], ignore_conflicts=True)
    for group, _count in groups:
        SupportGroup.objects.filter(pk=group.pk).update(manager=managers[min(group.level, 4)])


def _requesters(rng: random.Random, names: _Names, password: str, featured: str) -> None:
    orgs = _organisations()
    departments: dict[int, list[int]] = {}
    for dep_id, org_id in Department.objects.filter(organisation__in=[o for o, _l in orgs]).values_list(
        "id", "organisation_id"
    ):
        departments.setdefault(org_id, []).append(dep_id)
    first_org = orgs[0][0]
    users = [
        _user(
            "Claire Dubois",
            featured,
            User.Role.REQUESTER,
            "fr",
            password,
            organisation=first_org,
            department_id=departments[first_org.pk][0],
        )
    ]
    for _ in range(REQUESTERS - 1):
        org, org_lang = rng.choice(orgs)
        lang = org_lang if rng.random() < 0.85 else ("en" if org_lang == "fr" else "fr")
        name, email = names.person(lang, org.email_domain)
        users.append(
            _user(
                name,
                email,
                User.Role.REQUESTER,
                lang,
                password,
                organisation=org,
                department_id=rng.choice(departments[org.pk]),
            )
        )
    User.objects.bulk_create(users, batch_size=500)


def create_people(rng: random.Random, *, password: str, logins: dict[str, str]) -> None:
    """Create every demo account; ``password`` is an already hashed password shared by all."""
    names = _Names(rng)
    _staff(rng, names, password, logins)
    _requesters(rng, names, password, logins["requester"])


def load_cast(*, logins: dict[str, str]) -> Cast:
    """Read back the demo people (created now or by an earlier run)."""
    org_names = [o[0] for o in txt.ORGANISATIONS]
    requesters = list(
        User.objects.filter(role=User.Role.REQUESTER, is_active=True, organisation__name__in=org_names)
        .order_by("id")
        .values_list("id", "organisation_id", "language")
    )
    featured = next((r for r in requesters if r[0] == _id_of(logins["requester"])), requesters[0])
    triage_row = SupportGroup.objects.get(is_triage=True)
    names = [g[0] for g in txt.GROUPS]
    groups = {g.pk: g for g in SupportGroup.objects.filter(name__in=names).exclude(pk=triage_row.pk)}
    members: dict[int, list[int]] = {}
    for group_id, user_id in Membership.objects.filter(user__role=User.Role.AGENT).values_list("group_id", "user_id"):
        members.setdefault(group_id, []).append(user_id)
    as_tuple = {g.pk: (g.pk, g.name, sorted(members.get(g.pk, []))) for g in [triage_row, *groups.values()]}
    by_name = {g.name: as_tuple[g.pk] for g in groups.values()}
    by_topic: dict[str, list[Group]] = {}
    for name, _level, _vendor, _count, topics in txt.GROUPS:
        for topic in topics if name in by_name else []:
            by_topic.setdefault(topic, []).append(by_name[name])
    staff = User.objects.filter(role__in=[User.Role.AGENT, User.Role.MANAGER]).values_list("id", "full_name")
    return Cast(
        requesters=[(i, o, lang or "fr") for i, o, lang in requesters],
        featured_requester=(featured[0], featured[1], featured[2] or "fr"),
        triage=as_tuple[triage_row.pk],
        groups_by_topic=by_topic,
        escalation=[as_tuple[pk] for pk in groups],
        names=dict(staff),
    )


def _id_of(email: str) -> int | None:
    return User.objects.filter(email=email).values_list("id", flat=True).first()
