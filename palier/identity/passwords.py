"""Passwords: who may sign in with one, changing it, resetting it by email, an administrator setting
it or sending a link, and the password side of the sign-in policy.

- Password sign-in is allowed for the roles in ``SignInPolicy.password_roles`` whose organisation
  (if any) keeps ``Organisation.password_sign_in``. ``PolicyBackend`` (before Django's
  ``ModelBackend``) refuses a right password the policy switched off, with a message pointing to
  the single sign-on buttons; a reset link is refused the same way.
- A reset request gets the same answer whatever the address: the same work is done (token, email
  rendered, audit event) and only a real, active, eligible account gets a row in the email outbox.
  Accounts created from email or chat (no usable password) may claim one this way; system and
  inactive accounts never get a link. Requests are counted per email address and per client
  address in the cache, in one-hour windows.
- The link is Django's token (``PASSWORD_RESET_TIMEOUT`` = ``PALIER_PASSWORD_RESET_MINUTES``): it
  names the password hash and the last sign-in, so it works once.
- Setting a password (change, reset, administrator) ends the person's other sessions.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as AuthRefused
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.identity import policy
from palier.identity.models import Provider, SignInPolicy
from palier.lib.errors import DomainError, PermissionDenied
from palier.notifications import email
from palier.people import permissions, sessions
from palier.people import services as people
from palier.people.models import Organisation, User

REFUSED_ATTR = "_palier_password_refused"
RESET_TEMPLATE = "identity/email/password_reset"
REFUSED_TEMPLATE = "identity/email/password_reset_refused"
WINDOW = 3600


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"


class ResetTokens(PasswordResetTokenGenerator):
    key_salt = "palier.identity.passwords.reset"


tokens = ResetTokens()


def refusal_message() -> str:
    return _(
        "Password sign-in is switched off for your account. Sign in with your organisation's "
        "single sign-on instead (the buttons below the form)."
    )


# --- who may use a password --------------------------------------------------------------------------


def password_allowed(user: User, rules: SignInPolicy | None = None) -> bool:
    """May ``user`` sign in with a Palier password under the policy?"""
    if user.is_system or not user.is_active:
        return False
    rules = rules or policy.current()
    if user.role not in (rules.password_roles or []):
        return False
    organisation = user.organisation
    return organisation is None or organisation.password_sign_in


class PolicyBackend:
    """Sits before Django's ``ModelBackend``: a right password of an account the policy keeps off
    passwords stops the sign-in (``PermissionDenied`` ends Django's backend loop) and marks the
    request, so the form says why. Anything else passes on to the next backend."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None or not username or password is None:
            return None
        user = User.objects.filter(email__iexact=str(username).strip()).select_related("organisation").first()
        if user is None or password_allowed(user) or not user.is_active:
            return None
        if user.check_password(password):
            setattr(request, REFUSED_ATTR, True)
            raise AuthRefused("password sign-in is off for this account")
        return None


def refused_by_policy(request: HttpRequest | None) -> bool:
    return bool(request is not None and getattr(request, REFUSED_ATTR, False))


# --- change ------------------------------------------------------------------------------------------


def _validate(password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


@transaction.atomic
def change_password(user: User, *, current: str, new: str, keep: str | None, ip: str | None = None) -> int:
    """The person changes their own password. Every session but ``keep`` (theirs) ends; returns how
    many did."""
    if not password_allowed(user):
        raise PermissionDenied(refusal_message())
    if not user.check_password(current):
        raise ValidationError({"current_password": _("Your current password is not this one.")})
    _validate(new, user, "new_password1")
    user.set_password(new)
    user.save(update_fields=["password"])
    audit.record("auth.password_changed", actor=user, target=user, ip=ip)
    return sessions.end_sessions(user, by=user, keep=keep)


@transaction.atomic
def set_password(user: User, *, password: str, by: User) -> User:
    """An administrator sets a person's password (never shown, never logged); their sessions end."""
    permissions.require(by)
    if user.is_system:
        raise ValidationError({"password": _("Palier's own accounts have no password.")})
    _validate(password, user, "password")
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record("auth.password_set", actor=by, target=user)
    sessions.end_sessions(user, by=None, keep=None)
    return user


# --- reset by email ------------------------------------------------------------------------------------


def _count(scope: str, ident: str) -> int:
    """This request's number in the current hour for ``ident``."""
    key = f"palier:password-reset:{scope}:{ident}:{int(time.time() // WINDOW)}"
    cache.add(key, 0, timeout=WINDOW * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW * 2)
        count = 1
    return int(count)


def reset_url(user: User, token: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return email.base_url() + reverse("account:password-reset-link", args=[uid, token])


def _queue_link(user: User, *, sent_by: User | None) -> int:
    """Queue the reset link (or, when the policy keeps the person off passwords, the explanation)."""
    allowed = password_allowed(user)
    context = {
        "reset_url": reset_url(user, tokens.make_token(user)) if allowed else "",
        "minutes": settings.PALIER_PASSWORD_RESET_MINUTES,
        "sign_in_url": email.base_url() + reverse("login"),
        "sent_by": sent_by,
    }
    template = RESET_TEMPLATE if allowed else REFUSED_TEMPLATE
    # a new key per request: each request is its own email
    key = f"password-reset:{user.pk}:{secrets.token_hex(8)}"
    return email.queue_templated(to=[user], template=template, context=context, key=key)


def _eligible(address: str) -> User | None:
    user = (
        User.objects.filter(email__iexact=address, is_active=True, is_system=False)
        .select_related("organisation")
        .first()
    )
    if user is None or people.is_reserved_email(user.email):
        return None
    return user


def request_reset(*, address: str, ip: str | None) -> None:
    """Someone asks for a reset link for ``address``. Raises ``TooManyRequests`` over the limits;
    otherwise the same work is done whether an account matches or not."""
    address = str(address or "").strip().lower()[:254]
    by_email, email_limit = _count("email", address), settings.PALIER_PASSWORD_RESET_EMAIL_LIMIT
    by_ip, ip_limit = _count("ip", ip or "-"), settings.PALIER_PASSWORD_RESET_IP_LIMIT
    if by_email > email_limit or by_ip > ip_limit:
        if by_email == email_limit + 1 or by_ip == ip_limit + 1:  # logged once per hour and limit, not per try
            audit.record("auth.password_reset_limited", actor=None, actor_email=address, ip=ip)
        raise TooManyRequests(_("Too many reset requests. Try again in an hour."))
    _request_reset(address, ip)


@transaction.atomic
def _request_reset(address: str, ip: str | None) -> None:
    user = _eligible(address)
    if user is None:
        # the same work as for a real account: a token and a rendered email, then nothing is stored
        stand_in = User(pk=0, email=address or "nobody@example.com", password="!", language="")
        context = {"reset_url": reset_url(stand_in, tokens.make_token(stand_in)), "minutes": 0}
        email.render_for(stand_in, template=RESET_TEMPLATE, context=context, ticket=None)
        audit.record("auth.password_reset_requested", actor=None, actor_email=address, target_label="-", ip=ip)
        return
    _queue_link(user, sent_by=None)
    audit.record("auth.password_reset_requested", actor=None, actor_email=address, target=user, ip=ip)


@transaction.atomic
def send_reset_link(user: User, *, by: User) -> None:
    """An administrator sends a person a reset link (the address is the account's own)."""
    permissions.require(by)
    if user.is_system or not user.is_active:
        raise ValidationError({"user": _("Deactivated accounts and Palier's own accounts get no reset link.")})
    if not password_allowed(user):
        raise PermissionDenied(_("Password sign-in is switched off for this person: they use single sign-on."))
    if not _queue_link(user, sent_by=by):
        raise ValidationError({"user": _("No email can be sent to this address.")})
    audit.record("auth.password_reset_sent", actor=by, target=user)


def user_for_link(uidb64: str) -> User | None:
    """The account a link names (None when the link is malformed or the account cannot reset)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True, is_system=False).select_related("organisation").first()
    return user


def link_works(user: User | None, token: str) -> bool:
    return user is not None and tokens.check_token(user, token)


def record_bad_link(user: User | None, *, ip: str | None) -> None:
    """A reset link that is expired, used, tampered or of a closed account (logged, changes nothing)."""
    audit.record("auth.password_reset_refused", actor=None, target=user, target_label="" if user else "-", ip=ip)


@transaction.atomic
def reset_password(*, user_id: int, token: str, new: str, ip: str | None = None) -> User:
    """Set the password a valid link allows. The link then stops working (the password hash is part
    of the token) and every session of the person ends."""
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True, is_system=False).first()
    if user is None or not tokens.check_token(user, token):
        raise ValidationError({"link": _("This link has expired or was already used. Ask for a new one.")})
    if not password_allowed(user):
        raise PermissionDenied(refusal_message())
    _validate(new, user, "new_password1")
    user.set_password(new)
    user.save(update_fields=["password"])
    audit.record("auth.password_reset", actor=user, target=user, ip=ip)
    sessions.end_sessions(user, by=None)
    return user


# --- the sign-in policy -----------------------------------------------------------------------------


def _admins_keep_a_way_in(roles: list[str], off: set[int]) -> bool:
    if Provider.objects.filter(enabled=True).exists():
        return True
    if User.Role.ADMIN not in roles:
        return False
    admins = User.objects.filter(role=User.Role.ADMIN, is_active=True, is_system=False)
    return admins.exclude(organisation_id__in=off).exists()


@transaction.atomic
def update_policy(
    *,
    by: User,
    password_roles: list[str],
    password_off_organisations: list[Organisation],
    mfa_required_roles: list[str],
    mfa_grace_days: int,
    mfa_remember_days: int,
    session_hours: int,
    idle_minutes: int,
) -> SignInPolicy:
    """Save the sign-in policy. Refused when no active administrator could sign in afterwards."""
    permissions.require_admin(by, message=_("Only administrators can change the sign-in policy."))
    roles = [role for role in User.Role.values if role in set(password_roles)]
    unknown = set(password_roles) - set(roles) or set(mfa_required_roles) - set(User.Role.values)
    if unknown:
        raise ValidationError({"password_roles": _("Unknown role.")})
    if session_hours < 1 or idle_minutes < 0:
        raise ValidationError({"session_hours": _("A session lasts at least one hour.")})
    off = {organisation.pk for organisation in password_off_organisations}
    if not _admins_keep_a_way_in(roles, off):
        raise ValidationError(
            {
                "password_roles": _(
                    "No administrator could sign in any more: keep passwords for administrators until a "
                    "single sign-on provider or the directory is enabled."
                )
            }
        )
    rules = SignInPolicy.objects.select_for_update().filter(pk=1).first() or policy.current()
    fields = {
        "password_roles": roles,
        "mfa_required_roles": [role for role in User.Role.values if role in set(mfa_required_roles)],
        "mfa_grace_days": mfa_grace_days,
        "mfa_remember_days": mfa_remember_days,
        "session_hours": session_hours,
        "idle_minutes": idle_minutes,
    }
    changes = {name: [getattr(rules, name), value] for name, value in fields.items() if getattr(rules, name) != value}
    for name, value in fields.items():
        setattr(rules, name, value)
    rules.save()
    changed = people.set_organisations_password_sign_in(off=off, by=by)
    if changes or changed:
        audit.record("identity.policy_changed", actor=by, target=rules, changes=changes)
    return rules
