"""From what a provider vouches for to a Palier account: the one path every single sign-on and
directory sign-in takes (OpenID Connect, SAML, LDAP).

A provider's module turns its answer into ``Claims``, then calls ``resolve_user`` (find, link or
create the account, or refuse with a reason) and, for a browser sign-in, ``complete_sign_in``.
Accounts are found by the provider's stable subject first; an email alone never opens an
existing account unless the provider verified it and the admin allowed linking.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import context
from palier.audit import services as audit
from palier.identity.models import ExternalIdentity, Provider
from palier.lib.errors import DomainError
from palier.people import services as people
from palier.people.models import Organisation, SupportGroup, User

log = logging.getLogger("palier.identity")

# set in the session by a single sign-on whose provider asserted a second factor, when the
# provider's ``satisfies_mfa`` is on: the second-factor check reads it
MFA_BY_PROVIDER_SESSION_KEY = "palier_mfa_by_provider"
# the provider a session came from (sign-out at the provider, "signed in with …")
PROVIDER_SESSION_KEY = "palier_sso_provider"

ROLE_RANK: dict[str, int] = {"requester": 0, "agent": 1, "manager": 2, "admin": 3}


@dataclass(frozen=True)
class Claims:
    """What a provider says about the person signing in, in Palier's words."""

    subject: str  # stable id at the provider: OIDC ``sub``, SAML NameID, directory objectGUID or DN
    email: str = ""
    email_verified: bool = False
    full_name: str = ""
    language: str = ""  # "fr"/"en" or a locale such as "fr-FR"; anything else is ignored
    groups: tuple[str, ...] = field(default_factory=tuple)
    mfa: bool = False  # the provider says it checked a second factor (amr/acr, AuthnContext)


class SignInRefused(DomainError):
    """The provider vouched for someone Palier will not sign in; ``reason`` is a stable code for
    logs and tests, the message is for the person."""

    status = 403
    title = "Sign-in refused"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _language(value: str) -> str:
    code = (value or "").strip().lower()[:2]
    return code if code in User.Language.values else ""


def record_refusal(provider: Provider, claims: Claims | None, refused: SignInRefused, *, ip: str | None) -> None:
    """Log and audit a refused sign-in (outside the refused transaction, so the record stays).
    Provider modules call it too for what fails before there are claims (a bad token, a
    tampered assertion: ``claims`` None)."""
    subject = (claims.subject if claims else "")[:255]
    log.warning("sign-in through %s refused (%s) for subject %r", provider.slug, refused.reason, subject)
    audit.record(
        "auth.sso_refused",
        actor=None,
        actor_email=((claims.email if claims else "") or "")[:254],
        target=provider,
        changes={"reason": [None, refused.reason], "subject": [None, subject]},
        ip=ip,
    )


def mapped_role(provider: Provider, groups: Iterable[str]) -> str | None:
    """The highest role the provider's groups map to, or None when none is mapped."""
    best: str | None = None
    for group in groups:
        role = (provider.role_map or {}).get(group)
        if role in ROLE_RANK and (best is None or ROLE_RANK[role] > ROLE_RANK[best]):
            best = role
    return best


def mapped_support_groups(provider: Provider, groups: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for group in groups:
        value = (provider.group_map or {}).get(group) or []
        names.update([value] if isinstance(value, str) else [str(v) for v in value])
    return names


def _organisation_for(provider: Provider, email: str) -> Organisation | None:
    if provider.organisation_by_domain and "@" in email:
        domain = email.rsplit("@", 1)[1].lower()
        match = Organisation.objects.filter(email_domain__iexact=domain).first()
        if match is not None:
            return match
    return provider.default_organisation


def apply_groups(user: User, provider: Provider, groups: Iterable[str]) -> None:
    """Set the role and the mapped support groups from the provider's groups (``sync_groups``):
    only the support groups that appear in the provider's map are added or removed; memberships
    an admin gave by hand in other groups stay."""
    groups = list(groups)
    role = mapped_role(provider, groups) or provider.default_role
    if role in ROLE_RANK and user.role != role and not user.is_superuser:
        people.update_user(user, by=None, role=role)
    managed = mapped_support_groups(provider, (provider.group_map or {}).keys())
    wanted = mapped_support_groups(provider, groups)
    for group in SupportGroup.objects.filter(name__in=managed):
        is_member = group.members.filter(pk=user.pk).exists()
        if group.name in wanted and not is_member:
            people.add_group_member(group, user=user, by=None)
        elif group.name not in wanted and is_member:
            people.remove_group_member(group, user=user, by=None)


def resolve_user(provider: Provider, claims: Claims, *, ip: str | None = None) -> User:
    """The account these claims name: found by the provider's subject, linked by a verified email
    when allowed, or created. Raises ``SignInRefused`` (recorded in the audit log) otherwise, and
    then nothing is changed."""
    try:
        with transaction.atomic():
            return _resolve(provider, claims)
    except SignInRefused as refused:
        record_refusal(provider, claims, refused, ip=ip)
        raise


def _resolve(provider: Provider, claims: Claims) -> User:
    if not provider.enabled:
        raise SignInRefused("provider_disabled", _("This sign-in method is switched off."))
    subject = (claims.subject or "").strip()[:255]
    if not subject:
        raise SignInRefused("no_subject", _("The identity provider did not say who you are."))
    email = (claims.email or "").strip().lower()
    identity = ExternalIdentity.objects.select_related("user").filter(provider=provider, subject=subject).first()
    if identity is None:
        identity = ExternalIdentity.objects.create(
            provider=provider, subject=subject, user=_link_or_create(provider, claims, email), email=email
        )
    user = identity.user
    if not user.is_active:
        raise SignInRefused("inactive", _("Your account is deactivated."))
    changes: dict[str, object] = {}
    if claims.full_name and claims.full_name[:200] != user.full_name:
        changes["full_name"] = claims.full_name[:200]
    if _language(claims.language) and not user.language:
        changes["language"] = _language(claims.language)
    if changes:
        people.update_user(user, by=None, **changes)
    if provider.sync_groups:
        apply_groups(user, provider, claims.groups)
    identity.email = email or identity.email
    identity.last_sign_in_at = timezone.now()
    identity.save(update_fields=["email", "last_sign_in_at"])
    return user


def _link_or_create(provider: Provider, claims: Claims, email: str) -> User:
    """The account of a first sign-in through this provider: an existing one only when its
    address is verified by the provider and linking is allowed, otherwise a new one."""
    if not email:
        raise SignInRefused("no_email", _("The identity provider did not give your email address."))
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if existing.is_system:
            raise SignInRefused("system_account", _("This account cannot sign in."))
        if not (provider.link_verified_email and claims.email_verified):
            raise SignInRefused(
                "email_in_use",
                _(
                    "An account with this email address already exists. Ask an administrator "
                    "to link it to this sign-in method."
                ),
            )
        audit.record("identity.linked", actor=None, target=existing, changes={"provider": [None, provider.slug]})
        return existing
    if not provider.create_accounts:
        raise SignInRefused("no_account", _("You have no account on this service desk."))
    role = mapped_role(provider, claims.groups) if provider.sync_groups else None
    return people.create_user(
        email=email,
        full_name=claims.full_name[:200],
        role=role or provider.default_role,
        language=_language(claims.language),
        organisation=_organisation_for(provider, email),
    )


def complete_sign_in(request: HttpRequest, user: User, provider: Provider, claims: Claims) -> None:
    """Open the Palier session for an account a provider vouched for (Django's sign-in signal
    records ``auth.login`` in the audit log)."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[PROVIDER_SESSION_KEY] = provider.slug
    if provider.satisfies_mfa and claims.mfa:
        request.session[MFA_BY_PROVIDER_SESSION_KEY] = True


def client_ip(request: HttpRequest) -> str | None:
    return context.client_ip(request)
