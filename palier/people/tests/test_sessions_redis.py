"""Sessions in Redis (``REDIS_URL`` set): every web process reads them from the shared Redis, the
database keeps them too (``cached_db``), and ending a session by key removes it from both, so the
person is signed out on every machine at once. Real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from palier.people import sessions
from palier.people.models import User, UserSession
from testsupport.processes import palier_env, redis_database

pytestmark = pytest.mark.django_db

SECURITY = "/accounts/profile/security/"
CACHED_DB = "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def redis_sessions(settings: Any) -> Iterator[Any]:
    """Sessions as ``palier/settings.py`` sets them with ``REDIS_URL``, in a Redis database of the
    tests' own; yields a client of that database."""
    import redis

    with redis_database(14) as url:
        prefix = f"palier-test-{uuid.uuid4().hex[:8]}"
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
        }
        settings.SESSION_ENGINE = CACHED_DB
        client = redis.Redis.from_url(url)
        try:
            yield client, prefix
        finally:
            keys = list(client.scan_iter(f"{prefix}:*"))
            if keys:
                client.delete(*keys)
            client.close()


def _browser(user: User, agent: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_USER_AGENT=agent)
    assert client.post(reverse("login"), {"username": user.email, "password": "pw-alice-123!"}).status_code == 302
    return client


def _in_redis(redis_client: Any, prefix: str, key: str) -> bool:
    return any(redis_client.scan_iter(f"{prefix}:*{key}"))


def test_the_settings_share_sessions_cache_and_files_when_asked() -> None:
    """REDIS_URL: sessions and cache in Redis; PALIER_S3_BUCKET: uploads in that private bucket."""
    code = (
        "from django.conf import settings as s; d = s.STORAGES['default']; "
        "print(s.SESSION_ENGINE, s.CACHES['default']['BACKEND'], d['BACKEND'], "
        "d['OPTIONS']['bucket_name'], d['OPTIONS']['default_acl'], d['OPTIONS']['access_key'])"
    )
    env = palier_env(
        REDIS_URL="redis://127.0.0.1:6379/14", PALIER_S3_BUCKET="desk-files", PALIER_S3_ACCESS_KEY_ID="AKIDTEST"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], env=env, capture_output=True, text=True
    )
    assert out.stdout.split() == [
        CACHED_DB,
        "django.core.cache.backends.redis.RedisCache",
        "storages.backends.s3.S3Storage",
        "desk-files",
        "private",
        "AKIDTEST",
    ], out.stderr


def test_a_session_ended_by_key_is_gone_from_redis_and_the_database(redis_sessions: Any, requester: User) -> None:
    redis_client, prefix = redis_sessions
    laptop, phone = _browser(requester, "Laptop"), _browser(requester, "Phone")
    keys = {row.user_agent: row.session_key for row in UserSession.objects.filter(user=requester)}
    assert all(_in_redis(redis_client, prefix, key) for key in keys.values())
    assert Session.objects.filter(session_key__in=keys.values()).count() == 2  # in the database too
    # another web process, with nothing in its memory, finds the session in Redis
    Session.objects.filter(session_key=keys["Laptop"]).delete()
    assert laptop.get(SECURITY).status_code == 200
    # the person ends the phone's session: Redis and the database both forget it
    row = UserSession.objects.get(session_key=keys["Phone"])
    assert sessions.end_session(requester, session_id=row.pk, by=requester) == 1
    assert not _in_redis(redis_client, prefix, keys["Phone"])
    assert not Session.objects.filter(session_key=keys["Phone"]).exists()
    assert phone.get(SECURITY).status_code == 302  # signed out
    # signing out everywhere else (a password change, an administrator) ends the laptop's too
    assert sessions.end_sessions(requester, by=None) == 1
    assert not _in_redis(redis_client, prefix, keys["Laptop"])
    assert laptop.get(SECURITY).status_code == 302
