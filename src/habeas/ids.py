"""Deterministic identifiers: the same source and natural key always give the same id."""

from __future__ import annotations

import hashlib

KEY_SEPARATOR = "\x1f"


def record_id(source: str, *natural_key: str) -> str:
    """The record id ingest assigns: source + natural key, hashed (matches the SQL form)."""
    text = source + KEY_SEPARATOR + KEY_SEPARATOR.join(natural_key)
    return "r" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
