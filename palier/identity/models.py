"""Identity providers (OpenID Connect, SAML, LDAP), the accounts they vouch for, and the sign-in policy.

One ``Provider`` table holds every kind: the fields shared by all kinds (button, account
creation, role and group mapping) are columns; what only one kind needs (issuer, metadata,
server address…) is the ``config`` JSON, validated by that kind's module
(``identity/oidc.py``, ``saml.py``, ``ldap.py``) before it is saved. A secret (client secret, bind
password) is never in ``config``: it is ``secret`` (encrypted with the key derived from
``SECRET_KEY``) or the name of a ``PALIER_SECRET_…`` environment variable.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from palier.people.models import User


class Provider(models.Model):
    class Kind(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")
        LDAP = "ldap", _("LDAP / Active Directory")

    slug = models.SlugField(
        _("identifier"), max_length=50, unique=True, help_text=_("Used in addresses: /accounts/sso/<identifier>/.")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    enabled = models.BooleanField(_("enabled"), default=False)
    label_en = models.CharField(_("button label (English)"), max_length=100, blank=True)
    label_fr = models.CharField(_("button label (French)"), max_length=100, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    # the kind's own settings, validated by its module (no secret in here)
    config = models.JSONField(_("settings"), default=dict, blank=True)
    secret = models.TextField(_("secret (encrypted)"), blank=True, editable=False)
    secret_env = models.CharField(
        _("secret from the environment"),
        max_length=100,
        blank=True,
        help_text=_("Name of a PALIER_SECRET_… environment variable holding the secret instead."),
    )
    # accounts
    create_accounts = models.BooleanField(
        _("create accounts on first sign-in"),
        default=True,
        help_text=_("When off, only people who already have an account may sign in this way."),
    )
    default_role = models.CharField(
        _("role of new accounts"), max_length=16, choices=User.Role.choices, default=User.Role.REQUESTER
    )
    default_organisation = models.ForeignKey(
        "people.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("organisation of new accounts"),
        help_text=_("Used when no organisation's email domain matches the address."),
    )
    organisation_by_domain = models.BooleanField(
        _("organisation from the email domain"),
        default=True,
        help_text=_("Put a new account in the organisation whose email domain matches its address."),
    )
    link_verified_email = models.BooleanField(
        _("link existing accounts by verified email"),
        default=False,
        help_text=_(
            "When the provider vouches for the address, sign in to the existing account with it. "
            "Off: such a sign-in is refused and an administrator links the accounts."
        ),
    )
    sync_groups = models.BooleanField(
        _("map the provider's groups"),
        default=False,
        help_text=_("At every sign-in, set the role and support groups from the provider's groups."),
    )
    # {"<group as the provider names it>": "<role>"}; the highest role matched wins
    role_map = models.JSONField(_("groups to roles"), default=dict, blank=True)
    # {"<group as the provider names it>": ["<support group name>", …]}
    group_map = models.JSONField(_("groups to support groups"), default=dict, blank=True)
    satisfies_mfa = models.BooleanField(
        _("the provider's multi-factor sign-in counts as the second factor"),
        default=False,
        help_text=_("When the provider says it checked a second factor (amr/acr), Palier does not ask again."),
    )
    # defined by PALIER_SSO_… / PALIER_LDAP_… variables: shown read-only on the admin pages
    from_environment = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The sign-in button's text in the active language (the name when none is set)."""
        french = (get_language() or "").startswith("fr")
        return (self.label_fr if french else self.label_en) or self.label_en or self.label_fr or self.name

    @property
    def start_url(self) -> str:
        """Where the sign-in button leads: each kind's module mounts ``/accounts/<kind>/<slug>/login/``."""
        return f"/accounts/{self.kind}/{self.slug}/login/"

    def setting(self, key: str, default: Any = None) -> Any:
        return (self.config or {}).get(key, default)


class ExternalIdentity(models.Model):
    """One person as a provider knows them: the provider's stable subject (``sub``, the NameID, the
    directory's objectGUID or DN) tied to a Palier account. Sign-ins find the account by this, never
    by the email alone."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="identities")
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities")
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    deactivated_by_sync = models.BooleanField(default=False)  # directory sync: reactivated when the person is back

    class Meta:
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [models.UniqueConstraint(fields=["provider", "subject"], name="identity_provider_subject")]
        indexes = [models.Index(fields=["user"], name="identity_user")]

    def __str__(self) -> str:
        return f"{self.provider.slug}:{self.subject}"


def _all_roles() -> list[str]:
    return list(User.Role.values)


class SignInPolicy(models.Model):
    """The desk's one sign-in policy (a single row, ``pk=1``: ``policy.current()``)."""

    password_roles = models.JSONField(
        _("roles that may sign in with a password"),
        default=_all_roles,
        blank=True,
        help_text=_("Once single sign-on works, switch passwords off for the roles that must use it."),
    )
    mfa_required_roles = models.JSONField(_("roles that must use a second factor"), default=list, blank=True)
    mfa_grace_days = models.PositiveIntegerField(
        _("days to set up a second factor"),
        default=7,
        help_text=_("From the first sign-in after the requirement applies; then sign-in waits for enrolment."),
    )
    mfa_remember_days = models.PositiveIntegerField(
        _("days a browser may skip the second factor"), default=30, help_text=_("0: ask at every sign-in.")
    )
    session_hours = models.PositiveIntegerField(_("session lifetime (hours)"), default=14 * 24)
    idle_minutes = models.PositiveIntegerField(
        _("sign out after this many idle minutes"), default=0, help_text=_("0: never.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sign-in policy")
        verbose_name_plural = _("sign-in policies")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="one_sign_in_policy")]

    def __str__(self) -> str:
        return str(_("Sign-in policy"))


class DirectorySyncRun(models.Model):
    """One run of a directory's sync (``identity/directory.py``), dry or not: what it changed or
    would change, or why it changed nothing."""

    class Status(models.TextChoices):
        OK = "ok", _("done")
        REFUSED = "refused", _("refused: nothing changed")
        FAILED = "failed", _("failed: nothing changed")

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="sync_runs")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OK)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    found = models.PositiveIntegerField(default=0)  # people the directory listed
    created = models.PositiveIntegerField(default=0)
    linked = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # [{"action": "create|link|update|deactivate|skip", "email": …, "detail": …}], the first 1,000
    changes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["provider", "-started_at"], name="identity_sync_run_recent")]

    def __str__(self) -> str:
        return f"{self.provider.slug} {self.started_at:%Y-%m-%d %H:%M}"


from palier.identity.mfa.models import MfaState, RecoveryCode, SecurityKey, TotpDevice  # noqa: E402, F401
from palier.identity.models_saml import SamlSeenMessage, SamlServiceKey  # noqa: E402, F401  (SAML)
