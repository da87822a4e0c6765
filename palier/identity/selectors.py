"""Reads of the identity app: the providers shown on the sign-in page."""

from __future__ import annotations

from django.db.models import QuerySet

from palier.identity.models import Provider


def sign_in_providers() -> QuerySet[Provider]:
    """The enabled single sign-on providers, as buttons on the sign-in page (the directory signs
    in through the password form, so it has no button)."""
    return Provider.objects.filter(enabled=True, kind__in=[Provider.Kind.OIDC, Provider.Kind.SAML]).order_by(
        "position", "name"
    )


def all_providers() -> QuerySet[Provider]:
    """Every provider of every kind, for the administrators' identity page."""
    return Provider.objects.order_by("kind", "position", "name")


def directory_sign_in_enabled() -> bool:
    """Whether an enabled LDAP / Active Directory provider signs people in through the password form
    (then the form also takes a directory login, not only an email address)."""
    return Provider.objects.filter(enabled=True, kind=Provider.Kind.LDAP).exists()
