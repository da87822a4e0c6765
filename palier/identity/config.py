"""Providers from a configuration file, for people who deploy with files rather than pages.

``PALIER_IDENTITY_CONFIG`` names a TOML file; ``palier identity load-config`` (and ``palier up``
before it starts the server) reads it into ``Provider`` rows marked ``from_environment``, which
the admin pages show read-only. Every provider of the file is checked first (the shared fields
here, the kind's settings by its module's ``clean_config``): one error and nothing changes.
Secrets are never in the file, only the name of the ``PALIER_SECRET_…`` variable holding them.
A provider that was in the file before and is not any more is switched off, not deleted (the
accounts' links to it stay)::

    [providers.entra]
    kind = "oidc"
    name = "Contoso"
    enabled = true
    label_en = "Sign in with Contoso"
    secret_env = "PALIER_SECRET_ENTRA"
    default_role = "requester"
    default_organisation = "Contoso"      # an organisation's name
    sync_groups = true
    role_map = { "helpdesk-agents" = "agent" }
    group_map = { "helpdesk-agents" = ["Service desk"] }

    [providers.entra.config]
    issuer = "https://login.microsoftonline.com/<tenant id>/v2.0"
    client_id = "…"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from palier.audit import services as audit
from palier.identity import kinds
from palier.identity.models import Provider
from palier.mail import secrets as stored_secrets
from palier.people.models import Organisation, User

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
BOOLEANS = (
    "enabled", "create_accounts", "organisation_by_domain", "link_verified_email", "sync_groups", "satisfies_mfa",
)  # fmt: skip
TEXTS = {"name": 200, "label_en": 100, "label_fr": 100, "secret_env": 100}
KEYS = {"kind", "config", "position", "default_role", "default_organisation", "role_map", "group_map"}
KEYS |= set(BOOLEANS) | set(TEXTS)
SECRET_WORDS = ("secret", "password", "private_key")


class ConfigError(Exception):
    """The file cannot be loaded; ``errors`` lists every problem as "where: what"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Loaded:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    switched_off: list[str] = field(default_factory=list)


def read(path: Path) -> dict[str, dict[str, Any]]:
    """The providers of the file, by identifier; ``ConfigError`` when it is not readable TOML."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror or exc})"]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: not valid TOML ({exc})"]) from exc
    extra = sorted(set(data) - {"providers"})
    if extra:
        raise ConfigError([f"{path}: unknown section {', '.join(extra)} (only [providers.<identifier>])"])
    providers = data.get("providers", {})
    if not isinstance(providers, dict) or not all(isinstance(v, dict) for v in providers.values()):
        raise ConfigError([f"{path}: providers must be tables, [providers.<identifier>]"])
    return providers


def _secret_keys(table: dict[str, Any], where: str) -> list[str]:
    found = []
    for key, value in table.items():
        if key != "secret_env" and any(word in key.lower() for word in SECRET_WORDS):
            found.append(f"{where}.{key}: secrets are never written in the file; set secret_env to the name of a "
                         f"{stored_secrets.ENV_PREFIX}… variable")  # fmt: skip
        if isinstance(value, dict):
            found.extend(_secret_keys(value, f"{where}.{key}"))
    return found


def _kind_module(kind: object, where: str) -> Any:
    if kind not in kinds.MODULES:
        raise ValueError(f"{where}.kind: must be one of {', '.join(sorted(kinds.MODULES))}")
    try:
        return kinds.module(str(kind))
    except ModuleNotFoundError as exc:
        if exc.name != kinds.MODULES[str(kind)]:
            raise
        raise ValueError(f"{where}.kind: {kind} providers are not available in this version of Palier") from exc


def _check_maps(table: dict[str, Any], where: str) -> list[str]:
    errors = []
    roles = set(User.Role.values)
    role_map = table.get("role_map", {})
    if not isinstance(role_map, dict) or not all(isinstance(v, str) and v in roles for v in role_map.values()):
        errors.append(f"{where}.role_map: a table of group = role, the role one of {', '.join(sorted(roles))}")
    group_map = table.get("group_map", {})
    if not isinstance(group_map, dict) or not all(
        isinstance(v, list) and all(isinstance(n, str) for n in v) for v in group_map.values()
    ):
        errors.append(f'{where}.group_map: a table of group = ["support group", …]')
    return errors


def _check_fields(table: dict[str, Any], where: str) -> list[str]:
    errors = [f"{where}.{key}: unknown setting" for key in sorted(set(table) - KEYS)]
    errors += [f"{where}.{key}: true or false" for key in BOOLEANS if key in table and not isinstance(table[key], bool)]
    for key, limit in TEXTS.items():
        if key in table and (not isinstance(table[key], str) or len(table[key]) > limit):
            errors.append(f"{where}.{key}: text of at most {limit} characters")
    if not isinstance(table.get("name", ""), str) or not table.get("name"):
        errors.append(f"{where}.name: required")
    if "position" in table and (not isinstance(table["position"], int) or table["position"] < 0):
        errors.append(f"{where}.position: a whole number, 0 or more")
    if table.get("default_role", "requester") not in User.Role.values:
        errors.append(f"{where}.default_role: one of {', '.join(User.Role.values)}")
    env = table.get("secret_env", "")
    if env and isinstance(env, str) and not stored_secrets.env_name_allowed(env):
        errors.append(f"{where}.secret_env: the variable's name must start with {stored_secrets.ENV_PREFIX}")
    org = table.get("default_organisation")
    if org is not None and not Organisation.objects.filter(name=org).exists():
        errors.append(f"{where}.default_organisation: no organisation is named {org!r}")
    return errors + _check_maps(table, where) + _secret_keys(table, where)


def validate(providers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each provider's row values, checked; ``ConfigError`` with every problem found."""
    errors: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    for slug, table in providers.items():
        where = f"providers.{slug}"
        if not SLUG.match(slug):
            errors.append(f"{where}: the identifier may hold lower-case letters, digits, - and _ (50 at most)")
            continue
        problems = _check_fields(table, where)
        try:
            module = _kind_module(table.get("kind"), where)
            config = module.clean_config(dict(table.get("config") or {}))
        except ValueError as exc:
            problems.append(str(exc))
        except ValidationError as exc:
            details = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            problems += [
                f"{where}.config.{key}: {' '.join(texts)}".replace(".config.:", ".config:")
                for key, texts in details.items()
            ]
        errors += problems
        if not problems:
            rows[slug] = {**table, "config": config}
    if errors:
        raise ConfigError(errors)
    return rows


def _values(table: dict[str, Any]) -> dict[str, Any]:
    org = table.get("default_organisation")
    return {
        "kind": table["kind"],
        "name": table["name"],
        "label_en": table.get("label_en", ""),
        "label_fr": table.get("label_fr", ""),
        "position": table.get("position", 0),
        "config": table["config"],
        "secret": "",
        "secret_env": table.get("secret_env", ""),
        "enabled": table.get("enabled", True),
        "create_accounts": table.get("create_accounts", True),
        "default_role": table.get("default_role", User.Role.REQUESTER),
        "default_organisation": Organisation.objects.get(name=org) if org is not None else None,
        "organisation_by_domain": table.get("organisation_by_domain", True),
        "link_verified_email": table.get("link_verified_email", False),
        "sync_groups": table.get("sync_groups", False),
        "role_map": table.get("role_map", {}),
        "group_map": table.get("group_map", {}),
        "satisfies_mfa": table.get("satisfies_mfa", False),
        "from_environment": True,
    }


def load(path: Path, *, dry_run: bool = False) -> Loaded:
    """Bring the providers' rows in line with the file (nothing when ``dry_run``)."""
    rows = validate(read(path))
    taken = sorted(Provider.objects.filter(slug__in=rows, from_environment=False).values_list("slug", flat=True))
    if taken:
        raise ConfigError([f"providers.{slug}: an administrator already made a provider with this identifier on "
                           "the admin pages; rename one of them" for slug in taken])  # fmt: skip
    loaded = Loaded()
    with transaction.atomic():
        existing = {p.slug: p for p in Provider.objects.select_for_update().filter(from_environment=True)}
        for slug, table in rows.items():
            values = _values(table)
            provider = existing.get(slug)
            if provider is None:
                loaded.created.append(slug)
                if not dry_run:
                    Provider.objects.create(slug=slug, **values)
            elif any(getattr(provider, k) != v for k, v in values.items()):
                loaded.updated.append(slug)
                if not dry_run:
                    Provider.objects.filter(pk=provider.pk).update(**values)
            else:
                loaded.unchanged.append(slug)
        for slug, provider in existing.items():
            if slug not in rows and provider.enabled:
                loaded.switched_off.append(slug)
                if not dry_run:
                    Provider.objects.filter(pk=provider.pk).update(enabled=False)
        if not dry_run and (loaded.created or loaded.updated or loaded.switched_off):
            audit.record(
                "identity.config_loaded",
                actor=None,
                target_type="file",
                target_label=str(path)[:200],
                changes={k: [None, v] for k, v in vars(loaded).items() if v and k != "unchanged"},
            )
    return loaded
