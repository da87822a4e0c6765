"""Reads of the second factor for the pages: what a person has set up."""

from __future__ import annotations

from dataclasses import dataclass

from palier.identity import policy
from palier.identity.mfa.models import MfaState, RecoveryCode, SecurityKey, TotpDevice
from palier.people.models import User


@dataclass(frozen=True)
class Factors:
    """What a person has set up, for the pages."""

    totp: bool
    totp_pending: bool
    keys: list[SecurityKey]
    recovery_left: int

    @property
    def any(self) -> bool:
        return self.totp or bool(self.keys)


def has_factor(user: User) -> bool:
    return (
        TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
        or SecurityKey.objects.filter(user=user).exists()
    )


def factors_of(user: User) -> Factors:
    device = TotpDevice.objects.filter(user=user).first()
    return Factors(
        totp=bool(device and device.confirmed_at),
        totp_pending=bool(device and not device.confirmed_at),
        keys=list(SecurityKey.objects.filter(user=user)),
        recovery_left=RecoveryCode.objects.filter(user=user, used_at__isnull=True).count(),
    )


def generation(user: User) -> int:
    return MfaState.objects.filter(user=user).values_list("generation", flat=True).first() or 0


def required_for(user: User) -> bool:
    """Does the sign-in policy require a second factor of this person's role?"""
    return user.role in (policy.current().mfa_required_roles or [])
