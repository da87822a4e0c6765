"""Palier settings: one file, every deployment difference is an environment variable.

Each variable is documented in the README's configuration table. Invalid values fail loudly at
start-up rather than being silently replaced by a default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from palier.lib import antivirus, s3
from palier.lib.env import envbool, envint, envlist, envstr
from palier.system.proxies import parse_networks

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(envstr("PALIER_DATA_DIR", str(BASE_DIR.parent / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> tuple[str, Path | None]:
    """The key and the file it was read from (``None``: the environment's SECRET_KEY)."""
    key = envstr("SECRET_KEY", "")
    if key:
        return key, (Path(os.environ["SECRET_KEY_FILE"]) if os.environ.get("SECRET_KEY_FILE") else None)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        _create_secret_key_file(path)
    return path.read_text(encoding="utf-8").strip(), path


def _create_secret_key_file(path: Path) -> None:
    """Write a new key readable by this user only, from the moment the file exists: a private
    file (O_EXCL, mode 0600 whatever the umask) is written completely, then linked into place,
    which fails if a process starting at the same time got there first (its key is kept)."""
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # os.open's mode is filtered by the umask; only narrower is fine
        os.write(fd, secrets.token_urlsafe(50).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


SECRET_KEY, _SECRET_KEY_PATH = _secret_key()
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",  # sign-in throttling (the Access block below)
    "django_htmx",
    "csp",
    "template_partials",
    "bootstrap",
    "django_tasks",
    "django_tasks_db",
    "palier.core",
    "palier.audit",
    "palier.people",
    "palier.tickets",
    "palier.kb",
    "palier.notifications",
    "palier.assets",  # assets and configuration items (docs/assets.md)
    "palier.integrations",
    "palier.routing",
    "palier.sla",
    "palier.mail",
    "palier.catalog",
    "palier.timelog",
    "palier.worklist",
    "palier.automation",
    "palier.macros",
    "palier.surveys",
    "palier.problems",  # problems, known errors, major incidents (docs/problems.md)
    "palier.changes",  # requests for change, the board, the change calendar (docs/changes.md)
    "palier.webhooks",  # outgoing webhook subscriptions (docs/webhooks.md)
    "palier.teamsbot",  # the Microsoft Teams bot (docs/teams.md)
    "palier.agent",
    "palier.portal",
    "palier.api",
    "palier.system",
    "palier.reports",
    "palier.backups",
    "palier.identity",
    "palier.ops",  # /health, /ready, /metrics (docs/operations.md)
    "palier.dataexport",  # palier export-data (docs/data-export.md)
    "palier.demo",  # demo data: depends on every app above, none depends on it
    "palier.apps.PalierConfig",  # last: wires the apps together (palier/events.py)
]

MIDDLEWARE = [
    "palier.lib.logs.RequestIdMiddleware",  # first: the request id of every log line, before proxies rewrite REMOTE_ADDR
    "palier.ops.metrics.MetricsMiddleware",  # counts and times every request, static files included
    "palier.system.proxies.TrustedProxyMiddleware",  # the scheme and address every layer below sees
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # palier.middleware.X: Django's or Palier's middleware X, skipped by API requests with a bearer
    # token, which use no session (palier/lib/bearer.py)
    "palier.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "palier.lib.uploads.UploadLimitMiddleware",  # before anything reads a body (CSRF does)
    # under its own name: `check --deploy` looks for it; for a bearer API request it has nothing
    # to do (the API's views are exempt and it sets no cookie unless a page asks for the token)
    "django.middleware.csrf.CsrfViewMiddleware",
    "palier.middleware.AuthenticationMiddleware",
    "palier.lib.bearer.BearerUserMiddleware",  # bearer API requests: anonymous until the token is checked
    "palier.audit.context.AuditContextMiddleware",
    "palier.middleware.UserLanguageMiddleware",
    "palier.middleware.MessageMiddleware",
    "palier.middleware.SessionPolicyMiddleware",  # session lifetime and idle timeout
    "palier.middleware.SecondStepMiddleware",  # half-signed-in sessions: the second step only
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "palier.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the lockout page
]

ROOT_URLCONF = "palier.urls"
WSGI_APPLICATION = "palier.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "palier.system.context_processors.demo_accounts",  # the administrators' demo warning
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{DATA_DIR / 'palier.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as exc:  # unknown scheme
    raise ImproperlyConfigured(f"DATABASE_URL is invalid: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at the
        # start of a transaction so two writers queue on the busy timeout instead of failing.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-64000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": envint("SQLITE_BUSY_TIMEOUT", 20, minimum=1),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and envbool("PALIER_PG_PREPARE", True):
    # Server-side parameters let psycopg prepare the statements a connection runs often: PostgreSQL
    # then plans them once instead of at every request (planning the ticket detail query, seven
    # joined tables, cost more than running it).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not envbool("PALIER_PG_JIT", False):
    # PostgreSQL's JIT compiler spent 0.4-1.5 s compiling the reports' aggregates and saved nothing;
    # Palier's queries are short, so it is off for Palier's connections unless asked for.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background work (Django tasks API) -------------------------------------------------------
REDIS_URL = envstr("REDIS_URL", "")
if REDIS_URL:
    # django-tasks' backends, carrying the request id into the tasks a request enqueues (lib/taskcontext.py)
    TASKS = {"default": {"BACKEND": "palier.lib.taskcontext_rq.RQBackend", "QUEUES": ["default"]}}
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
else:
    TASKS = {"default": {"BACKEND": "palier.lib.taskcontext.DatabaseBackend", "QUEUES": ["default"]}}

# --- Auth and security ---------------------------------------------------------------------------
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Deployment and browser security: HTTPS, proxies, headers, deployment checks --------------------
# docs/security.md "Deployment and browser"; `palier check --deploy` (palier/system/checks.py)
SECURE_HTTPS = envbool("PALIER_HTTPS", False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = 31536000 if SECURE_HTTPS else 0
# X-Forwarded-Proto and X-Forwarded-For are believed only from these addresses or networks
# (palier/system/proxies.py): a client talking to Palier directly cannot claim HTTPS or an address.
PALIER_TRUSTED_PROXIES = parse_networks("PALIER_TRUSTED_PROXIES", envlist("PALIER_TRUSTED_PROXIES", []))
PALIER_SECRET_KEY_PATH = _SECRET_KEY_PATH  # None when SECRET_KEY comes from the environment
# Content Security Policy (django-csp): only Palier's own files run or style a page; no inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # Bootstrap draws its small icons as data: SVG in its CSS
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# browser features no Palier page uses, refused to every page and frame (django-permissions-policy)
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# Django deployment checks that Palier's own replace with its settings' names (palier/system/checks.py)
# or that do not apply: W004 HSTS, W012/W016 secure cookies (all follow PALIER_HTTPS), W018 DEBUG;
# W008 the HTTPS redirect (the proxy terminating TLS redirects), W005/W021 HSTS for sub-domains and
# browsers' preload list (the domain owner's decision, beyond one application).
SILENCED_SYSTEM_CHECKS = [
    "security.W004",
    "security.W005",
    "security.W008",
    "security.W012",
    "security.W016",
    "security.W018",
    "security.W021",
    # checks an operator acknowledges (e.g. palier.W005 when files are scanned outside Palier)
    *envlist("PALIER_SILENCED_CHECKS", []),
]

# --- Languages and time ----------------------------------------------------------------------------
LANGUAGE_CODE = envstr("LANGUAGE_CODE", "fr")
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise ImproperlyConfigured(f"LANGUAGE_CODE={LANGUAGE_CODE!r} must be fr or en")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = envstr("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Files -------------------------------------------------------------------------------------------
STATIC_URL = "static/"
# collectstatic's folder; a container image fills one outside the data volume (docs/deployment.md)
STATIC_ROOT = Path(envstr("PALIER_STATIC_DIR", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# palier/static is found as the "palier" app's static folder (palier/apps.py)
MEDIA_ROOT = Path(envstr("PALIER_MEDIA_DIR", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Several machines: the uploads in an S3-compatible bucket when PALIER_S3_BUCKET is set (palier/lib/s3.py);
# private objects, every download through Palier's permission check (docs/operations.md)
if (_s3 := s3.storage_from_env()) is not None:
    STORAGES["default"] = _s3
WHITENOISE_USE_FINDERS = True
PALIER_TRASH_DAYS = envint("PALIER_TRASH_DAYS", 30, minimum=1)  # orphan uploads kept in media/trash/
PALIER_MAX_ATTACHMENT_BYTES = envint("PALIER_MAX_ATTACHMENT_MB", 25, minimum=1) * 1024 * 1024
# Request bodies: JSON bodies are small; uploads are streamed to disk above 2.5 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("PALIER_MAX_BODY_KB", 1024, minimum=16) * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Uploads: antivirus -----------------------------------------------------------------------------
# clamd scanning every attachment before it is stored (tcp://HOST:PORT or unix:///path); empty = off.
PALIER_CLAMD = antivirus.check_address(envstr("PALIER_CLAMD", ""))

# --- Chat (docs/integrations.md) -------------------------------------------------------------------------
# Slack's Web API (direct messages with approval buttons) and the only addresses answers to a click go to.
PALIER_SLACK_API_URL = envstr("PALIER_SLACK_API_URL", "https://slack.com/api")
PALIER_SLACK_HOOKS_URL = envstr("PALIER_SLACK_HOOKS_URL", "https://hooks.slack.com/")
# The Teams bot (docs/teams.md): where the Bot Framework's signing keys are published, where the bot's
# token comes from (single-tenant apps: https://login.microsoftonline.com/<tenant id>/oauth2/v2.0/token),
# and the only Bot Connector addresses Palier accepts in an activity and writes to.
PALIER_TEAMS_OPENID_METADATA = envstr(
    "PALIER_TEAMS_OPENID_METADATA", "https://login.botframework.com/v1/.well-known/openidconfiguration"
)
PALIER_TEAMS_TOKEN_URL = envstr(
    "PALIER_TEAMS_TOKEN_URL", "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
)
PALIER_TEAMS_TOKEN_SCOPE = envstr("PALIER_TEAMS_TOKEN_SCOPE", "https://api.botframework.com/.default")
PALIER_TEAMS_ALLOWED_SERVICE_URLS = envlist(
    "PALIER_TEAMS_ALLOWED_SERVICE_URLS",
    ["https://smba.trafficmanager.net/", "https://smba.infra.gcc.teams.microsoft.com/"],
)

# --- Email ----------------------------------------------------------------------------------------------
# Without configuration, mail is written as files into the data folder (one .log file per run of the
# sending process) instead of being printed: a demo's notifications would flood the terminal.
EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = envstr("EMAIL_FILE_PATH", str(DATA_DIR / "sent-mail"))
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Palier <palier@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Mail intake hardening (docs/email.md, docs/security.md "Email") -------------------------------
# Tickets opened by mail per hour, from one sender domain and in all; 0 turns a limit off. Over a
# limit the message waits in the quarantine (an admin's Retry processes it anyway).
PALIER_MAIL_TICKETS_PER_DOMAIN_PER_HOUR = envint("PALIER_MAIL_TICKETS_PER_DOMAIN_PER_HOUR", 100, minimum=0)
PALIER_MAIL_TICKETS_PER_HOUR = envint("PALIER_MAIL_TICKETS_PER_HOUR", 1000, minimum=0)
# Days the raw bytes of processed messages are kept (the ticket keeps the text); 0 keeps them forever.
PALIER_MAIL_RAW_RETENTION_DAYS = envint("PALIER_MAIL_RAW_RETENTION_DAYS", 90, minimum=0)
# Inventory reports (docs/inventory.md): the largest report accepted, in MB once decompressed, and
# the days the raw body of an applied report is kept (rejected and held ones: 90 days).
PALIER_INVENTORY_MAX_MB = envint("PALIER_INVENTORY_MAX_MB", 20, minimum=1)
PALIER_INVENTORY_RAW_DAYS = envint("PALIER_INVENTORY_RAW_DAYS", 30, minimum=1)
# Outgoing webhook subscriptions (docs/webhooks.md): http:// addresses and addresses on a private,
# loopback or link-local network are refused unless allowed here (at subscription and delivery);
# a subscription whose attempts keep failing (this many in a row, over at least these hours) is
# disabled and the administrators are told.
PALIER_WEBHOOKS_ALLOW_HTTP = envbool("PALIER_WEBHOOKS_ALLOW_HTTP", False)
PALIER_WEBHOOKS_ALLOW_PRIVATE = envbool("PALIER_WEBHOOKS_ALLOW_PRIVATE", False)
PALIER_WEBHOOKS_DISABLE_AFTER = envint("PALIER_WEBHOOKS_DISABLE_AFTER", 50, minimum=1)
PALIER_WEBHOOKS_DISABLE_HOURS = envint("PALIER_WEBHOOKS_DISABLE_HOURS", 24, minimum=0)
# Former secret keys, comma-separated, while rotating SECRET_KEY: stored mailbox secrets (and
# Django's signatures) still open with them; `palier rotate-secrets` re-encrypts under the new key.
SECRET_KEY_FALLBACKS = envlist("SECRET_KEY_FALLBACKS", [])

# --- Backups (palier backup / restore, docs/operations.md "Backups and restore") -------------------
# Folder of the daily scheduled backup (empty: no scheduled backup, and `check --deploy` warns);
# the newest archive of each of the last KEEP_DAILY days and KEEP_WEEKLY ISO weeks is kept.
PALIER_BACKUP_DIR = envstr("PALIER_BACKUP_DIR", "").strip()
PALIER_BACKUP_KEEP_DAILY = envint("PALIER_BACKUP_KEEP_DAILY", 7, minimum=1)
PALIER_BACKUP_KEEP_WEEKLY = envint("PALIER_BACKUP_KEEP_WEEKLY", 4, minimum=0)

# --- Palier behaviour ------------------------------------------------------------------------------
# Days during which a requester or agent may reopen a resolved ticket; after that the worker
# closes it.
PALIER_REOPEN_DAYS = envint("PALIER_REOPEN_DAYS", 7, minimum=0)
# an email reply from a colleague (same organisation domain) may join the requester's ticket
PALIER_MAIL_TRUST_ORGANISATION_DOMAIN = envbool("PALIER_MAIL_TRUST_ORGANISATION_DOMAIN", False)
# When true, every agent sees every ticket; otherwise agents see their groups' tickets.
PALIER_AGENTS_SEE_ALL = envbool("PALIER_AGENTS_SEE_ALL", False)
# merging tickets (docs/merge-split.md): across organisations, and how long a merge may be undone
PALIER_MERGE_ACROSS_ORGANISATIONS = envbool("PALIER_MERGE_ACROSS_ORGANISATIONS", False)
PALIER_MERGE_UNDO_MINUTES = envint("PALIER_MERGE_UNDO_MINUTES", 30, minimum=0)
PALIER_PAGE_SIZE = envint("PALIER_PAGE_SIZE", 25, minimum=1)
# Ticket exports above this many rows run as a background job (docs/reports-exports.md)
PALIER_EXPORT_INLINE_ROWS = envint("PALIER_EXPORT_INLINE_ROWS", 50_000, minimum=0)
# Dashboards: "facts" reads the per-ticket facts kept by the event stream (reports/facts.py) once
# they are built, "live" recomputes from the ticket history on every page (slower, the reference)
PALIER_REPORTS_SOURCE = envstr("PALIER_REPORTS_SOURCE", "facts").strip().lower()
if PALIER_REPORTS_SOURCE not in ("facts", "live"):
    raise ImproperlyConfigured("PALIER_REPORTS_SOURCE must be 'facts' or 'live'.")
# The dashboards keep each viewer's figures this many seconds (0: computed on every request)
PALIER_REPORTS_CACHE_SECONDS = envint("PALIER_REPORTS_CACHE_SECONDS", 60, minimum=0)
# Group commit of API ticket creations (tickets/services/batching.py): up to N concurrent creations
# of one web process share a transaction. PostgreSQL only (SQLite serialises writers anyway).
PALIER_CREATE_BATCH = envint("PALIER_CREATE_BATCH", 32, minimum=0)
# Satisfaction surveys: sent when a ticket is resolved; links valid N days; answers changeable N days
PALIER_SURVEYS_ENABLED = envbool("PALIER_SURVEYS_ENABLED", True)
PALIER_SURVEY_LINK_DAYS = envint("PALIER_SURVEY_LINK_DAYS", 14, minimum=1)
PALIER_SURVEY_CHANGE_DAYS = envint("PALIER_SURVEY_CHANGE_DAYS", 7, minimum=0)
# Time tracking and the cost of support: the desk's currency (ISO 4217 code) and the hours during
# which an agent may still edit or delete a time entry they logged (administrators always may)
PALIER_CURRENCY = envstr("PALIER_CURRENCY", "EUR").upper()
if not (len(PALIER_CURRENCY) == 3 and PALIER_CURRENCY.isalpha() and PALIER_CURRENCY.isascii()):
    raise ImproperlyConfigured(f"PALIER_CURRENCY={PALIER_CURRENCY!r} must be a three-letter currency code")
PALIER_TIME_EDIT_HOURS = envint("PALIER_TIME_EDIT_HOURS", 24, minimum=0)
# The address people reach Palier at, for links in emails (notifications, approvals, surveys).
PALIER_BASE_URL = envstr("PALIER_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not PALIER_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"PALIER_BASE_URL must start with http:// or https://, not {PALIER_BASE_URL!r}")
# Assets (docs/assets.md, "Reminders and warnings"): the owner group hears of a warranty ending
# within N days and of a licence expiring within M days; a machine without an inventory report for
# K days is listed as stale
PALIER_ASSET_WARRANTY_NOTICE_DAYS = envint("PALIER_ASSET_WARRANTY_NOTICE_DAYS", 30, minimum=0)
PALIER_LICENCE_NOTICE_DAYS = envint("PALIER_LICENCE_NOTICE_DAYS", 60, minimum=0)
PALIER_INVENTORY_STALE_DAYS = envint("PALIER_INVENTORY_STALE_DAYS", 30, minimum=1)
# sign-in providers from a TOML file (docs/identity.md, "Configuration file"), loaded by `palier up`
PALIER_IDENTITY_CONFIG = envstr("PALIER_IDENTITY_CONFIG", "")

# --- Access: API tokens, sign-in throttling, the audit log (docs/security.md#access) ---------------
# Days a new API token lives unless its creator chooses fewer; 0: tokens do not expire by default
PALIER_TOKEN_DAYS = envint("PALIER_TOKEN_DAYS", 90, minimum=0)
# Days the audit log keeps its events (the audit-prune job removes older ones); 0: forever
PALIER_AUDIT_DAYS = envint("PALIER_AUDIT_DAYS", 365, minimum=0)
# Sign-in throttling (django-axes, palier/people/signin.py): after N failed sign-ins an account and
# an address are each locked for M minutes, doubled for every further N failures of the day
# API rate limits (palier/api/ratelimit.py): requests per minute per token and per address (0: off),
# counted in the cache: Redis when REDIS_URL is set (shared by every process), else each process's memory
PALIER_API_RATE_TOKEN = envint("PALIER_API_RATE_TOKEN", 1200, minimum=0)
PALIER_API_RATE_ADDRESS = envint("PALIER_API_RATE_ADDRESS", 3000, minimum=0)
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # sessions read from Redis, written to it and to the database: every web process sees them, a
    # Redis restart signs nobody out, and ending a session by key (people/sessions.py) removes both
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
PALIER_LOGIN_FAILURES = envint("PALIER_LOGIN_FAILURES", 5, minimum=1)
PALIER_LOGIN_LOCKOUT_MINUTES = envint("PALIER_LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AUTHENTICATION_BACKENDS = [
    "palier.people.signin.ThrottleBackend",  # first: refuses a locked account or address
    "palier.identity.passwords.PolicyBackend",  # refuses a password the sign-in policy switched off
    "palier.identity.ldap.LdapBackend",  # directory people (LDAP / Active Directory providers)
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = True
AXES_FAILURE_LIMIT = PALIER_LOGIN_FAILURES
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_COOLOFF_TIME = "palier.people.signin.cooloff"
AXES_USERNAME_CALLABLE = "palier.people.signin.username"
AXES_CLIENT_IP_CALLABLE = "palier.audit.context.client_ip"  # REMOTE_ADDR, as every audit event
AXES_LOCKOUT_CALLABLE = "palier.portal.views.people.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# Password reset by email (palier/identity/passwords.py): the link's life in minutes, and how many
# requests an hour one email address and one client address may make
PALIER_PASSWORD_RESET_MINUTES = envint("PALIER_PASSWORD_RESET_MINUTES", 60, minimum=5)
PASSWORD_RESET_TIMEOUT = PALIER_PASSWORD_RESET_MINUTES * 60
PALIER_PASSWORD_RESET_EMAIL_LIMIT = envint("PALIER_PASSWORD_RESET_EMAIL_LIMIT", 5, minimum=1)
PALIER_PASSWORD_RESET_IP_LIMIT = envint("PALIER_PASSWORD_RESET_IP_LIMIT", 20, minimum=1)

# one line per task run is noise in `palier up` and `palier worker`; failures are still logged
PALIER_TASK_LOG_LEVEL = envstr("PALIER_TASK_LOG_LEVEL", "WARNING").upper()
if PALIER_TASK_LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"PALIER_TASK_LOG_LEVEL={PALIER_TASK_LOG_LEVEL!r} is not a log level")
# PALIER_LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request id, user id,
# path, status, duration; palier/lib/logs.py); "text" (default): the message alone, as before
PALIER_LOG_FORMAT = envstr("PALIER_LOG_FORMAT", "text").strip().lower()
if PALIER_LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"PALIER_LOG_FORMAT={PALIER_LOG_FORMAT!r} must be text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "palier.lib.logs.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "palier.lib.logs.JsonFormatter"},
        "text": {"format": "%(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request"], "formatter": PALIER_LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django_tasks": {"level": PALIER_TASK_LOG_LEVEL},
        "xmlschema": {"level": "WARNING"},  # pysaml2's schema loader talks at INFO on every start
        # one line per request; gunicorn's access log says the same in text mode
        "palier.request": {"level": "INFO" if PALIER_LOG_FORMAT == "json" else "WARNING"},
    },
}

# --- Operations: /health, /ready, /metrics (docs/operations.md) ---------------------------------------
# /metrics answers a bearer token (PALIER_METRICS_TOKEN) and/or listed addresses or networks
# (PALIER_METRICS_ALLOW); with neither it does not exist, with both a scrape needs both
PALIER_METRICS_TOKEN = envstr("PALIER_METRICS_TOKEN", "").strip()
PALIER_METRICS_ALLOW = parse_networks("PALIER_METRICS_ALLOW", envlist("PALIER_METRICS_ALLOW", []))
