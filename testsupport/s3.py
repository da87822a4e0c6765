"""A real S3-compatible server for the tests: moto in server mode (``ThreadedMotoServer``), an HTTP
server on 127.0.0.1 with a free port that boto3 and django-storages talk to like to any S3 service.

Fixtures: ``s3_server`` (session: the endpoint URL) and ``s3_media`` (this test's uploads in a
fresh private bucket of that server, through Palier's own ``PALIER_S3_…`` settings). ``s3_env``
gives the environment variables that point a ``palier`` subprocess at a bucket. Without moto the
tests skip, unless ``PALIER_REQUIRE_S3=1`` (then they fail).
"""

from __future__ import annotations

import functools
import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

KEY_ID, SECRET = "palier-test-key", "palier-test-secret"  # moto accepts any credentials
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        reason = f"moto[server] is not installed ({exc})"
        if os.environ.get("PALIER_REQUIRE_S3") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@functools.cache
def client(endpoint: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET
    )


def new_bucket(endpoint: str) -> str:
    name = f"palier-{uuid.uuid4().hex[:12]}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    """The variables that put a Palier's uploads in ``bucket`` (as an operator sets them)."""
    return {
        "PALIER_S3_BUCKET": bucket,
        "PALIER_S3_ENDPOINT_URL": endpoint,
        "PALIER_S3_REGION": REGION,
        "PALIER_S3_ACCESS_KEY_ID": KEY_ID,
        "PALIER_S3_SECRET_ACCESS_KEY": SECRET,
    }


def objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    """Every object of the bucket, by key."""
    s3 = client(endpoint)
    found: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


@pytest.fixture
def s3_media(s3_server: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test's uploads go to a fresh bucket of the local S3 server, configured from the same
    variables an operator sets; returns the bucket's name."""
    from palier.lib.s3 import storage_from_env

    bucket = new_bucket(s3_server)
    for name, value in s3_env(s3_server, bucket).items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": storage_from_env()}
    return bucket
