"""Settings of the peer's project: django-helpdesk as its documentation installs it, run the way
Palier is run by bench/run.py (DEBUG off, gunicorn, the same database server). Everything that
differs between runs comes from the environment, set by bench/compare.py:

    PEER_DATABASE_URL   postgres://user@host:port/name, or sqlite:////absolute/path.sqlite3
    PEER_SECRET_KEY     a random key
    PEER_DATA_DIR       a folder for media files (attachments) and static files

Mail goes nowhere (the dummy backend): the peer sends its notifications while it answers, where
Palier queues them; neither is measured sending mail.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit


def database_from_url(url: str) -> dict[str, object]:
    """Django's DATABASES["default"] for a postgres:// or sqlite:/// URL."""
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,  # as Palier's settings
        }
    if parts.scheme == "sqlite":
        # sqlite:////abs/path and sqlite:///abs/path both name /abs/path (always absolute)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": "/" + unquote(parts.path).lstrip("/")}
    raise ValueError(f"unsupported database URL scheme: {parts.scheme!r}")


DATA_DIR = Path(os.environ.get("PEER_DATA_DIR", "/tmp/peer-helpdesk"))
SECRET_KEY = os.environ.get("PEER_SECRET_KEY", "")
if not SECRET_KEY:
    raise RuntimeError("PEER_SECRET_KEY is not set")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES = {"default": database_from_url(os.environ.get("PEER_DATABASE_URL", f"sqlite:///{DATA_DIR}/peer.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,  # with DEBUG off, Django caches the compiled templates
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
SITE_ID = 1
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = str(DATA_DIR / "static")
MEDIA_ROOT = str(DATA_DIR / "media")
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = "desk@peer.test"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",  # as Palier's API: a bearer token
        "rest_framework.authentication.SessionAuthentication",
    ]
}
# no pinax-teams (an optional extra): the knowledge base stays on, teams off
HELPDESK_TEAMS_MODE_ENABLED = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
