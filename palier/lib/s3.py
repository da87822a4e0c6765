"""The uploads' storage in an S3-compatible bucket (django-storages), from ``PALIER_S3_…`` variables.

Objects are written private, never replaced by an upload of the same name, and Palier hands out
no URL to them: every download goes through Palier's permission check and is streamed by the web
process (docs/operations.md, "Several machines"). A stray ``.url()`` would give a link signed for
60 seconds, never a public one.
"""

from __future__ import annotations

from typing import Any

from palier.lib.env import envstr


def storage_from_env() -> dict[str, Any] | None:
    """``STORAGES["default"]`` for the bucket ``PALIER_S3_BUCKET``, or None when it is not set.

    Credentials: ``PALIER_S3_ACCESS_KEY_ID`` / ``PALIER_S3_SECRET_ACCESS_KEY``; left empty, boto3
    finds the standard ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, a profile or a role."""
    bucket = envstr("PALIER_S3_BUCKET", "").strip()
    if not bucket:
        return None
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": envstr("PALIER_S3_ENDPOINT_URL", "").strip() or None,
            "region_name": envstr("PALIER_S3_REGION", "").strip() or None,
            "access_key": envstr("PALIER_S3_ACCESS_KEY_ID", "").strip() or None,
            "secret_key": envstr("PALIER_S3_SECRET_ACCESS_KEY", "").strip() or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": False,  # two uploads with one name never replace each other
            "signature_version": "s3v4",
            # a download is fetched into a temporary file, then streamed: memory above 2.5 MB is disk
            "max_memory_size": 2_621_440,
        },
    }
