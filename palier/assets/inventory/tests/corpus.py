"""The shared GLPI inventory examples, read by path (PALIER_INVENTORY_CORPUS overrides)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from palier.assets.inventory import tokens
from palier.assets.models import InventoryToken

DEFAULT = settings.BASE_DIR.parent.parent / "shared" / "corpus" / "inventory"
CORPUS = Path(os.environ.get("PALIER_INVENTORY_CORPUS") or DEFAULT)
EXAMPLES = CORPUS / "examples"

needs_corpus = pytest.mark.skipif(
    not EXAMPLES.is_dir(),
    reason=f"the GLPI inventory examples are not at {CORPUS} (set PALIER_INVENTORY_CORPUS)",
)


def example_bytes(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def example(name: str) -> dict[str, Any]:
    return json.loads(example_bytes(name))


def new_token(**scope: Any) -> tuple[InventoryToken, str]:
    issued = tokens.create_token(name=scope.pop("name", "agents"), by=None, **scope)
    return issued.token, issued.secret


def post(client: Any, body: bytes | dict[str, Any], secret: str | None, **headers: Any) -> Any:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    extra = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    extra["HTTP_ACCEPT_LANGUAGE"] = "en"  # the answers' messages are translated (French by default)
    extra.update(headers)
    content_type = extra.pop("content_type", "application/json")
    return client.post("/inventory/", data=data, content_type=content_type, **extra)
