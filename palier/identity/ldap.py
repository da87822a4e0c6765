"""Sign-in against an LDAP directory or Active Directory, with ldap3 (pure Python: no C library
to build, and its connection, StartTLS and paged search are all we need; django-auth-ldap needs
python-ldap and OpenLDAP's headers, and would bring its own mapping rules beside ours).

The password form signs directory people in through ``LdapBackend`` (in
``AUTHENTICATION_BACKENDS`` before Django's ``ModelBackend``): for each enabled directory, search
the person with the service account (the login escaped into ``user_filter``), bind as them with the
password, map their attributes into ``provisioning.Claims`` and ``resolve_user``. An empty password
never reaches the directory (many directories take a DN with an empty password as an anonymous
bind, which "succeeds"). When the directory cannot be reached, ``config["fallback"]`` says what
happens: ``local`` (the account's Palier password still works, when it has one) or ``refuse`` (the
directory's people are told to wait; accounts of no directory still sign in).

The settings (``Provider.config``) are checked by ``clean_config``; the service account's password
is ``Provider.secret`` (encrypted) or ``Provider.secret_env``.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ldap3 import NONE, SUBTREE, Connection, Server, Tls
from ldap3.core import exceptions as ldap_errors
from ldap3.operation.search import parse_filter
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from palier.audit import context
from palier.audit import services as audit
from palier.identity import passwords
from palier.identity.kinds import Check
from palier.identity.models import ExternalIdentity, Provider
from palier.identity.provisioning import Claims, SignInRefused, resolve_user
from palier.mail import secrets
from palier.people.models import User

log = logging.getLogger("palier.identity.ldap")

DEFAULT_USER_FILTER = "(|(mail={login})(sAMAccountName={login}))"
DEFAULT_SYNC_FILTER = "(&(objectClass=person)(mail=*))"
# Palier's name → the directory's attribute (Active Directory's names by default)
DEFAULT_ATTRIBUTES = {
    "subject": "objectGUID",
    "email": "mail",
    "name": "displayName",
    "language": "preferredLanguage",
    "groups": "memberOf",
    "organisation": "company",
    "department": "department",
}
FALLBACKS = ("local", "refuse")


class DirectoryUnavailable(Exception):
    """The directory could not be reached, or refused the service account or the search."""


# --- settings ---------------------------------------------------------------------------------------


def _filter_ok(text: str) -> bool:
    try:
        parse_filter(
            text.replace("{login}", "x"), None, auto_escape=False, auto_encode=False, validator=None, check_names=False
        )
    except Exception:  # ldap3 raises several kinds of errors for a malformed filter
        return False
    return text.startswith("(") and text.endswith(")")


def _int(config: dict[str, Any], key: str, default: int, low: int, high: int, errors: dict[str, str]) -> int:
    value = config.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if not low <= number <= high:
        errors[key] = _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
    return number


def _check_url(url: str, start_tls: bool, errors: dict[str, str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("ldap", "ldaps") or not parts.hostname or parts.path not in ("", "/"):
        errors["url"] = _("Enter the directory's address as ldap://host:389 or ldaps://host:636.")
    elif parts.scheme == "ldaps" and start_tls:
        errors["start_tls"] = _("StartTLS is for ldap:// addresses; an ldaps:// address is encrypted already.")
    else:
        try:
            parts.port  # noqa: B018 (raises on a port out of range)
        except ValueError:
            errors["url"] = _("The port is not a number from 1 to 65535.")


def _check_ca(pem: str, errors: dict[str, str]) -> None:
    if pem:
        try:
            ssl.create_default_context(cadata=pem)
        except (ssl.SSLError, ValueError):
            errors["ca_certificate"] = _("This is not a PEM certificate (-----BEGIN CERTIFICATE-----…).")


def clean_config(config: dict[str, Any]) -> dict[str, Any]:
    """The directory's settings, checked and normalised (``ValidationError({field: message})``)."""
    errors: dict[str, str] = {}
    url = str(config.get("url", "")).strip()
    start_tls = bool(config.get("start_tls", False))
    _check_url(url, start_tls, errors)
    ca = str(config.get("ca_certificate", "")).strip()
    _check_ca(ca, errors)
    base_dn = str(config.get("base_dn", "")).strip()
    try:
        parse_dn(base_dn)
    except Exception:
        errors["base_dn"] = _("Enter the distinguished name where people are, e.g. OU=Staff,DC=example,DC=com.")
    if not base_dn:
        errors["base_dn"] = _("Enter the distinguished name where people are, e.g. OU=Staff,DC=example,DC=com.")
    bind_dn = str(config.get("bind_dn", "")).strip()
    user_filter = str(config.get("user_filter", "") or DEFAULT_USER_FILTER).strip()
    if "{login}" not in user_filter or not _filter_ok(user_filter):
        errors["user_filter"] = _("Enter an LDAP filter in parentheses that contains {login}.")
    sync_filter = str(config.get("sync_filter", "") or DEFAULT_SYNC_FILTER).strip()
    if "{login}" in sync_filter or not _filter_ok(sync_filter):
        errors["sync_filter"] = _("Enter an LDAP filter in parentheses (without {login}).")
    attributes = dict(DEFAULT_ATTRIBUTES)
    given = config.get("attributes") or {}
    if not isinstance(given, dict) or any(key not in DEFAULT_ATTRIBUTES for key in given):
        errors["attributes"] = _("Map only these names: %(names)s.") % {"names": ", ".join(DEFAULT_ATTRIBUTES)}
    else:
        attributes.update({key: str(value).strip() for key, value in given.items() if str(value).strip()})
    fallback = str(config.get("fallback", "local"))
    if fallback not in FALLBACKS:
        errors["fallback"] = _("Choose “local” or “refuse”.")
    cleaned = {
        "url": url,
        "start_tls": start_tls,
        "ca_certificate": ca,
        "bind_dn": bind_dn,
        "base_dn": base_dn,
        "user_filter": user_filter,
        "sync_filter": sync_filter,
        "attributes": attributes,
        "fallback": fallback,
        "timeout": _int(config, "timeout", 5, 1, 60, errors),
        "page_size": _int(config, "page_size", 500, 1, 5000, errors),
        "max_shrink_percent": _int(config, "max_shrink_percent", 10, 0, 100, errors),
        "create_organisations": bool(config.get("create_organisations", True)),
        "sync": bool(config.get("sync", True)),
    }
    if errors:
        raise ValidationError(errors)
    return cleaned


def settings_of(provider: Provider) -> dict[str, Any]:
    """The provider's settings with every default filled in (stored settings were cleaned on save)."""
    try:
        return clean_config(provider.config or {})
    except ValidationError as exc:
        raise DirectoryUnavailable(_("The directory's settings are incomplete: %(error)s") % {"error": exc}) from exc


# --- connections --------------------------------------------------------------------------------------


def _server(config: dict[str, Any]) -> Server:
    parts = urlsplit(config["url"])
    use_ssl = parts.scheme == "ldaps"
    tls = None
    if use_ssl or config["start_tls"]:
        # the certificate and the host name are always checked; a private CA is given as PEM
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=config["ca_certificate"] or None)
    port = parts.port or (636 if use_ssl else 389)
    return Server(parts.hostname, port=port, use_ssl=use_ssl, tls=tls, get_info=NONE, connect_timeout=config["timeout"])


def bind_password(provider: Provider) -> str:
    """The service account's password: the environment variable when named, else the stored one."""
    if provider.secret_env:
        return secrets.from_environment(provider.secret_env)
    return secrets.decrypt(provider.secret)


def _open(config: dict[str, Any], user: str, password: str) -> Connection:
    """A connection bound as ``user`` (anonymous when both are empty); raises ``DirectoryUnavailable``
    when the server cannot be reached or TLS fails, ``ldap_errors.LDAPBindError`` on wrong credentials."""
    conn = Connection(
        _server(config),
        user=user or None,
        password=password or None,
        read_only=True,
        receive_timeout=config["timeout"],
        raise_exceptions=False,
        auto_referrals=False,  # never hand the credentials to another server the answer names
    )
    try:
        conn.open()
        if config["start_tls"] and not conn.start_tls():
            raise DirectoryUnavailable(_("StartTLS was refused: %(error)s") % {"error": conn.result.get("description")})
    except (ldap_errors.LDAPSocketOpenError, ldap_errors.LDAPSocketReceiveError, ldap_errors.LDAPStartTLSError) as exc:
        close(conn)
        raise DirectoryUnavailable(_("Cannot reach the directory: %(error)s") % {"error": exc}) from exc
    except ldap_errors.LDAPException as exc:
        close(conn)
        raise DirectoryUnavailable(_("The directory connection failed: %(error)s") % {"error": exc}) from exc
    try:
        bound = conn.bind()
    except ldap_errors.LDAPException as exc:
        close(conn)
        raise DirectoryUnavailable(_("The directory connection failed: %(error)s") % {"error": exc}) from exc
    if not bound:
        description = conn.result.get("description", "")
        close(conn)
        raise ldap_errors.LDAPBindError(description)
    return conn


def close(conn: Connection) -> None:
    """Unbind, whatever state the connection is in (a failed TLS handshake leaves a closed socket)."""
    with contextlib.suppress(ldap_errors.LDAPException):
        conn.unbind()


def service_connection(provider: Provider, config: dict[str, Any]) -> Connection:
    """A connection as the service account (``bind_dn``), for searches."""
    try:
        password = bind_password(provider) if config["bind_dn"] else ""
    except secrets.SecretError as exc:
        raise DirectoryUnavailable(str(exc)) from exc
    try:
        return _open(config, config["bind_dn"], password)
    except ldap_errors.LDAPBindError as exc:
        raise DirectoryUnavailable(
            _("The directory refused the service account (%(dn)s): %(error)s") % {"dn": config["bind_dn"], "error": exc}
        ) from exc


# --- entries --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One person as the directory describes them, in Palier's words."""

    dn: str
    subject: str
    email: str
    full_name: str
    language: str
    groups: tuple[str, ...]
    organisation: str
    department: str

    def claims(self) -> Claims:
        # the organisation's own directory vouches for its people's addresses
        return Claims(
            subject=self.subject,
            email=self.email,
            email_verified=True,
            full_name=self.full_name,
            language=self.language,
            groups=self.groups,
        )


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace").strip()


def _subject(values: list[bytes], dn: str) -> str:
    """objectGUID is 16 raw bytes (little-endian UUID), entryUUID a text UUID; else the DN."""
    if not values:
        return dn.lower()
    raw = values[0]
    if len(raw) == 16:
        try:
            raw.decode("ascii")
        except UnicodeDecodeError:
            return str(uuid.UUID(bytes_le=raw))
    return _text(raw).lower()


def _group_names(values: list[bytes]) -> tuple[str, ...]:
    """Each group as its full DN and as its first name (``CN=Helpdesk,OU=…`` → ``Helpdesk``), so the
    group map may name either."""
    names: list[str] = []
    for value in values:
        dn = _text(value)
        names.append(dn)
        with contextlib.suppress(Exception):  # not a DN: the value itself is the group's name
            names.append(parse_dn(dn)[0][1])
    return tuple(dict.fromkeys(names))


def requested_attributes(config: dict[str, Any]) -> list[str]:
    return sorted({name for name in config["attributes"].values() if name})


def to_entry(config: dict[str, Any], dn: str, raw: dict[str, list[bytes]]) -> Entry:
    names = config["attributes"]
    lowered = {key.lower(): value for key, value in raw.items()}

    def values(key: str) -> list[bytes]:
        return list(lowered.get(names.get(key, "").lower(), []) or [])

    def first(key: str) -> str:
        found = values(key)
        return _text(found[0]) if found else ""

    return Entry(
        dn=dn,
        subject=_subject(values("subject"), dn)[:255],
        email=first("email").lower()[:254],
        full_name=first("name")[:200],
        language=first("language"),
        groups=_group_names(values("groups")),
        organisation=first("organisation")[:200],
        department=first("department")[:200],
    )


def find_person(conn: Connection, config: dict[str, Any], login: str) -> list[tuple[str, dict[str, list[bytes]]]]:
    """The directory entries the login names (the login is escaped: ``*`` or ``)(`` stay characters)."""
    search_filter = config["user_filter"].replace("{login}", escape_filter_chars(login))
    ok = conn.search(
        config["base_dn"],
        search_filter,
        search_scope=SUBTREE,
        attributes=requested_attributes(config),
        size_limit=2,
        time_limit=config["timeout"],
    )
    if not ok and conn.result.get("result") not in (0, 4):  # 4: size limit exceeded (two found)
        raise DirectoryUnavailable(_("The search failed: %(error)s") % {"error": conn.result.get("description")})
    return [
        (item["dn"], item["raw_attributes"]) for item in conn.response or [] if item.get("type") == "searchResEntry"
    ]


def iter_people(conn: Connection, config: dict[str, Any]) -> Iterator[Entry]:
    """Every person the sync filter finds, page by page (simple paged results, RFC 2696); raises
    ``DirectoryUnavailable`` when any page fails."""
    cookie: bytes | None = None
    while True:
        ok = conn.search(
            config["base_dn"],
            config["sync_filter"],
            search_scope=SUBTREE,
            attributes=requested_attributes(config),
            paged_size=config["page_size"],
            paged_cookie=cookie,
            time_limit=max(config["timeout"], 30),
        )
        if not ok and conn.result.get("result") != 0:
            raise DirectoryUnavailable(_("The search failed: %(error)s") % {"error": conn.result.get("description")})
        for item in conn.response or []:
            if item.get("type") == "searchResEntry":
                yield to_entry(config, item["dn"], item["raw_attributes"])
        controls = conn.result.get("controls") or {}
        cookie = controls.get("1.2.840.113556.1.4.319", {}).get("value", {}).get("cookie")
        if not cookie:
            return


# --- sign-in ------------------------------------------------------------------------------------------


def authenticate(provider: Provider, login: str, password: str, *, ip: str | None = None) -> User | None:
    """The account of the person the directory signs in with this login and password, or None when
    the directory does not know the login. Raises ``DirectoryUnavailable`` when the directory cannot
    answer, ``PermissionDenied`` when it knows the person and the password is wrong, and
    ``SignInRefused`` when the directory said yes and Palier does not (recorded)."""
    if not login or not password:
        return None  # never an unauthenticated bind: the directory would take it as anonymous
    config = settings_of(provider)
    conn = service_connection(provider, config)
    try:
        found = find_person(conn, config, login)
    finally:
        close(conn)
    if len(found) != 1:
        if len(found) > 1:
            log.warning("directory %s: the login %r names several people; refused", provider.slug, login)
        return None
    dn, raw = found[0]
    entry = to_entry(config, dn, raw)
    try:
        close(_open(config, dn, password))
    except ldap_errors.LDAPBindError:
        if ExternalIdentity.objects.filter(provider=provider, subject=entry.subject).exists():
            raise PermissionDenied from None  # the directory decides this person's password
        return None
    return resolve_user(provider, entry.claims(), ip=ip)


class LdapBackend(ModelBackend):
    """Signs directory people in through the password form (after the throttle, before Django's
    own password check)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or not password:
            return None
        ip = context.client_ip(request) if request is not None else None
        for provider in Provider.objects.filter(kind=Provider.Kind.LDAP, enabled=True).order_by("position", "pk"):
            try:
                user = authenticate(provider, username, password, ip=ip)
            except DirectoryUnavailable as exc:
                _unreachable(provider, username, str(exc), ip=ip)
                continue
            except SignInRefused as refused:
                raise ValidationError(str(refused), code=refused.reason) from refused
            if user is not None and not passwords.password_allowed(user):
                # a directory password is a password: the policy that sends this role or
                # organisation to single sign-on applies to it too
                raise ValidationError(passwords.refusal_message(), code="password_sign_in_off")
            if user is not None:
                return user
        return None


def _unreachable(provider: Provider, login: str, error: str, *, ip: str | None) -> None:
    """The directory cannot answer: log it, and stop the sign-in of its people with a clear message
    (with ``fallback: local``, only those without a Palier password); others sign in as usual."""
    log.error("directory %s cannot be reached for a sign-in: %s", provider.slug, error)
    audit.record(
        "identity.directory_unreachable",
        actor=None,
        actor_email=login[:254],
        target=provider,
        changes={"error": [None, error[:500]]},
        ip=ip,
    )
    fallback = (provider.config or {}).get("fallback", "local")
    person = User.objects.filter(email__iexact=login.strip(), external_identities__provider=provider).first()
    # its people are told, unless they may and can fall back on a Palier password
    if person is not None and (fallback == "refuse" or not person.has_usable_password()):
        raise ValidationError(
            _("The directory that checks your password cannot be reached right now. Try again in a few minutes."),
            code="directory_unreachable",
        )


# --- "test this provider" ----------------------------------------------------------------------------


def test_provider(provider: Provider) -> list[Check]:
    """Connect, StartTLS, bind as the service account, and count a sample of people."""
    checks: list[Check] = []
    try:
        config = clean_config(provider.config or {})
    except ValidationError as exc:
        return [Check(_("Settings"), False, "; ".join(exc.messages))]
    checks.append(Check(_("Settings"), True, config["url"]))
    tls = "LDAPS" if config["url"].startswith("ldaps:") else ("StartTLS" if config["start_tls"] else "")
    try:
        conn = service_connection(provider, config)
    except DirectoryUnavailable as exc:
        checks.append(Check(_("Connection and sign-in of the service account"), False, str(exc)))
        return checks
    try:
        checks.append(
            Check(
                _("Connection"),
                True,
                _("Encrypted with %(tls)s; certificate checked.") % {"tls": tls}
                if tls
                else _("Not encrypted: use ldaps:// or StartTLS outside a test network."),
            )
        )
        checks.append(Check(_("Service account"), True, config["bind_dn"] or _("anonymous")))
        checks.append(_sample(conn, config))
    finally:
        close(conn)
    return checks


def _sample(conn: Connection, config: dict[str, Any]) -> Check:
    ok = conn.search(
        config["base_dn"], config["sync_filter"], search_scope=SUBTREE, attributes=["1.1"], size_limit=1000
    )
    if not ok and conn.result.get("result") not in (0, 4):
        return Check(_("Search"), False, _("The search failed: %(error)s") % {"error": conn.result.get("description")})
    count = len([item for item in conn.response or [] if item.get("type") == "searchResEntry"])
    base = config["base_dn"]
    if not count:
        return Check(_("Search"), False, _("No one found under %(base)s with this filter.") % {"base": base})
    if conn.result.get("result") == 4:  # size limit: there are more
        return Check(
            _("Search"), True, _("More than %(count)d people found under %(base)s.") % {"count": count, "base": base}
        )
    found = ngettext("%(count)d person found under %(base)s.", "%(count)d people found under %(base)s.", count)
    return Check(_("Search"), True, found % {"count": count, "base": base})
