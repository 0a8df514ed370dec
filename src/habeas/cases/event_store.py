"""A case's stored events as a hash chain under the history key: the head of each case, the
events appended to it, the case file replayed from them (cached by case, head and hash),
and the case row's seal."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import date
from typing import Any

from sqlalchemy import Date, DateTime, bindparam, select, text
from sqlalchemy.orm import Session

from habeas.cases.casefile import CaseFile
from habeas.cases.common import utc_now
from habeas.cases.history import (
    GENESIS,
    StoredEvent,
    case_sealed,
    chain_problem,
)
from habeas.cases.lifecycle import event_from_payload, replay
from habeas.errors import HistoryBroken
from habeas.governance import audit
from habeas.store.keys import key_for
from habeas.store.models import Case, CaseEvent

OPENED = "opened"
"""The kind of a case's first stored event (not a lifecycle event: the case row itself)."""


_FILES: OrderedDict[tuple[int, int, str], CaseFile] = OrderedDict()


_FILES_MAX = 50_000


_FILES_LOCK = threading.Lock()
"""Case files by (case, head event, head hash): the key is read from the case's own
events at every step, so a file cached for one case never serves another, and one cached
for a history serves only that history (a token copied between rows names nothing)."""


_HEAD = text(
    "SELECT seq, event_hash FROM case_events WHERE case_id = :id ORDER BY seq DESC LIMIT 1"
)


def _cached(key: tuple[int, int, str] | None) -> CaseFile | None:
    if key is None:
        return None
    with _FILES_LOCK:
        hit = _FILES.get(key)
        if hit is not None:
            _FILES.move_to_end(key)
        return hit


def remember(key: tuple[int, int, str], file: CaseFile) -> None:
    with _FILES_LOCK:
        _FILES[key] = file
        if len(_FILES) > _FILES_MAX:
            _FILES.popitem(last=False)


Head = tuple[int, str] | None
"""A case's latest stored event (seq, hash), or None before its first."""


def head_of(conn: Any, case_id: int) -> Head:
    row = conn.execute(_HEAD, {"id": case_id}).one_or_none()
    return (int(row[0]), str(row[1])) if row is not None and row[0] is not None else None


def stored_events(session: Session, case_id: int) -> list[StoredEvent]:
    """A case's stored events in order, as they are hashed."""
    rows = session.execute(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    ).scalars()
    return [
        StoredEvent(
            r.case_id,
            r.seq or 0,
            r.at,
            r.kind,
            r.actor,
            r.role,
            r.state_after,
            r.payload,
            r.prev_hash or "",
            r.event_hash or "",
        )
        for r in rows
    ]


def file_at(session: Session, case_id: int, person_id: str, head: Head) -> CaseFile:
    key = (case_id, *head) if head is not None else None
    hit = _cached(key)
    if hit is not None:
        return hit
    stored = stored_events(session, case_id)
    problem = chain_problem(stored, key_for(session.connection()))
    if problem:
        raise HistoryBroken(
            f"case {case_id}'s history does not verify ({problem}): no step is taken on "
            "it; report it to oversight (audit verify)"
        )
    events = [event_from_payload(json.loads(e.payload)) for e in stored if e.kind != OPENED]
    try:
        file = replay(CaseFile(str(case_id), person_id), events)
    except ValueError as exc:
        raise HistoryBroken(f"case {case_id}: {exc}") from None
    if key is not None:
        remember(key, file)
    return file


def check_head(
    conn: Any, case_id: int, state: str, token: str | None, head: Head, counsel: str | None
) -> None:
    """The case row carries the seal of its state, its counsel and its last stored event
    (keyed by the history key): a last event deleted, a token copied from another case, or
    a state or counsel edited alone leaves them apart, and no step is taken."""
    if not case_sealed(key_for(conn), case_id, state, head[1] if head else "", counsel, token):
        raise HistoryBroken(
            f"case {case_id}'s row does not carry the seal of its state ({state}) and its "
            "last stored event (an event was deleted, or the case row edited): no step is "
            "taken on it; report it to oversight (audit verify)"
        )


def row_seal_ok(
    conn: Any, case_id: int, state: str, token: str | None, head_hash: str, counsel: str | None
) -> bool:
    """Whether a case row's state, counsel and last event carry their seal (for lists and
    views that read the state column: an edited state is not believed)."""
    return case_sealed(key_for(conn), case_id, state, head_hash, counsel, token)


def case_file(session: Session, case: Case) -> CaseFile:
    """The case as the lifecycle sees it: its stored events, verified as a chain and
    replayed (no access check: callers are the functions below, which decide and audit
    first)."""
    return file_at(session, case.id, case.person_id, head_of(session.connection(), case.id))


ADD_EVENT = text(
    """INSERT INTO case_events (case_id, seq, at, kind, actor, role, state_after, payload,
                                on_date, prev_hash, event_hash)
       VALUES (:case_id, :seq, :at, :kind, :actor, :role, :state_after, :payload, :on_date,
               :prev_hash, :event_hash)"""
).bindparams(bindparam("on_date", type_=Date), bindparam("at", type_=DateTime))


def store_event(
    conn: Any,
    case_id: int,
    head: Head,
    kind: str,
    actor: str,
    role: str,
    state_after: str,
    payload: dict[str, Any],
    pending: list[dict[str, Any]] | None = None,
) -> tuple[Head, str]:
    """Append one event to the case's chain (or, with ``pending``, prepare its row for
    the caller to insert once the case row is won); returns the new head and the event's
    reference for the audit entry that records it."""
    seq, prev = head or (0, GENESIS)
    text_payload = json.dumps(payload, sort_keys=True)
    stored = StoredEvent(case_id, seq + 1, utc_now(), kind, actor, role, state_after, text_payload)
    digest = stored.hashed(prev, key_for(conn))
    on = payload.get("on")
    row = {
        "case_id": case_id,
        "seq": seq + 1,
        "at": stored.at,
        "kind": kind,
        "actor": actor,
        "role": role,
        "state_after": state_after,
        "payload": text_payload,
        "on_date": date.fromisoformat(on) if isinstance(on, str) else None,
        "prev_hash": prev,
        "event_hash": digest,
    }
    if pending is None:
        conn.execute(ADD_EVENT, row)
    else:
        pending.append(row)
    return (seq + 1, digest), audit.event_ref(case_id, seq + 1, digest)
