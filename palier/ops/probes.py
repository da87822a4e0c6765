"""The readiness checks behind ``/ready``: can this process serve and queue work right now?

Each check is cheap (one statement, one ping, one tiny file) and bounded by a short timeout, as
load balancers and orchestrators poll every few seconds. A failure's details (host names, error
texts) go to the log, never to the response.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection

from palier.lib import antivirus

logger = logging.getLogger("palier.ops.ready")

TIMEOUT = 1  # seconds a network check may take


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis_ping() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    try:
        if not client.ping():
            raise ConnectionError("Redis did not answer PING")
    finally:
        client.close()


def check_queue() -> None:
    """The task queue: Redis when configured, else the queue table of the database."""
    if settings.REDIS_URL:
        _redis_ping()
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").values("id").first()  # the partial index of waiting tasks


def check_storage() -> None:
    """The attachments' storage answers. A local folder: a tiny file created and removed (a full
    disk or a read-only mount fails here, not on the next upload). An S3 bucket
    (``PALIER_S3_BUCKET``): ``HEAD`` of the bucket with Palier's keys, within ``TIMEOUT``."""
    if isinstance(default_storage, FileSystemStorage):
        folder = Path(default_storage.location)
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".ready-", dir=folder)
        try:
            os.write(fd, b"1")
        finally:
            os.close(fd)
            os.unlink(name)
        return
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket is None:
        raise RuntimeError(f"no readiness check for the storage {type(default_storage).__name__}")
    # S3: the bucket answers HEAD with these credentials, within the timeout (one cheap request,
    # no object written at every poll); the storage's own client would retry for a minute
    storage: Any = default_storage
    client = _s3_probe_client(storage.endpoint_url, storage.region_name, storage.access_key, storage.secret_key)
    client.head_bucket(Bucket=bucket)


@functools.cache
def _s3_probe_client(endpoint: str | None, region: str | None, key: str | None, secret: str | None) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(connect_timeout=TIMEOUT, read_timeout=TIMEOUT, retries={"max_attempts": 1}),
    )


def check_clamd() -> None:
    if not antivirus.ping(timeout=TIMEOUT):
        raise ConnectionError(f"clamd at {antivirus.address()} did not answer PING")


def checks() -> dict[str, Callable[[], None]]:
    """The checks that apply to this configuration, by name."""
    found: dict[str, Callable[[], None]] = {
        "database": check_database,
        "queue": check_queue,
        "storage": check_storage,
    }
    if antivirus.enabled():
        found["clamd"] = check_clamd
    return found


def readiness() -> dict[str, bool]:
    """Each check's outcome; a failure is logged with its details."""
    outcome: dict[str, bool] = {}
    for name, check in checks().items():
        try:
            check()
        except Exception as exc:
            logger.warning("readiness check %s failed: %s", name, exc, exc_info=logger.isEnabledFor(logging.DEBUG))
            outcome[name] = False
        else:
            outcome[name] = True
    return outcome
