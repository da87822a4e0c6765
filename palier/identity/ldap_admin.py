"""Administration of the LDAP / Active Directory providers: the reads and writes behind the pages
at ``/agent/identity/ldap/`` (administrators only). Settings are checked by ``ldap.clean_config``;
the service account's password is stored encrypted and never shown again."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.identity import directory, ldap
from palier.identity.kinds import Check
from palier.identity.models import DirectorySyncRun, Provider
from palier.identity.provisioning import ROLE_RANK
from palier.mail import secrets
from palier.people.models import SupportGroup, User
from palier.people.permissions import require_admin

# the Provider columns an administrator sets on these pages (the rest is ``config``)
FIELDS = (
    "slug",
    "name",
    "enabled",
    "position",
    "create_accounts",
    "default_role",
    "default_organisation",
    "organisation_by_domain",
    "link_verified_email",
    "sync_groups",
    "role_map",
    "group_map",
)


# --- reads ---------------------------------------------------------------------------------------------


def ldap_providers() -> QuerySet[Provider]:
    return Provider.objects.filter(kind=Provider.Kind.LDAP).order_by("position", "name")


def get_ldap_provider(pk: int) -> Provider:
    provider = ldap_providers().filter(pk=pk).first()
    if provider is None:
        raise Http404
    return provider


def recent_runs(provider: Provider, *, limit: int = 10) -> list[DirectorySyncRun]:
    return list(DirectorySyncRun.objects.filter(provider=provider).select_related("by")[:limit])


def get_run(provider: Provider, pk: int) -> DirectorySyncRun | None:
    return DirectorySyncRun.objects.filter(provider=provider, pk=pk).first()


def last_runs(providers: list[Provider]) -> dict[int, DirectorySyncRun]:
    """Each provider's latest run (real or dry), by provider id."""
    latest = DirectorySyncRun.objects.filter(provider=OuterRef("provider_id")).order_by("-started_at", "-pk")
    runs = DirectorySyncRun.objects.filter(provider__in=providers, pk=Subquery(latest.values("pk")[:1]))
    return {run.provider_id: run for run in runs}


# --- writes --------------------------------------------------------------------------------------------


def _require(by: User | None) -> None:
    require_admin(by, message=_("Only administrators can manage sign-in providers."))


def _check_maps(role_map: dict[str, Any], group_map: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    bad_roles = sorted({str(role) for role in role_map.values() if role not in ROLE_RANK})
    if bad_roles:
        errors["role_map"] = _("Unknown roles: %(roles)s.") % {"roles": ", ".join(bad_roles)}
    names = {str(name) for value in group_map.values() for name in ([value] if isinstance(value, str) else value)}
    missing = sorted(names - set(SupportGroup.objects.filter(name__in=names).values_list("name", flat=True)))
    if missing:
        errors["group_map"] = _("No support group is named %(names)s.") % {"names": ", ".join(missing)}
    if errors:
        raise ValidationError(errors)


def _check_secret(secret_env: str) -> None:
    if secret_env and not secrets.env_name_allowed(secret_env):
        raise ValidationError(
            {"secret_env": _("The variable's name must start with %(prefix)s.") % {"prefix": secrets.ENV_PREFIX}}
        )


def _write(provider: Provider, fields: dict[str, Any], config: dict[str, Any], secret: str, secret_env: str) -> None:
    _check_maps(fields.get("role_map") or {}, fields.get("group_map") or {})
    _check_secret(secret_env)
    slug = str(fields.get("slug", provider.slug))
    if Provider.objects.filter(slug=slug).exclude(pk=provider.pk).exists():
        raise ValidationError({"slug": _("Another sign-in provider has this identifier.")})
    for name, value in fields.items():
        setattr(provider, name, value)
    provider.config = ldap.clean_config(config)
    provider.secret_env = secret_env
    if secret:
        provider.secret = secrets.encrypt(secret)
    provider.save()


@transaction.atomic
def create_ldap_provider(
    *, fields: dict[str, Any], config: dict[str, Any], secret: str = "", secret_env: str = "", by: User | None
) -> Provider:
    _require(by)
    provider = Provider(kind=Provider.Kind.LDAP)
    _write(provider, fields, config, secret, secret_env)
    audit.record(
        "identity.provider_created",
        actor=by,
        target=provider,
        changes={"slug": [None, provider.slug], "url": [None, provider.config["url"]]},
    )
    return provider


@transaction.atomic
def update_ldap_provider(
    provider: Provider,
    *,
    fields: dict[str, Any],
    config: dict[str, Any],
    secret: str = "",
    secret_env: str = "",
    by: User | None,
) -> Provider:
    _require(by)
    if provider.from_environment:
        raise ValidationError(_("This directory is defined by environment variables: change it there."))
    before = {"config": dict(provider.config or {}), **{name: getattr(provider, name) for name in fields}}
    _write(provider, fields, config, secret, secret_env)
    after = {"config": provider.config, **{name: getattr(provider, name) for name in fields}}
    changes: dict[str, Any] = {name: [before[name], value] for name, value in after.items() if before[name] != value}
    if secret:
        changes["secret"] = ["***", "***"]
    audit.record("identity.provider_changed", actor=by, target=provider, changes=_plain(changes))
    return provider


def _plain(changes: dict[str, Any]) -> dict[str, Any]:
    """Model instances as their names, for the audit log."""
    return {key: [value if isinstance(value, str | int | bool | dict | list | None) else str(value) for value in pair]
            for key, pair in changes.items()}  # fmt: skip


@transaction.atomic
def set_enabled(provider: Provider, *, enabled: bool, by: User | None) -> Provider:
    _require(by)
    if enabled:
        ldap.clean_config(provider.config or {})  # a provider saved before a rule changed is checked again
    if provider.enabled != enabled:
        provider.enabled = enabled
        provider.save(update_fields=["enabled", "updated_at"])
        audit.record(
            "identity.provider_enabled" if enabled else "identity.provider_disabled",
            actor=by,
            target=provider,
            changes={"enabled": [not enabled, enabled]},
        )
    return provider


@transaction.atomic
def delete_ldap_provider(provider: Provider, *, by: User | None) -> None:
    """Delete a directory: its links to accounts go, the accounts stay (with their Palier password,
    if any)."""
    _require(by)
    if provider.from_environment:
        raise ValidationError(_("This directory is defined by environment variables: remove it there."))
    audit.record(
        "identity.provider_deleted",
        actor=by,
        target=provider,
        changes={"slug": [provider.slug, None], "accounts": [provider.identities.count(), 0]},
    )
    provider.delete()


def run_sync(provider: Provider, *, dry_run: bool, by: User | None) -> DirectorySyncRun:
    """The page's "sync now" and "dry run" (recorded like the scheduled runs)."""
    _require(by)
    return directory.sync(provider, dry_run=dry_run, by=by)


def check(provider: Provider, *, by: User | None) -> list[Check]:
    """The page's "test this provider"."""
    _require(by)
    return ldap.test_provider(provider)
