"""A batch of events checked against its feed's declaration, as rows of a file are.

Each event is one JSON object (one line). The same validation a file's rows get at
ingest applies — the declared fields, their checks, required fields, lengths, control
characters, structure — and then the event's own: its id, its time (not in the future),
its direction for a crossing feed. A refused event is quarantined with the field, the
rule and the reason; a field outside the allow-list is dropped and named, its value
never kept (a self-report's photo reference, a phone's position).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from habeas.monitor.feeds import Feed
from habeas.sources.readers import MAX_LINE_BYTES, read_jsonl
from habeas.sources.validate import build_validation_query

MAX_EVENTS = 1000
"""Events in one batch (an HTTP body, a file chunk, a fetch from the stream)."""
MAX_EVENT_BYTES = 64 * 1024
"""The largest event (one JSON object); a departure is a few hundred bytes."""
FUTURE_SLACK = timedelta(minutes=10)
"""How far ahead of this machine's clock an event may be dated (clocks drift)."""
DIRECTIONS = {
    "EXIT": "exit",
    "DEPARTURE": "exit",
    "OUT": "exit",
    "ENTRY": "entry",
    "ARRIVAL": "entry",
    "IN": "entry",
}


@dataclass(frozen=True)
class Checked:
    """An event that passed its checks: what it is, when, and its allowed fields."""

    position: int
    event_id: str
    kind: str  # exit | entry | self_report | removal_verification
    occurred_at: datetime
    record: dict[str, Any]
    """The canonical fields of the event, allowed fields only (JSON-safe values)."""
    set_aside: tuple[str, ...] = ()
    """Fields whose value failed its check and was set aside (the event kept)."""
    dropped: tuple[str, ...] = ()
    """Fields the declaration does not allow: named, their values not kept."""


@dataclass(frozen=True)
class Rejected:
    """An event refused, with where it was and why (for quarantine)."""

    position: int
    event_id: str | None
    field: str | None
    rule: str
    reason: str
    value: str | None = None

    def describe(self) -> str:
        """One line naming the event, the field and the rule."""
        where = f"event {self.position}" + (f" ({self.event_id})" if self.event_id else "")
        on = f", field {self.field}" if self.field else ""
        return f"{where}{on}: {self.reason} [{self.rule}]"


class RepeatedKey(ValueError):
    """A JSON object naming one key twice (the key is the message)."""


def no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, refusing a key named twice (``RepeatedKey``)."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise RepeatedKey(k)
        out[k] = v
    return out


@dataclass
class Batch:
    """What a batch's checks found."""

    checked: list[Checked] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    repeated: list[tuple[int, str]] = field(default_factory=list)
    """(position, event id) of an event sent twice in the batch: the first counts."""


_LOCAL = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """This thread's in-memory DuckDB for checking batches (made once)."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = duckdb.connect()
        con.execute("SET threads = 1")
        _LOCAL.con = con
    return con


def _line(event: Any) -> bytes:
    """One event as a JSON line (objects as sent; anything else as its JSON)."""
    if isinstance(event, bytes | bytearray):
        return bytes(event).replace(b"\n", b" ").replace(b"\r", b" ")
    return json.dumps(event, ensure_ascii=False, allow_nan=True).encode("utf-8")


def _when(text: str, formats: list[str]) -> datetime | None:
    for fmt in formats:
        try:
            at = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
    try:  # ISO 8601 with an offset or fractions, as many feeds write it
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def _safe(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def check_batch(feed: Feed, events: list[Any], now: datetime, first: int = 1) -> Batch:
    """Check ``events`` (parsed JSON values, or raw lines) of ``feed``; positions count
    from ``first``. Never raises on an event's content: every problem is a Rejected."""
    decl = feed.declaration
    spec = decl.event
    assert spec is not None
    out = Batch()
    lines: list[bytes] = []
    positions: list[int] = []
    for i, event in enumerate(events[:MAX_EVENTS], start=first):
        line = _line(event)
        if len(line) > MAX_EVENT_BYTES:
            out.rejected.append(
                Rejected(
                    i,
                    None,
                    None,
                    "size",
                    f"event of {len(line):,} bytes; an event is at most {MAX_EVENT_BYTES:,}",
                )
            )
            continue
        lines.append(line)
        positions.append(i)
    for i in range(first + MAX_EVENTS, first + len(events)):
        out.rejected.append(
            Rejected(i, None, None, "batch-size", f"a batch holds at most {MAX_EVENTS} events")
        )
    if not lines:
        return out
    assert MAX_EVENT_BYTES < MAX_LINE_BYTES
    data = b"\n".join(lines) + b"\n"
    raw = read_jsonl(Path(f"<{decl.name} events>"), data, hashlib.sha256(data).hexdigest(), decl)
    query = build_validation_query(
        decl,
        raw.column_sql,
        raw.bad_utf8_sql,
        raw.row_filter_sql,
        raw.struct_error_sql,
        raw.struct_text_sql,
        now.date(),
        raw.nested_sql,
    )
    con = _connection()
    try:
        con.register("raw", raw.table)
        rows = con.sql(query.sql).to_arrow_table().to_pylist()
    finally:
        con.unregister("raw")
    declared = {c.split(".")[0] for c in decl.fields}
    at_formats = decl.fields[spec.at].formats()
    seen: set[str] = set()
    for row in sorted(rows, key=lambda r: r["_row"]):
        pos = positions[int(row["_row"]) - 1]
        line = lines[int(row["_row"]) - 1]
        if row.get("_struct"):
            out.rejected.append(Rejected(pos, None, None, "structure", str(row["_struct"])))
            continue
        try:
            obj = json.loads(line, object_pairs_hook=no_repeated_keys)
        except RepeatedKey as exc:
            out.rejected.append(
                Rejected(
                    pos,
                    None,
                    str(exc)[:64],
                    "structure",
                    "the event repeats a key: which value is meant is not known",
                )
            )
            continue
        except ValueError:  # the validation query already refused it; belt and braces
            out.rejected.append(Rejected(pos, None, None, "structure", "malformed JSON"))
            continue
        raw_id = obj.get(spec.id)
        event_id = str(raw_id)[:128] if isinstance(raw_id, str | int) else None
        errors = [e for e in row["_errors"] or [] if e["kind"] == "row"]
        if errors:
            e = errors[0]
            extra = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            out.rejected.append(
                Rejected(pos, event_id, e["field"], e["rule"], str(e["reason"]) + extra, e["value"])
            )
            continue
        if not event_id or len(str(raw_id)) > 128:
            out.rejected.append(
                Rejected(pos, None, spec.id, "event-id", "the event id is 1 to 128 characters")
            )
            continue
        if event_id in seen:  # the same event twice in one batch: the first counts
            out.repeated.append((pos, event_id))
            continue
        at = _when(str(obj.get(spec.at, "")), at_formats)
        if at is None:
            out.rejected.append(
                Rejected(
                    pos,
                    event_id,
                    spec.at,
                    "date",
                    f"not a time in {' or '.join(at_formats)}",
                    str(obj.get(spec.at))[:200],
                )
            )
            continue
        if at > now + FUTURE_SLACK:
            out.rejected.append(
                Rejected(
                    pos,
                    event_id,
                    spec.at,
                    "future",
                    f"dated {at:%Y-%m-%d %H:%M}, after now",
                    str(at),
                )
            )
            continue
        kind: str = spec.kind
        if spec.kind == "crossing":
            assert spec.direction is not None
            value = str(row.get("event_type") or "").strip().upper()
            if value not in DIRECTIONS:
                out.rejected.append(
                    Rejected(
                        pos,
                        event_id,
                        spec.direction,
                        "direction",
                        "a crossing is EXIT or ENTRY",
                        value[:40],
                    )
                )
                continue
            kind = DIRECTIONS[value]
        seen.add(event_id)
        record = {c: _safe(row[c]) for c in query.canonical if row.get(c) is not None}
        set_aside = tuple(sorted({e["field"] for e in row["_errors"] or [] if e["kind"] != "row"}))
        dropped = (
            tuple(sorted(k for k in obj if k not in declared)) if isinstance(obj, dict) else ()
        )
        out.checked.append(Checked(pos, event_id, kind, at, record, set_aside, dropped[:50]))
    return out
