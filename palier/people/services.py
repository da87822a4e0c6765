"""Writes for people: users, organisations, departments, support groups, API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.lib import refpattern
from palier.lib.errors import Conflict, PermissionDenied
from palier.people import permissions, selectors, sessions
from palier.people.models import ApiToken, Department, Membership, Organisation, SupportGroup, User

TOKEN_PREFIX = "plr_"
RESERVED_DOMAIN = "invalid"  # RFC 2606: nobody receives mail there; Palier's own accounts live under it


def is_reserved_email(email: str) -> bool:
    """An address of Palier's own accounts (``automation@palier.invalid``, ``mail-robot@…``): any
    address under the ``.invalid`` top-level domain. Never a person, never a sender of mail."""
    domain = str(email or "").strip().rsplit("@", 1)[-1].strip().rstrip(".").lower()
    return domain == RESERVED_DOMAIN or domain.endswith("." + RESERVED_DOMAIN)


def _refuse_reserved(email: str) -> None:
    if is_reserved_email(email):
        raise ValidationError({"email": _("This address is reserved for Palier's own accounts.")})


@transaction.atomic
def create_user(
    *,
    email: str,
    full_name: str = "",
    role: str = User.Role.REQUESTER,
    password: str | None = None,
    language: str = "",
    phone: str = "",
    organisation: Organisation | None = None,
    department: Department | None = None,
    by: User | None = None,
) -> User:
    """Create a user. ``by`` is None for system callers (CLI, demo, intake)."""
    permissions.require(by)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": _("Enter a valid email address.")}) from exc
    _refuse_reserved(email)
    if role not in User.Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if department is not None and department.organisation_id != getattr(organisation, "pk", None):
        raise ValidationError({"department": _("The department belongs to another organisation.")})
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(_("A user with this email address already exists."), field="email")
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role,
        language=language,
        phone=phone,
        organisation=organisation,
        department=department,
        is_staff=role == User.Role.ADMIN,
    )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(_("A user with this email address already exists."), field="email") from exc
    audit.record(
        "user.created",
        actor=by,
        target=user,
        changes={"email": [None, email], "role": [None, role], "password": [None, bool(password)]},
    )
    return user


@transaction.atomic
def update_user(user: User, *, by: User | None, **fields: object) -> User:
    """Change profile fields. A user may change their own name, language and phone."""
    self_fields = {"full_name", "language", "phone", "queue_density"}
    action: permissions.Action = "manage" if set(fields) - self_fields else "edit_profile"
    if by is not None and not permissions.can(by, action, user):
        raise PermissionDenied(_("You may only change your own name, language and phone."))
    if "language" in fields and fields["language"] not in ("", *User.Language.values):
        raise ValidationError({"language": _("Unknown language.")})
    if "queue_density" in fields and fields["queue_density"] not in User.Density.values:
        raise ValidationError({"queue_density": _("Unknown density.")})
    if "role" in fields and fields["role"] not in User.Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if "email" in fields:
        _refuse_reserved(str(fields["email"]))
    changes = {name: [getattr(user, name), value] for name, value in fields.items() if getattr(user, name) != value}
    for name, value in fields.items():
        setattr(user, name, value)
    if "role" in fields:
        user.is_staff = user.role == User.Role.ADMIN or user.is_superuser
    user.save(update_fields=[*fields, *(["is_staff"] if "role" in fields else [])])
    if changes:
        audit.record(
            "user.role_changed" if "role" in changes else "user.changed", actor=by, target=user, changes=changes
        )
    return user


@transaction.atomic
def create_organisation(
    *, name: str, email_domain: str = "", share_tickets: bool = False, by: User | None = None
) -> Organisation:
    permissions.require(by)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if Organisation.objects.filter(name__iexact=name).exists():
        raise Conflict(_("An organisation with this name already exists."), field="name")
    return Organisation.objects.create(
        name=name, email_domain=email_domain.strip().lower(), share_tickets=share_tickets
    )


@transaction.atomic
def create_department(*, organisation: Organisation, name: str, by: User | None = None) -> Department:
    permissions.require(by)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if Department.objects.filter(organisation=organisation, name__iexact=name).exists():
        raise Conflict(_("This organisation already has a department with this name."), field="name")
    return Department.objects.create(organisation=organisation, name=name)


@transaction.atomic
def update_department(department: Department, *, by: User | None, name: str | None = None) -> Department:
    """Rename a department (administrators); the name stays unique in its organisation."""
    permissions.require(by)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": _("This field is required.")})
        taken = Department.objects.filter(organisation_id=department.organisation_id, name__iexact=name)
        if taken.exclude(pk=department.pk).exists():
            raise Conflict(_("This organisation already has a department with this name."), field="name")
        department.name = name
        department.save(update_fields=["name"])
    return department


@transaction.atomic
def delete_department(department: Department, *, by: User | None) -> None:
    """Delete a department nobody belongs to any more (409 otherwise: move its people first)."""
    permissions.require(by)
    if User.objects.filter(department=department).exists():
        raise Conflict(_("People still belong to this department: move them to another one first."))
    audit.record("deleted", actor=by, target=department, target_label=department.name)
    department.delete()


def _clean_group_fields(*, name: str, level: int, is_vendor: bool, exclude_pk: int | None) -> str:
    """Check a group's name, level and vendor flag; return the cleaned name."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if level not in SupportGroup.Level.values:
        raise ValidationError({"level": _("The level must be between 1 and 5.")})
    if is_vendor and level < 4:
        raise ValidationError({"is_vendor": _("Only L4 and L5 groups can be external vendors.")})
    others = SupportGroup.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise Conflict(_("A group with this name already exists."), field="name")
    return name


@transaction.atomic
def create_group(
    *,
    name: str,
    level: int = 1,
    is_vendor: bool = False,
    is_triage: bool = False,
    email: str = "",
    manager: User | None = None,
    by: User | None = None,
) -> SupportGroup:
    permissions.require(by)
    name = _clean_group_fields(name=name, level=level, is_vendor=is_vendor, exclude_pk=None)
    if is_triage and SupportGroup.objects.filter(is_triage=True).exists():
        raise Conflict(_("There is already a triage group."), field="is_triage")
    if manager is not None and not manager.is_agent:
        raise ValidationError({"manager": _("The manager must be an agent, manager or administrator.")})
    return SupportGroup.objects.create(
        name=name, level=level, is_vendor=is_vendor, is_triage=is_triage, email=email, manager=manager
    )


@transaction.atomic
def add_group_member(group: SupportGroup, *, user: User, by: User | None = None) -> Membership:
    permissions.require(by)
    if not user.is_agent:
        raise ValidationError({"user": _("Only agents, managers and administrators can join a group.")})
    membership, created = Membership.objects.get_or_create(group=group, user=user)
    user.__dict__.pop(selectors.GROUP_IDS_ATTR, None)  # selectors.group_ids_of read them before
    if created:
        audit.record("group.member_added", actor=by, target=group, changes={"member": [None, user.email]})
    return membership


@transaction.atomic
def remove_group_member(group: SupportGroup, *, user: User, by: User | None = None) -> None:
    permissions.require(by)
    removed, _rows = Membership.objects.filter(group=group, user=user).delete()
    user.__dict__.pop(selectors.GROUP_IDS_ATTR, None)  # selectors.group_ids_of read them before
    if removed:
        email = user.email or User.objects.filter(pk=user.pk).values_list("email", flat=True).first() or ""
        audit.record("group.member_removed", actor=by, target=group, changes={"member": [email, None]})


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


MAX_TOKEN_DAYS = 3650


@transaction.atomic
def create_api_token(
    user: User, *, scope: str = ApiToken.Scope.READ, name: str = "", by: User | None = None, days: int | None = None
) -> IssuedToken:
    """Issue a personal token. The plain secret is returned once; only its hash is kept. It expires
    after ``days`` days, by default after ``PALIER_TOKEN_DAYS`` (0: never)."""
    if by is not None and not permissions.can(by, "manage_tokens", user):
        raise PermissionDenied(_("You may only create tokens for yourself."))
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": _("The scope must be read, write or tokens.")})
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError({"days": _("A token lives from 1 to %(max)d days.") % {"max": MAX_TOKEN_DAYS}})
    if not user.is_active:
        raise ValidationError({"user": _("This account is deactivated.")})
    days = settings.PALIER_TOKEN_DAYS if days is None else days
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        scope=scope,
        prefix=secret[:12],
        digest=hash_token(secret),
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    audit.record(
        "token.created",
        actor=by,
        target=token,
        changes={"owner": [None, user.email], "scope": [None, scope], "expires_at": [None, token.expires_at]},
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def revoke_api_token(token: ApiToken, *, by: User | None = None) -> ApiToken:
    if by is not None and not permissions.can(by, "manage_tokens", token):
        raise PermissionDenied(_("You may only revoke your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("token.revoked", actor=by, target=token, changes={"owner": [None, token.user.email]})
    return token


# plain SQL: this runs on every API request, and the ORM spent longer building the query than
# the database spent answering it
_TOKEN_SQL = """
SELECT u.*, t.id AS token_id, t.name AS token_name, t.prefix AS token_prefix, t.scope AS token_scope,
       t.created_at AS token_created_at, t.last_used_at AS token_last_used_at,
       t.last_used_ip AS token_last_used_ip, t.expires_at AS token_expires_at
FROM people_apitoken t JOIN people_user u ON u.id = t.user_id
WHERE t.digest = %s AND t.revoked_at IS NULL AND u.is_active = %s AND (t.expires_at IS NULL OR t.expires_at > %s)
"""


def _timestamp(value: object) -> datetime | None:
    """A timestamp read by raw SQL: aware on PostgreSQL, naive UTC text on SQLite."""
    if value is None or isinstance(value, datetime):
        return value if value is None or timezone.is_aware(value) else timezone.make_aware(value, UTC)
    parsed = parse_datetime(str(value))
    return timezone.make_aware(parsed, UTC) if parsed is not None and timezone.is_naive(parsed) else parsed


def authenticate_token(secret: str, *, ip: str | None = None) -> ApiToken | None:
    """Return the active, unexpired token (with its user) for a presented secret, or None. Keeps
    the time and address of its last use, writing at most once a minute per token."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    digest = hash_token(secret)
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    user = next(iter(User.objects.raw(_TOKEN_SQL, [digest, True, at])), None)
    if user is None:
        return None
    row: Any = user  # the token's columns ride along on the user
    token = ApiToken(
        pk=row.token_id,
        user=user,
        name=row.token_name,
        prefix=row.token_prefix,
        digest=digest,
        scope=row.token_scope,
        created_at=_timestamp(row.token_created_at) or timezone.now(),
        last_used_at=_timestamp(row.token_last_used_at),
        last_used_ip=row.token_last_used_ip,
        expires_at=_timestamp(row.token_expires_at),
    )
    token._state.adding = False
    token._state.db = user._state.db
    previous = token.last_used_at
    if previous is None or (now - previous).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
        token.last_used_at, token.last_used_ip = now, ip
        if previous is None or previous.date() != now.date():  # the first use of the day (UTC)
            audit.record("token.used", actor=user, target=token, ip=ip)
    return token


@transaction.atomic
def set_group_members(group: SupportGroup, *, members: Sequence[User], by: User | None = None) -> SupportGroup:
    """Make ``members`` the exact member list of ``group``."""
    permissions.require(by)
    wanted = {user.pk: user for user in members}
    current = set(Membership.objects.filter(group=group).values_list("user_id", flat=True))
    for user_id in current - set(wanted):
        remove_group_member(group, user=User(pk=user_id), by=by)
    for user_id in set(wanted) - current:
        add_group_member(group, user=wanted[user_id], by=by)
    return group


@transaction.atomic
def create_group_with_members(
    *, name: str, level: int = 1, is_vendor: bool = False, members: Sequence[User] = (), by: User | None = None
) -> SupportGroup:
    """Create a support group and its first members in one transaction."""
    group = create_group(name=name, level=level, is_vendor=is_vendor, by=by)
    return set_group_members(group, members=members, by=by)


# --- administration pages -------------------------------------------------------------------------


def _check_department(organisation: Organisation | None, department: Department | None) -> None:
    if department is not None and department.organisation_id != getattr(organisation, "pk", None):
        raise ValidationError({"department": _("The department belongs to another organisation.")})


@transaction.atomic
def update_user_account(
    user: User,
    *,
    by: User | None,
    full_name: str,
    role: str,
    organisation: Organisation | None,
    department: Department | None,
    language: str,
    phone: str = "",
) -> User:
    """An administrator edits a user's name, role, organisation, department, language and phone."""
    permissions.require(by)
    _check_department(organisation, department)
    if by is not None and by.pk == user.pk and role != User.Role.ADMIN and not user.is_superuser:
        raise ValidationError({"role": _("You cannot remove your own administrator role.")})
    return update_user(
        user,
        by=by,
        full_name=full_name.strip(),
        role=role,
        organisation=organisation,
        department=department,
        language=language,
        phone=phone.strip(),
    )


@transaction.atomic
def set_user_active(user: User, *, active: bool, by: User | None) -> User:
    """Deactivate (the user can no longer sign in or use tokens; history stays) or reactivate."""
    permissions.require(by)
    if not active and by is not None and by.pk == user.pk:
        raise PermissionDenied(_("You cannot deactivate your own account."))
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record(
            "user.activated" if active else "user.deactivated",
            actor=by,
            target=user,
            changes={"is_active": [not active, active]},
        )
    if not active:  # signed out everywhere at once, and no token works any more
        sessions.end_sessions(user, by=None)
        sessions.revoke_tokens(user)
    return user


@transaction.atomic
def set_organisations_password_sign_in(*, off: set[int], by: User | None) -> list[str]:
    """Let the members of every organisation sign in with a password but those in ``off`` (ids).
    Returns the names of the organisations that changed (the sign-in policy service checks first
    that administrators keep a way in)."""
    permissions.require(by)
    changed: list[str] = []
    for organisation in Organisation.objects.select_for_update().order_by("pk"):
        allowed = organisation.pk not in off
        if organisation.password_sign_in != allowed:
            organisation.password_sign_in = allowed
            organisation.save(update_fields=["password_sign_in"])
            audit.record(
                "organisation.password_sign_in",
                actor=by,
                target=organisation,
                changes={"password_sign_in": [not allowed, allowed]},
            )
            changed.append(organisation.name)
    return changed


@transaction.atomic
def update_organisation(
    organisation: Organisation, *, by: User | None, name: str, email_domain: str = "", share_tickets: bool = False
) -> Organisation:
    permissions.require(by)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if Organisation.objects.filter(name__iexact=name).exclude(pk=organisation.pk).exists():
        raise Conflict(_("An organisation with this name already exists."), field="name")
    organisation.name = name
    organisation.email_domain = email_domain.strip().lower()
    organisation.share_tickets = share_tickets
    organisation.save(update_fields=["name", "email_domain", "share_tickets"])
    return organisation


@transaction.atomic
def update_group(
    group: SupportGroup,
    *,
    by: User | None,
    name: str,
    level: int,
    is_vendor: bool = False,
    email: str = "",
    manager: User | None = None,
    members: Sequence[User] = (),
    **routing: object,
) -> SupportGroup:
    """Edit a support group's name, level, vendor flag, contact, manager and exact member list,
    and (when given) its routing fields: ``ROUTING_FIELDS`` (assignment strategy, escalation
    group, internal target, vendor company, contacts, contract reference and targets)."""
    permissions.require(by)
    name = _clean_group_fields(name=name, level=level, is_vendor=is_vendor, exclude_pk=group.pk)
    if manager is not None and not manager.is_agent:
        raise ValidationError({"manager": _("The manager must be an agent, manager or administrator.")})
    group.name, group.level, group.is_vendor, group.email, group.manager = name, level, is_vendor, email, manager
    routing_fields = _clean_routing_fields(group, routing)
    for field_name, value in routing_fields.items():
        setattr(group, field_name, value)
    group.save(update_fields=["name", "level", "is_vendor", "email", "manager", *routing_fields])
    return set_group_members(group, members=members, by=by)


# who may still need a group (``GROUP_IN_USE`` of ``palier/events.py``): each is called with the
# group's id and says why it cannot be deleted, or ""
group_users: list[Callable[[int], str]] = []


@transaction.atomic
def delete_group(group: SupportGroup, *, by: User | None) -> None:
    """Delete a support group nothing needs any more. Refused (409) while it owns tickets, a
    routing or automation rule names it, another group escalates to it, or anything else keeps
    it: the reason says what to change first. Its memberships go with it; the audit keeps it."""
    permissions.require(by)
    reasons = [reason for check in group_users if (reason := check(group.pk))]
    if SupportGroup.objects.filter(escalation_group_id=group.pk).exists():
        reasons.append(_("Another group escalates to this one: change its escalation group first."))
    if reasons:
        raise Conflict(reasons[0])
    audit.record("deleted", actor=by, target=group, target_label=group.name)
    try:
        with transaction.atomic():
            group.delete()
    except ProtectedError as exc:
        raise Conflict(_("This group is still in use (a change board or a similar record needs it).")) from exc


@transaction.atomic
def set_user_groups(user: User, *, groups: Sequence[SupportGroup], by: User | None) -> User:
    """Make ``groups`` the exact list of support groups ``user`` belongs to (agents only)."""
    permissions.require(by)
    wanted = {group.pk: group for group in groups}
    current = set(Membership.objects.filter(user=user).values_list("group_id", flat=True))
    for group_id in sorted(current - set(wanted)):
        remove_group_member(SupportGroup.objects.get(pk=group_id), user=user, by=by)
    for group_id in sorted(set(wanted) - current):
        add_group_member(wanted[group_id], user=user, by=by)
    return user


ROUTING_FIELDS = (
    "assignment_strategy",
    "escalation_group",
    "internal_target_minutes",
    "vendor_company",
    "vendor_contacts",
    "contract_reference",
    "contract_response_minutes",
    "contract_resolution_minutes",
    "vendor_domains",
    "vendor_accept_domain",
    "vendor_reply_public",
    "vendor_reference_pattern",
)
VENDOR_FIELDS = (
    "vendor_company",
    "vendor_contacts",
    "contract_reference",
    "vendor_domains",
    "vendor_reference_pattern",
)
VENDOR_FLAGS = ("vendor_accept_domain", "vendor_reply_public")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


def _clean_routing_fields(group: SupportGroup, fields: dict[str, object]) -> dict[str, object]:
    """Check the routing fields of a group being saved (``group`` already carries its new level)."""
    unknown = set(fields) - set(ROUTING_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    cleaned = dict(fields)
    if cleaned.get("assignment_strategy") in ("", None):
        cleaned.pop("assignment_strategy", None)  # not given: keep the current strategy
    if "assignment_strategy" in cleaned and cleaned["assignment_strategy"] not in SupportGroup.Strategy.values:
        raise ValidationError({"assignment_strategy": _("Unknown assignment strategy.")})
    for name in ("internal_target_minutes", "contract_response_minutes", "contract_resolution_minutes"):
        value = cleaned.get(name)
        if value is not None and (not isinstance(value, int) or value <= 0):
            raise ValidationError({name: _("Enter a number of minutes above zero, or leave it empty.")})
    for name in VENDOR_FIELDS:
        if name in cleaned:
            cleaned[name] = str(cleaned[name] or "").strip()
    if "vendor_contacts" in cleaned:
        cleaned["vendor_contacts"] = _clean_contacts(str(cleaned["vendor_contacts"]))
    _clean_vendor_mail(group, cleaned)
    vendor_data = any(
        cleaned.get(n)
        for n in (*VENDOR_FIELDS, *VENDOR_FLAGS, "contract_response_minutes", "contract_resolution_minutes")
    )
    if vendor_data and not group.is_vendor:
        raise ValidationError({"is_vendor": _("Vendor details belong to external vendor groups (L4 and L5) only.")})
    if "escalation_group" in cleaned:
        _check_escalation_path(group, cleaned["escalation_group"])  # type: ignore[arg-type]
    return cleaned


def _clean_contacts(text: str) -> str:
    emails = [part.strip().lower() for part in text.replace(",", "\n").replace(";", "\n").splitlines() if part.strip()]
    for email in emails:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationError(
                {"vendor_contacts": _("“%(email)s” is not a valid email address.") % {"email": email}}
            ) from exc
    return "\n".join(dict.fromkeys(emails))


def _clean_vendor_mail(group: SupportGroup, cleaned: dict[str, object]) -> None:
    """The settings of the vendor's replies by email (``mail.vendors``), checked in place."""
    if "vendor_domains" in cleaned:
        cleaned["vendor_domains"] = _clean_domains(str(cleaned["vendor_domains"]))
    if "vendor_reference_pattern" in cleaned:
        cleaned["vendor_reference_pattern"] = refpattern.check(
            str(cleaned["vendor_reference_pattern"]), field="vendor_reference_pattern"
        )
    for name in VENDOR_FLAGS:
        if name in cleaned:
            cleaned[name] = bool(cleaned[name])
    accept = cleaned.get("vendor_accept_domain", group.vendor_accept_domain)
    if accept and not cleaned.get("vendor_domains", group.vendor_domains):
        raise ValidationError({"vendor_domains": _("Give the vendor's mail domains to accept replies from them.")})


def _clean_domains(text: str) -> str:
    """One domain per line, lower-case, without "@"; a look-alike of a real domain is the admin's
    to spot, a malformed one (spaces, "*", a path, an address) is refused."""
    domains = [part.strip().lower().lstrip("@").rstrip(".") for part in text.replace(",", "\n").split() if part.strip()]
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise ValidationError(
                {
                    "vendor_domains": _("“%(domain)s” is not a mail domain (for example vendor.com).")
                    % {"domain": domain}
                }
            )
    return "\n".join(dict.fromkeys(domains))


def _check_escalation_path(group: SupportGroup, target: SupportGroup | None) -> None:
    """Refuse an escalation group that is the group itself, a lower level, or leads back to it."""
    if target is None:
        return
    if target.pk == group.pk:
        raise ValidationError({"escalation_group": _("A group cannot escalate to itself.")})
    if target.level < group.level:
        raise ValidationError({"escalation_group": _("A group cannot escalate to a lower level.")})
    seen = {group.pk}
    current: SupportGroup | None = target
    while current is not None:
        if current.pk in seen:
            raise ValidationError(
                {
                    "escalation_group": _("This would make a loop: “%(name)s” already escalates back here.")
                    % {"name": target.name}
                }
            )
        seen.add(current.pk)
        current = (
            SupportGroup.objects.filter(pk=current.escalation_group_id).first() if current.escalation_group_id else None
        )


def system_account(*, email: str, full_name: str) -> User:
    """The account Palier acts as for one channel (``mail-robot@palier.invalid``, …): an
    administrator for the ticket services' permission checks, but without a usable password, with
    an address nobody receives mail at, and hidden from people lists. Created on first use; a row
    that already has the address (made before the address was reserved) is made that account:
    administrator, system, no password."""
    if not is_reserved_email(email):
        raise ValueError(f"system accounts use reserved addresses, not {email!r}")
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, full_name=full_name, role=User.Role.ADMIN, language="fr", is_system=True)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # created at the same moment by another process: use that one
            user = User.objects.get(email__iexact=email)
        else:
            return user
    if not user.is_system or user.role != User.Role.ADMIN or user.is_staff or user.has_usable_password():
        user.is_system, user.role, user.is_staff = True, User.Role.ADMIN, False
        user.set_unusable_password()
        user.save(update_fields=["is_system", "role", "is_staff", "password"])
    return user


# --- the API's partial changes --------------------------------------------------------------------

ACCOUNT_FIELDS = ("full_name", "role", "organisation", "department", "language", "phone")


@transaction.atomic
def change_user(
    user: User,
    *,
    by: User | None,
    groups: Sequence[SupportGroup] | None = None,
    is_active: bool | None = None,
    **fields: Any,
) -> User:
    """Change only the fields given (the API's PATCH): the account fields through
    ``update_user_account`` (the page's rules), the exact group list, and active or not."""
    permissions.require(by)
    unknown = set(fields) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    if fields:
        current = {name: getattr(user, name) for name in ACCOUNT_FIELDS}
        update_user_account(user, by=by, **{**current, **fields})
    if groups is not None:
        set_user_groups(user, groups=groups, by=by)
    if is_active is not None:
        set_user_active(user, active=is_active, by=by)
    return user


GROUP_FIELDS = ("name", "level", "is_vendor", "email", "manager")


@transaction.atomic
def change_group(
    group: SupportGroup, *, by: User | None, members: Sequence[User] | None = None, **fields: Any
) -> SupportGroup:
    """Change only the fields given (the API's PATCH) through ``update_group`` (the page's rules);
    ``members``, when given, is the exact member list."""
    permissions.require(by)
    current: dict[str, Any] = {name: getattr(group, name) for name in (*GROUP_FIELDS, *ROUTING_FIELDS)}
    if members is None:
        members = list(group.members.all())
    return update_group(group, by=by, members=members, **{**current, **fields})
