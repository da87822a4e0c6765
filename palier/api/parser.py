"""JSON bodies only: another content type answers 415, broken JSON 400 (see ``errors``)."""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import HttpRequest
from ninja.parser import Parser

from palier.api.errors import UnsupportedMediaType


class JsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        content_type = request.content_type or ""
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType(content_type)
        return cast(dict[str, Any], json.loads(request.body))
