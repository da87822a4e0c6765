"""Limits that keep a hostile message cheap: raw size, header count, body length, parts."""

from __future__ import annotations

MAX_RAW_BYTES = 50 * 1024 * 1024
MAX_HEADERS = 1000
MAX_BODY_CHARS = 1_000_000
MAX_PARTS = 500
MAX_HEADER_CHARS = 10_000
