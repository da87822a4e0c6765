"""Directory sync: people, organisations, departments and support group memberships from an LDAP
directory or Active Directory (``palier directory-sync``, the ``directory-sync`` periodic job, and
the admin page's "sync now" and "dry run").

A run reads every person the sync filter finds (paged), plans, then applies the plan in one
transaction, or only returns it (dry run). It only ever touches accounts this directory created
or linked (``ExternalIdentity`` rows of the provider): a person missing from the directory is
deactivated, never deleted, and accounts of other origins are never changed. A run changes
nothing when the directory cannot be read, when it lists no one while people are linked, or when
more than ``max_shrink_percent`` of the linked people would be deactivated at once (a wrong filter
or base must not lock everyone out). Every run is a ``DirectorySyncRun`` row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.identity import ldap
from palier.identity.models import DirectorySyncRun, ExternalIdentity, Provider
from palier.identity.provisioning import (
    SignInRefused,
    _link_or_create,
    apply_groups,
    mapped_role,
    mapped_support_groups,
)
from palier.lib.errors import DomainError
from palier.people import services as people
from palier.people.models import Department, Organisation, User

log = logging.getLogger("palier.identity.directory")

MAX_CHANGES_KEPT = 1000
KEEP_RUNS = timedelta(days=90)


@dataclass
class Plan:
    found: int = 0
    create: list[ldap.Entry] = field(default_factory=list)
    link: list[ldap.Entry] = field(default_factory=list)
    update: list[tuple[ExternalIdentity, ldap.Entry, list[str]]] = field(default_factory=list)
    deactivate: list[ExternalIdentity] = field(default_factory=list)
    skip: list[tuple[ldap.Entry, str]] = field(default_factory=list)
    unchanged: int = 0


class SyncRefused(Exception):
    """The run would be unsafe or cannot read the directory; nothing is changed."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


# --- reading and planning ------------------------------------------------------------------------------


def read_directory(provider: Provider, config: dict[str, Any]) -> list[ldap.Entry]:
    try:
        conn = ldap.service_connection(provider, config)
        try:
            return list(ldap.iter_people(conn, config))
        finally:
            ldap.close(conn)
    except ldap.DirectoryUnavailable as exc:
        raise SyncRefused(DirectorySyncRun.Status.FAILED, str(exc)) from exc


def _organisation_changes(user: User, entry: ldap.Entry) -> list[str]:
    changes: list[str] = []
    current_org = user.organisation.name if user.organisation else ""
    if entry.organisation and entry.organisation.lower() != current_org.lower():
        changes.append(_("organisation: %(old)s → %(new)s") % {"old": current_org or "—", "new": entry.organisation})
    current_dept = user.department.name if user.department else ""
    if entry.department and (entry.department.lower() != current_dept.lower() or changes):
        changes.append(_("department: %(old)s → %(new)s") % {"old": current_dept or "—", "new": entry.department})
    return changes


def _group_changes(user: User, provider: Provider, entry: ldap.Entry) -> list[str]:
    if not provider.sync_groups:
        return []
    changes: list[str] = []
    role = mapped_role(provider, entry.groups) or provider.default_role
    if role != user.role and not user.is_superuser:
        changes.append(_("role: %(old)s → %(new)s") % {"old": user.role, "new": role})
    managed = mapped_support_groups(provider, (provider.group_map or {}).keys())
    wanted = mapped_support_groups(provider, entry.groups)
    current = {group.name for group in user.support_groups.all()} & managed
    changes += [_("joins %(group)s") % {"group": name} for name in sorted(wanted - current)]
    changes += [_("leaves %(group)s") % {"group": name} for name in sorted((current - wanted) & managed)]
    return changes


def _changes_for(identity: ExternalIdentity, provider: Provider, entry: ldap.Entry) -> list[str]:
    user = identity.user
    changes: list[str] = []
    if not user.is_active:
        if not identity.deactivated_by_sync:
            return []  # an administrator deactivated this account: the sync leaves it alone
        changes.append(_("reactivated: back in the directory"))
    if entry.full_name and entry.full_name != user.full_name:
        changes.append(_("name: %(old)s → %(new)s") % {"old": user.full_name or "—", "new": entry.full_name})
    return changes + _organisation_changes(user, entry) + _group_changes(user, provider, entry)


def _classify(provider: Provider, entry: ldap.Entry, existing: User | None, result: Plan) -> None:
    """A person new to this directory's accounts: created, linked to the account with their address
    (only when the provider allows it), or skipped with the reason."""
    if not entry.email:
        result.skip.append((entry, _("no email address in the directory")))
        return
    if existing is not None:
        if existing.is_system or not provider.link_verified_email:
            result.skip.append((entry, _("an account with this address exists and linking is off")))
        else:
            result.link.append(entry)
    elif provider.create_accounts:
        result.create.append(entry)
    else:
        result.skip.append((entry, _("account creation is off")))


def plan(provider: Provider, entries: list[ldap.Entry], config: dict[str, Any]) -> Plan:
    """What a run would change, or ``SyncRefused`` when applying it would be unsafe."""
    result = Plan(found=len(entries))
    identities = {
        identity.subject: identity
        for identity in ExternalIdentity.objects.filter(provider=provider)
        .select_related("user__organisation", "user__department")
        .prefetch_related("user__support_groups")
    }
    emails = [entry.email for entry in entries if entry.email and entry.subject not in identities]
    users = {user.email.lower(): user for user in User.objects.filter(email__in=emails)}
    seen: set[str] = set()
    for entry in entries:
        if entry.subject in seen:
            continue
        seen.add(entry.subject)
        identity = identities.get(entry.subject)
        if identity is None:
            _classify(provider, entry, users.get(entry.email), result)
            continue
        changes = _changes_for(identity, provider, entry)
        if changes:
            result.update.append((identity, entry, changes))
        else:
            result.unchanged += 1
    active = [identity for identity in identities.values() if identity.user.is_active]
    result.deactivate = [
        identity
        for identity in active
        if identity.subject not in seen and not identity.user.is_superuser and not identity.user.is_system
    ]
    _check_safe(len(active), len(result.deactivate), len(entries), config)
    return result


def _check_safe(active: int, leaving: int, found: int, config: dict[str, Any]) -> None:
    if active and not found:
        raise SyncRefused(
            DirectorySyncRun.Status.REFUSED,
            _("The directory listed no one while %(count)d people are linked to it: check the base and the filter.")
            % {"count": active},
        )
    limit = config["max_shrink_percent"]
    if active and leaving * 100 > active * limit:
        raise SyncRefused(
            DirectorySyncRun.Status.REFUSED,
            _(
                "%(leaving)d of %(count)d linked people are missing from the directory, more than the "
                "%(limit)d%% allowed at once: nothing was changed. Check the base and the filter, or raise the limit."
            )
            % {"leaving": leaving, "count": active, "limit": limit},
        )


# --- applying -----------------------------------------------------------------------------------------


def _place(user: User, entry: ldap.Entry, config: dict[str, Any]) -> None:
    """Set the organisation and department the directory names (created when allowed)."""
    if not entry.organisation:
        return
    organisation = Organisation.objects.filter(name__iexact=entry.organisation).first()
    if organisation is None:
        if not config["create_organisations"]:
            return
        organisation = people.create_organisation(name=entry.organisation)
    department: Department | None = user.department if user.organisation_id == organisation.pk else None
    if entry.department:
        department = Department.objects.filter(organisation=organisation, name__iexact=entry.department).first()
        if department is None:
            department = people.create_department(organisation=organisation, name=entry.department)
    if user.organisation_id != organisation.pk or user.department_id != getattr(department, "pk", None):
        people.update_user(user, by=None, organisation=organisation, department=department)


def _create(provider: Provider, entry: ldap.Entry, config: dict[str, Any]) -> tuple[str, str]:
    """Create or link the account of a person new to Palier; (action, detail)."""
    linked = User.objects.filter(email__iexact=entry.email).exists()
    try:
        with transaction.atomic():
            user = _link_or_create(provider, entry.claims(), entry.email)
            ExternalIdentity.objects.create(provider=provider, subject=entry.subject, user=user, email=entry.email)
    except SignInRefused as refused:
        return "skip", str(refused)
    _place(user, entry, config)
    if provider.sync_groups:
        apply_groups(user, provider, entry.groups)
    return ("link" if linked else "create"), entry.full_name


def _update(
    provider: Provider, identity: ExternalIdentity, entry: ldap.Entry, config: dict[str, Any], detail: str
) -> tuple[str, str]:
    user = identity.user
    if not user.is_active and identity.deactivated_by_sync:
        people.set_user_active(user, active=True, by=None)
        identity.deactivated_by_sync = False
        identity.save(update_fields=["deactivated_by_sync"])
    if entry.full_name and entry.full_name != user.full_name:
        people.update_user(user, by=None, full_name=entry.full_name)
    _place(user, entry, config)
    if provider.sync_groups:
        apply_groups(user, provider, entry.groups)
    if entry.email and entry.email != identity.email:
        identity.email = entry.email
        identity.save(update_fields=["email"])
    return "update", detail


_COUNTERS = {"create": "created", "link": "linked", "skip": "skipped", "update": "updated", "deactivate": "deactivated"}


def _apply(provider: Provider, work: Plan, config: dict[str, Any], run: DirectorySyncRun) -> list[dict[str, str]]:
    lines: list[dict[str, str]] = []

    def attempt(email: str, step: Callable[[], tuple[str, str]]) -> None:
        """One person's changes in a savepoint: a person Palier refuses (a requester mapped to a
        support group…) is reported and the others still sync."""
        try:
            with transaction.atomic():
                action, detail = step()
        except (ValidationError, DomainError) as exc:
            action, detail = "skip", "; ".join(getattr(exc, "messages", None) or [str(exc)])
        counter = _COUNTERS[action]
        setattr(run, counter, getattr(run, counter) + 1)
        lines.append({"action": action, "email": email, "detail": detail})

    for entry in [*work.create, *work.link]:
        attempt(entry.email, partial(_create, provider, entry, config))
    for identity, entry, changes in work.update:
        attempt(identity.user.email, partial(_update, provider, identity, entry, config, "; ".join(changes)))
    for identity in work.deactivate:
        attempt(identity.user.email, partial(_deactivate, identity))
    return lines


def _deactivate(identity: ExternalIdentity) -> tuple[str, str]:
    people.set_user_active(identity.user, active=False, by=None)
    identity.deactivated_by_sync = True
    identity.save(update_fields=["deactivated_by_sync"])
    return "deactivate", _("missing from the directory")


def _preview(work: Plan, run: DirectorySyncRun) -> list[dict[str, str]]:
    run.created = len(work.create)
    run.linked = len(work.link)
    run.updated = len(work.update)
    run.deactivated = len(work.deactivate)
    lines = [{"action": "create", "email": entry.email, "detail": entry.full_name} for entry in work.create]
    lines += [{"action": "link", "email": entry.email, "detail": entry.full_name} for entry in work.link]
    lines += [
        {"action": "update", "email": identity.user.email, "detail": "; ".join(changes)}
        for identity, _entry, changes in work.update
    ]
    lines += [
        {"action": "deactivate", "email": identity.user.email, "detail": _("missing from the directory")}
        for identity in work.deactivate
    ]
    return lines


def sync(provider: Provider, *, dry_run: bool = False, by: User | None = None) -> DirectorySyncRun:
    """Run the sync of one directory (or only plan it: ``dry_run``); the run is recorded and returned."""
    run = DirectorySyncRun(provider=provider, dry_run=dry_run, by=by)
    lines: list[dict[str, str]] = []
    try:
        if not dry_run and not provider.enabled:
            raise SyncRefused(DirectorySyncRun.Status.REFUSED, _("This directory is switched off: enable it first."))
        config = ldap.settings_of(provider)
        entries = read_directory(provider, config)
        with transaction.atomic():
            work = plan(provider, entries, config)
            run.found = work.found
            lines = _preview(work, run) if dry_run else _apply(provider, work, config, run)
        run.skipped += len(work.skip)
        lines += [{"action": "skip", "email": entry.email or entry.dn, "detail": reason} for entry, reason in work.skip]
    except ldap.DirectoryUnavailable as exc:
        run.status, run.error = DirectorySyncRun.Status.FAILED, str(exc)
    except SyncRefused as refused:
        run.status, run.error = refused.status, str(refused)
    if run.status != DirectorySyncRun.Status.OK:
        log.error("directory sync of %s changed nothing: %s", provider.slug, run.error)
        run.created = run.linked = run.updated = run.deactivated = 0
    run.changes = lines[:MAX_CHANGES_KEPT]
    run.finished_at = timezone.now()
    run.save()
    # an hourly job: keep three months of runs
    DirectorySyncRun.objects.filter(provider=provider, started_at__lt=run.finished_at - KEEP_RUNS).delete()
    if not dry_run:
        audit.record(
            "identity.directory_synced",
            actor=by,
            target=provider,
            changes={
                "status": [None, run.status],
                "counts": [None, f"+{run.created} ~{run.updated} -{run.deactivated} ={run.linked} !{run.skipped}"],
            },
        )
    return run


def sync_all() -> list[DirectorySyncRun]:
    """The periodic job: every enabled directory whose sync is on."""
    runs = []
    for provider in Provider.objects.filter(kind=Provider.Kind.LDAP, enabled=True).order_by("position", "pk"):
        if (provider.config or {}).get("sync", True):
            runs.append(sync(provider))
    return runs
