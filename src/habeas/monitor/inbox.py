"""The monitor's inbox rows, sealed: each row carries an HMAC (the history key) over what
the event said and what it did, so a row rewritten, or forged ahead of the real event to
swallow it as a 'duplicate', does not carry its seal; ``audit verify`` also finds a row
deleted (every event the log recorded must still be in the inbox)."""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, inspect, text

from habeas.store.keys import key_for, seal
from habeas.store.operational import reading

_SEAL_COLUMNS = (
    "source",
    "event_id",
    "kind",
    "occurred_at",
    "status",
    "person_id",
    "record_id",
    "case_id",
    "effect",
    "record",
)


def _moment(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)[:19].replace("T", " ")


def inbox_seal(key: bytes, row: Any) -> str:
    """The seal of an inbox row: its identity, what it said and what it did."""
    values = [getattr(row, c) for c in _SEAL_COLUMNS]
    values[3] = _moment(values[3])
    return seal(key, "inbox", *values)


def inbox_sealed(key: bytes, row: Any) -> bool:
    """Whether an inbox row carries its seal."""
    return row.seal is not None and hmac.compare_digest(inbox_seal(key, row), row.seal)


def inbox_problem(engine: Engine) -> str | None:
    """The first inbox row that does not carry its seal (rewritten or forged), or event
    the log recorded that the inbox no longer holds (deleted); None when all is whole."""

    with reading(engine).connect() as conn:
        if not inspect(conn).has_table("monitor_inbox"):
            return None
        held = set()
        cols = ", ".join(_SEAL_COLUMNS)
        for row in conn.execute(
            text(f"SELECT {cols}, seal FROM monitor_inbox ORDER BY source, event_id")
        ):
            if not inbox_sealed(key_for(engine), row):
                return (
                    f"inbox row {row.source}:{row.event_id} does not carry its seal (it "
                    "was rewritten, or written outside habeas)"
                )
            held.add(f"event:{row.source}:{row.event_id}")
        for (resources,) in conn.execute(
            text(
                "SELECT resources FROM audit_entries WHERE action = 'monitor_event' "
                "AND decision = 'allow' ORDER BY seq"
            )
        ):
            for r in json.loads(resources):
                if r.startswith("event:") and r not in held:
                    return (
                        f"{r[6:]}: the log recorded this event, the inbox no longer holds "
                        "it (deleted)"
                    )
    return None
