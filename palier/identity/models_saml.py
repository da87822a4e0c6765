"""What SAML single sign-on keeps besides the providers: the desk's own key pair, and the ids of
the assertions already used (so a captured one cannot be played again until it expires)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SamlServiceKey(models.Model):
    """The desk's one SAML key pair (``pk=1``), made on first use: its certificate is in the
    service provider's metadata; the private key (encrypted with the key derived from
    ``SECRET_KEY``) signs requests and decrypts encrypted assertions."""

    certificate = models.TextField(_("certificate (PEM)"))
    private_key = models.TextField(_("private key (encrypted)"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SAML key pair")
        verbose_name_plural = _("SAML key pairs")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="one_saml_service_key")]

    def __str__(self) -> str:
        return str(_("SAML key pair"))


class SamlSeenMessage(models.Model):
    """One response or assertion id already accepted from a provider, kept until it expires."""

    provider = models.ForeignKey("identity.Provider", on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "message_id"], name="identity_saml_seen_once"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="identity_saml_seen_expiry")]

    def __str__(self) -> str:
        return self.message_id
