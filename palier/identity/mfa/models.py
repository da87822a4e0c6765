"""The second factors of a person and their second-factor state.

Imported by ``palier/identity/models.py`` so that Django finds them (app label ``identity``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MfaState(models.Model):
    """One row per person who met the second factor: the throttle of failed codes, when the
    requirement of their role first applied to them (the start of the grace period), and a
    generation bumped whenever their factors change (it invalidates remembered browsers)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_state")
    required_since = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("second-factor state")
        verbose_name_plural = _("second-factor states")

    def __str__(self) -> str:
        return f"mfa:{self.user_id}"


class TotpDevice(models.Model):
    """An authenticator app: its secret (encrypted), counted only once ``confirmed_at`` is set
    (a valid code was typed), and the last time step accepted (a code is never accepted twice)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.TextField(editable=False)  # base32, encrypted with palier.mail.secrets
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    def __str__(self) -> str:
        return f"totp:{self.user_id}"


class RecoveryCode(models.Model):
    """A single-use recovery code, stored as the SHA-256 of its normalised text (80 random bits)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [models.UniqueConstraint(fields=["user", "digest"], name="identity_recovery_code_unique")]

    def __str__(self) -> str:
        return f"recovery:{self.user_id}"


class SecurityKey(models.Model):
    """A WebAuthn credential (security key or passkey) registered by a person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security_keys")
    name = models.CharField(_("name"), max_length=100)
    credential_id = models.BinaryField(max_length=1023)
    credential_id_hash = models.CharField(max_length=64, unique=True)  # SHA-256, for the lookup
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("security key")
        verbose_name_plural = _("security keys")

    def __str__(self) -> str:
        return self.name
