"""Case histories and case rows against the audit log: what ``audit verify`` checks of
the case store once the log's own chain holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, inspect, text

from habeas.cases.history import StoredEvent, case_sealed, chain_problem
from habeas.governance.audit import Refs
from habeas.store.keys import key_for
from habeas.store.operational import reading


def history_problem(engine: Engine, refs: Refs) -> tuple[int, str | None]:
    """Walk every case's stored events: each case's chain must hold, and each event must
    be one an audit entry recorded with that hash (an event no entry names was inserted
    outside habeas; one an entry names that is gone, or differs, was deleted or edited).
    Returns the number of events and the first problem (None when there is none)."""
    with reading(engine).connect() as conn:
        found = inspect(conn)
        columns = (
            {c["name"] for c in found.get_columns("case_events")}
            if found.has_table("case_events")
            else set()
        )
    if "event_hash" not in columns:  # a store before revision 0005: nothing chained yet
        return 0, None
    sql = text(
        """SELECT case_id, seq, at, kind, actor, role, state_after, payload, prev_hash,
                  event_hash FROM case_events ORDER BY case_id, seq"""
    )
    n, problem = 0, None
    current: list[StoredEvent] = []
    cited_cases, next_cited = sorted(refs), 0

    def gone(case: int, cited: dict[int, tuple[str, int]]) -> str:
        seq, (_, entry) = min(cited.items())
        return (
            f"case {case}: event {seq}, recorded by audit entry {entry}, is missing from "
            "the case's history: it was deleted"
        )

    def vanished_before(case: int | None) -> str | None:
        """A case the log recorded events on whose whole history is gone (checked in case
        order, so the first problem named is the first case's)."""
        nonlocal next_cited
        while next_cited < len(cited_cases) and (case is None or cited_cases[next_cited] < case):
            earlier = cited_cases[next_cited]
            next_cited += 1
            if earlier in refs:
                return gone(earlier, refs.pop(earlier))
        return None

    def close(events: list[StoredEvent]) -> str | None:
        case = events[0].case_id
        found = vanished_before(case) or chain_problem(events, key_for(engine))
        if found:
            return found
        cited = refs.pop(case, {})
        for e in events:
            recorded = cited.pop(e.seq, None)
            if recorded is None:
                return (
                    f"case {e.case_id}: event {e.seq} ({e.kind}) is in no audit entry: "
                    "it was inserted outside habeas"
                )
            if recorded[0] != e.event_hash:
                return (
                    f"case {e.case_id}: event {e.seq} ({e.kind}) is not the event audit "
                    f"entry {recorded[1]} recorded: it was edited"
                )
        return gone(case, cited) if cited else None

    with reading(engine).connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=20_000).execute(sql)
        for case_id, seq, at, kind, actor, role, state, payload, prev, digest in rows:
            n += 1
            if current and current[0].case_id != case_id:
                problem = problem or close(current)
                current = []
            when = at if isinstance(at, datetime) else datetime.fromisoformat(at)
            current.append(
                StoredEvent(
                    case_id,
                    seq or 0,
                    when,
                    kind,
                    actor,
                    role,
                    state,
                    payload,
                    prev or "",
                    digest or "",
                )
            )
    if current:
        problem = problem or close(current)
    return n, problem or vanished_before(None) or case_rows_problem(engine)


def case_rows_problem(engine: Engine) -> str | None:
    """The first case row whose state and last event do not carry their seal (a state
    edited alone: lists that read the column would believe it)."""
    sql = text(
        """SELECT c.id, c.state, c.history_token, e.event_hash, c.counsel FROM cases c
           LEFT JOIN case_events e ON e.case_id = c.id
            AND e.seq = (SELECT max(seq) FROM case_events WHERE case_id = c.id)
           ORDER BY c.id"""
    )
    with reading(engine).connect() as conn:
        for case_id, state, token, head, counsel in conn.execute(sql):
            if not case_sealed(key_for(engine), case_id, state, head or "", counsel, token):
                return (
                    f"case {case_id}: its row says {state}"
                    + (f" (counsel {counsel})" if counsel else "")
                    + ", which is not what its history sealed (the case row was edited)"
                )
    return None
