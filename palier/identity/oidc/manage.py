"""The administrators' reads and writes of OpenID Connect providers: list, one provider, create,
change, switch on or off, delete. The client secret is write-only (stored encrypted, or the name
of a ``PALIER_SECRET_…`` variable); a provider from the configuration file is read-only here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.identity.models import Provider
from palier.identity.oidc.options import clean_config
from palier.mail import secrets as stored_secrets
from palier.people.models import User
from palier.people.permissions import require_admin

# the columns an administrator sets (the kind's own settings go in ``config``)
FIELDS = (
    "slug", "name", "enabled", "label_en", "label_fr", "position", "create_accounts", "default_role",
    "default_organisation", "organisation_by_domain", "link_verified_email", "sync_groups", "role_map",
    "group_map", "satisfies_mfa",
)  # fmt: skip


def providers() -> QuerySet[Provider]:
    return Provider.objects.filter(kind=Provider.Kind.OIDC).select_related("default_organisation")


def get_provider(pk: int) -> Provider:
    provider = providers().filter(pk=pk).first()
    if provider is None:
        raise Http404
    return provider


def for_sign_in(slug: str) -> Provider:
    """The provider a sign-in address names (404 when there is none of this kind)."""
    provider = Provider.objects.filter(kind=Provider.Kind.OIDC, slug=slug).first()
    if provider is None:
        raise Http404
    return provider


def by_slug(slug: str) -> Provider | None:
    return Provider.objects.filter(slug=slug).first()


def _check_admin(by: User | None, provider: Provider | None = None) -> None:
    require_admin(by, message=_("Only administrators manage sign-in providers."))
    if provider is not None and provider.from_environment:
        raise PermissionDenied(_("This provider comes from the configuration file: change it there."))


def _apply_secret(provider: Provider, client_secret: str, client_secret_env: str) -> None:
    if client_secret_env:
        if not stored_secrets.env_name_allowed(client_secret_env):
            raise ValidationError(
                {
                    "client_secret_env": _("The variable's name must start with %(p)s.")
                    % {"p": stored_secrets.ENV_PREFIX}
                }
            )
        provider.secret_env, provider.secret = client_secret_env, ""
    elif client_secret:
        provider.secret, provider.secret_env = stored_secrets.encrypt(client_secret), ""


def _save(provider: Provider, *, fields: dict[str, Any], config: dict[str, Any], secret: str, secret_env: str) -> None:
    for name in FIELDS:
        if name in fields:
            setattr(provider, name, fields[name])
    provider.kind = Provider.Kind.OIDC
    provider.config = clean_config(config)
    _apply_secret(provider, secret, secret_env)
    if Provider.objects.exclude(pk=provider.pk).filter(slug=provider.slug).exists():
        raise ValidationError({"slug": _("Another provider already uses this identifier.")})
    provider.full_clean(exclude=["config", "secret"])
    provider.save()


@transaction.atomic
def create_provider(
    *, by: User | None, config: dict[str, Any], client_secret: str = "", client_secret_env: str = "", **fields: Any
) -> Provider:
    _check_admin(by)
    provider = Provider()
    _save(provider, fields=fields, config=config, secret=client_secret, secret_env=client_secret_env)
    audit.record("identity.provider_created", actor=by, target=provider, changes=_summary(provider))
    return provider


@transaction.atomic
def update_provider(
    provider: Provider,
    *,
    by: User | None,
    config: dict[str, Any],
    client_secret: str = "",
    client_secret_env: str = "",
    **fields: Any,
) -> Provider:
    _check_admin(by, provider)
    before = _summary(provider)
    _save(provider, fields=fields, config=config, secret=client_secret, secret_env=client_secret_env)
    after = _summary(provider)
    changes = {k: [before.get(k, [None, None])[1], v[1]] for k, v in after.items() if before.get(k) != v}
    if client_secret:
        changes["secret"] = ["***", "***"]
    audit.record("identity.provider_changed", actor=by, target=provider, changes=changes)
    return provider


@transaction.atomic
def set_enabled(provider: Provider, *, enabled: bool, by: User | None) -> None:
    _check_admin(by, provider)
    if enabled and not (provider.secret or provider.secret_env):
        raise ValidationError(_("Save a client secret before switching this provider on."))
    provider.enabled = enabled
    provider.save(update_fields=["enabled", "updated_at"])
    audit.record("identity.provider_enabled" if enabled else "identity.provider_disabled", actor=by, target=provider)


@transaction.atomic
def delete_provider(provider: Provider, *, by: User | None) -> None:
    """Delete the provider and the links of accounts to it (the accounts stay)."""
    _check_admin(by, provider)
    audit.record("identity.provider_deleted", actor=by, target=provider, changes=_summary(provider))
    provider.delete()


def _summary(provider: Provider) -> dict[str, list[Any]]:
    data: dict[str, Any] = {name: getattr(provider, name) for name in FIELDS if name != "default_organisation"}
    data["default_organisation"] = str(provider.default_organisation or "")
    data["config"] = provider.config
    data["secret_env"] = provider.secret_env
    return {k: [None, v] for k, v in data.items()}
