"""Enrolment, removal and reset of second factors, and the check of a code at sign-in.

Every change is recorded in the audit log (``auth.mfa_…``) and bumps the person's generation,
which forgets the browsers they asked Palier to remember. Failed codes count per person: after
``PALIER_LOGIN_FAILURES`` in a row the second step is locked for ``PALIER_LOGIN_LOCKOUT_MINUTES``
(then no code is even checked), so a stolen password cannot be followed by a guessing run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.identity.mfa import codes
from palier.identity.mfa.models import MfaState, RecoveryCode, SecurityKey, TotpDevice
from palier.identity.mfa.selectors import has_factor, required_for
from palier.lib.errors import Conflict, DomainError
from palier.mail import secrets
from palier.people.models import User
from palier.people.permissions import require_admin


class CodeRefused(DomainError):
    """A code that does not open the second step (wrong, replayed, or the step is locked)."""

    status = 403
    title = "Second factor refused"

    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message, field="code")
        self.locked = locked


def state_for(user: User) -> MfaState:
    state, _created = MfaState.objects.get_or_create(user=user)
    return state


def bump(user: User) -> None:
    """Forget remembered browsers: the factors are not what they were."""
    MfaState.objects.filter(pk=state_for(user).pk).update(generation=F("generation") + 1)


# --- TOTP enrolment --------------------------------------------------------------------------------


def pending_totp(user: User, *, restart: bool = False) -> str:
    """The secret of the authenticator app being set up (created on first use, a new one when
    ``restart``). Refused while a confirmed app exists: remove it first."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.confirmed_at is not None:
            raise Conflict(_("An authenticator app is already set up. Remove it first to set up another one."))
        if device is None:
            device = TotpDevice.objects.create(user=user, secret=secrets.encrypt(codes.new_secret()))
        elif restart or not _secret(device):
            device.secret = secrets.encrypt(codes.new_secret())
            device.last_step = 0
            device.save(update_fields=["secret", "last_step"])
        return secrets.decrypt(device.secret)


def confirm_totp(user: User, code: str) -> list[str]:
    """Count the app being set up once a valid code from it is typed; returns new recovery codes
    when the person had none left (shown once), else an empty list."""
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    if device is None:
        raise Conflict(_("Start the set-up of an authenticator app first."))
    check_lock(user)
    step = codes.matching_step(_secret(device), code, after=device.last_step)
    if step is None:
        failed(user, method="totp_enrolment")
    with transaction.atomic():
        confirmed = TotpDevice.objects.filter(pk=device.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now(), last_step=step, last_used_at=timezone.now()
        )
        if not confirmed:
            raise Conflict(_("This authenticator app is already set up."))
        _succeeded(user)
        bump(user)
        audit.record("auth.mfa_enrolled", actor=user, target=user, changes={"factor": [None, "totp"]})
        fresh = [] if RecoveryCode.objects.filter(user=user, used_at__isnull=True).exists() else new_codes(user)
    return fresh


def remove_totp(user: User, *, by: User) -> None:
    may_change(user, by)
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is None:
            return
        if device.confirmed_at is not None:
            keep_one(user, removing="totp")
        device.delete()
        if device.confirmed_at is not None:
            after_removal(user, by=by, factor="totp")


# --- recovery codes --------------------------------------------------------------------------------


def new_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    fresh = codes.new_recovery_codes()
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, digest=codes.recovery_digest(c)) for c in fresh])
    return fresh


def regenerate_recovery_codes(user: User) -> list[str]:
    """Ten new codes (the old ones stop working), shown once."""
    if not has_factor(user):
        raise Conflict(_("Set up an authenticator app or a security key first."))
    with transaction.atomic():
        fresh = new_codes(user)
        audit.record("auth.mfa_recovery_regenerated", actor=user, target=user)
    return fresh


# --- removal and reset -----------------------------------------------------------------------------


def may_change(user: User, by: User) -> None:
    if by.pk != user.pk:
        require_admin(by, message=_("Only administrators may change another person's second factor."))


def keep_one(user: User, *, removing: str, key_id: int | None = None) -> None:
    """A person whose role requires a second factor keeps at least one."""
    if not required_for(user):
        return
    totp = removing != "totp" and TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
    others = SecurityKey.objects.filter(user=user)
    if removing == "key" and key_id is not None:
        others = others.exclude(pk=key_id)
    keys = others.exists()
    if not (totp or keys):
        raise Conflict(_("Your role requires a second factor: set up another one before removing this one."))


def after_removal(user: User, *, by: User, factor: str) -> None:
    if not has_factor(user):
        RecoveryCode.objects.filter(user=user).delete()
    bump(user)
    audit.record("auth.mfa_removed", actor=by, target=user, changes={"factor": ["", factor]})


def reset(user: User, *, by: User | None) -> None:
    """An administrator removes every second factor of a person (a lost phone, a lost key): the
    person sets one up again at their next sign-in when their role requires it."""
    require_admin(by, message=_("Only administrators may reset a second factor."))
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        SecurityKey.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        MfaState.objects.filter(pk=state_for(user).pk).update(
            generation=F("generation") + 1, failures=0, locked_until=None
        )
        audit.record("auth.mfa_reset", actor=by, target=user)


# --- the second step: check a code -----------------------------------------------------------------


def _secret(device: TotpDevice) -> str:
    """The app's secret; "" when SECRET_KEY changed without a fallback (no code matches then,
    recovery codes still work, and an administrator resets the factor)."""
    try:
        return secrets.decrypt(device.secret)
    except secrets.SecretError:
        return ""


def check_lock(user: User) -> None:
    state = state_for(user)
    if state.locked_until and state.locked_until > timezone.now():
        minutes = max(1, int((state.locked_until - timezone.now()).total_seconds() + 59) // 60)
        raise CodeRefused(
            _("Too many wrong codes. Try again in %(minutes)d minutes.") % {"minutes": minutes}, locked=True
        )


def failed(user: User, *, method: str) -> NoReturn:
    """Count a wrong code (committed even though the caller then refuses), lock after too many."""
    limit = max(1, settings.PALIER_LOGIN_FAILURES)
    with transaction.atomic():
        state = MfaState.objects.select_for_update().get(pk=state_for(user).pk)
        state.failures += 1
        audit.record("auth.mfa_failed", actor=user, target=user, changes={"method": ["", method]})
        locked = state.failures >= limit
        if locked:
            state.failures = 0
            state.locked_until = timezone.now() + timedelta(minutes=settings.PALIER_LOGIN_LOCKOUT_MINUTES)
            audit.record("auth.mfa_locked", actor=user, target=user, changes={"until": ["", str(state.locked_until)]})
        state.save(update_fields=["failures", "locked_until"])
    if locked:
        check_lock(user)
    raise CodeRefused(_("This code is not valid. Check your authenticator app and try again."))


def _succeeded(user: User) -> None:
    MfaState.objects.filter(user=user).exclude(failures=0, locked_until=None).update(failures=0, locked_until=None)


def check_code(user: User, code: str) -> str:
    """Open the second step with a code from the authenticator app or a recovery code; returns
    the method ("totp" or "recovery"). Raises ``CodeRefused`` (counted, audited) otherwise."""
    check_lock(user)
    if codes.looks_like_totp(code):
        device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
        if device is not None:
            step = codes.matching_step(_secret(device), code, after=device.last_step)
            # the conditional update is the claim: two requests with the same code, one wins
            if (
                step is not None
                and TotpDevice.objects.filter(pk=device.pk, last_step__lt=step).update(
                    last_step=step, last_used_at=timezone.now()
                )
                == 1
            ):
                _succeeded(user)
                return "totp"
        failed(user, method="totp")
    normalised = codes.normalise_recovery(code)
    if normalised:
        used = RecoveryCode.objects.filter(
            user=user, digest=codes.recovery_digest(normalised), used_at__isnull=True
        ).update(used_at=timezone.now())
        if used == 1:
            _succeeded(user)
            left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
            audit.record("auth.mfa_recovery_used", actor=user, target=user, changes={"left": ["", left]})
            return "recovery"
    failed(user, method="recovery")


def passed_with_key(user: User) -> None:
    """A security key opened the second step (``keys.py`` checked it)."""
    _succeeded(user)
