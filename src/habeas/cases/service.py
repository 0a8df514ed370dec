"""Cases in the operational store: every step authorized (Cedar, per step), checked by the
lifecycle's gates, stored as an event, and audited in the same transaction.

A case's state is the replay of its stored events through the pure lifecycle; the
``cases`` row caches the state and carries the version that makes a stale write a
conflict. Refusals, by policy or by law, are audited in the session and carry their audit entry,
which the application appends again after rolling the work back.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, DateTime, bindparam, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from habeas.cases import gates
from habeas.cases import lifecycle as lc
from habeas.cases.access import case_resource
from habeas.cases.court_basis import support_problems
from habeas.cases.deadlines import TaskSpec, tasks_for
from habeas.cases.follow_ups import AFTER_STEP, StepTaken
from habeas.cases.history import (
    GENESIS,
    StoredEvent,
    case_seal,
    case_sealed,
    chain_problem,
)
from habeas.cases.instruments import FORMS
from habeas.cases.lifecycle import (
    TERMINAL,
    CaseFile,
    Event,
    Refused,
    event_from_payload,
    event_payload,
    replay,
    transition,
)
from habeas.errors import AccessDenied, Conflict, GateRefused, HabeasError, HistoryBroken, NotFound
from habeas.governance import audit
from habeas.governance.authz import AccessContext, authorize, authorize_batch
from habeas.store.keys import key_for, seal
from habeas.store.models import Case, CaseDocument, CaseEvent, CaseRefusal, Instrument, Task, User

OPENED = "opened"
"""The kind of a case's first stored event (not a lifecycle event: the case row itself)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _audit(
    session: Session,
    ctx: AccessContext,
    action: str,
    case: Case,
    allowed: bool,
    detail: str,
    events: list[str] | None = None,
) -> dict[str, Any]:
    """Append the entry in the session's transaction; returned, so that a refusal can carry
    it to the application (which keeps it after rolling the work back). ``events`` name
    the stored events the entry records, with their hashes."""
    entry: dict[str, Any] = dict(
        user=ctx.user,
        role=ctx.role,
        purpose=ctx.purpose,
        action=action,
        resources=[f"case:{case.id}", f"person:{case.person_id}", *(events or [])],
        decision="allow" if allowed else "deny",
        detail=detail,
        request_id=ctx.request_id or None,
    )
    audit.append(session, **entry)
    return entry


def _denied(
    session: Session,
    ctx: AccessContext,
    action: str,
    case: Case,
    doing: str,
    why: str,
    events: list[str] | None = None,
) -> AccessDenied:
    """Audit a policy refusal on a case and return the error to raise (it carries the entry,
    for the application to keep after rolling the work back)."""
    entry = _audit(session, ctx, action, case, False, why, events)
    return AccessDenied(
        f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {doing}: {why}", entry, why
    )


def _get(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise HabeasError(f"no case {case_id}")
    return case


def _events(session: Session, case_id: int) -> list[CaseEvent]:
    return list(
        session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        ).scalars()
    )


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


def _remember(key: tuple[int, int, str], file: CaseFile) -> None:
    with _FILES_LOCK:
        _FILES[key] = file
        if len(_FILES) > _FILES_MAX:
            _FILES.popitem(last=False)


Head = tuple[int, str] | None
"""A case's latest stored event (seq, hash), or None before its first."""


def _head(conn: Any, case_id: int) -> Head:
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


def _file_at(session: Session, case_id: int, person_id: str, head: Head) -> CaseFile:
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
        _remember(key, file)
    return file


def _check_head(
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
    return _file_at(session, case.id, case.person_id, _head(session.connection(), case.id))


_ADD_EVENT = text(
    """INSERT INTO case_events (case_id, seq, at, kind, actor, role, state_after, payload,
                                on_date, prev_hash, event_hash)
       VALUES (:case_id, :seq, :at, :kind, :actor, :role, :state_after, :payload, :on_date,
               :prev_hash, :event_hash)"""
).bindparams(bindparam("on_date", type_=Date), bindparam("at", type_=DateTime))


def _store_event(
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
    stored = StoredEvent(case_id, seq + 1, _now(), kind, actor, role, state_after, text_payload)
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
        conn.execute(_ADD_EVENT, row)
    else:
        pending.append(row)
    return (seq + 1, digest), audit.event_ref(case_id, seq + 1, digest)


def open_case(
    session: Session, ctx: AccessContext, person_id: str, on: date, basis: str = ""
) -> Case:
    """Open a case on a person (one open case per person), audited."""
    case = Case(
        person_id=person_id,
        state="identified",
        note="",
        counsel=None,
        updated_at=_now(),
        opened_at=datetime.combine(on, datetime.min.time()),
    )
    decision = authorize(ctx, "write", case_resource(case), step=OPENED)
    if not decision.allowed:
        entry: dict[str, Any] = dict(
            user=ctx.user,
            role=ctx.role,
            purpose=ctx.purpose,
            action="case_open",
            resources=[f"person:{person_id}"],
            decision="deny",
            detail=decision.why(),
            request_id=ctx.request_id or None,
        )
        audit.append(session, **entry)
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not open a case: {decision.why()}",
            entry,
            decision.why(),
        )
    if on > date.today():
        raise HabeasError(f"a case is opened on {on}, after today ({date.today()})")
    # decided first: a refused caller learns nothing of the person's cases
    existing = session.execute(
        select(Case).where(
            Case.person_id == person_id, Case.state.not_in([s.value for s in TERMINAL])
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise HabeasError(f"person {person_id} already has open case {existing.id}")
    session.add(case)
    session.flush()
    head, ref = _store_event(
        session.connection(),
        case.id,
        None,
        OPENED,
        ctx.user,
        ctx.role,
        "identified",
        {"on": on.isoformat(), "basis": basis, "recorded": date.today().isoformat()},
    )
    assert head is not None
    token = case_seal(key_for(session.connection()), case.id, "identified", head[1])
    session.connection().execute(_NAME_HEAD, {"id": case.id, "token": token})
    set_committed_value(case, "history_token", token)
    _remember((case.id, *head), CaseFile(str(case.id), person_id))  # its first step needs it
    _audit(session, ctx, "case_open", case, True, f"basis: {basis or 'none given'}", [ref])
    return case


_NAME_HEAD = text("UPDATE cases SET history_token = :token WHERE id = :id")
_READ_CASE = text(
    """SELECT c.id, c.person_id, c.state, c.counsel, c.version, c.history_token,
              e.seq AS head_seq, e.event_hash AS head_hash
       FROM cases c LEFT JOIN case_events e ON e.case_id = c.id
        AND e.seq = (SELECT max(seq) FROM case_events WHERE case_id = c.id)
       WHERE c.id = :id"""
)
"""The case row with its last stored event (one statement: a step is hot)."""


def _row_head(row: Any) -> Head:
    return (int(row.head_seq), str(row.head_hash)) if row.head_seq is not None else None


_MOVE_CASE = text(
    """UPDATE cases SET state = :state, updated_at = :at, version = version + 1,
                        history_token = :token
       WHERE id = :id AND version = :v"""
)
_INDEX_FLAGS = text(
    """SELECT flag, detail, record_ids, run_id, raised_at FROM index_flags
       WHERE person_id = :person AND status = 'open'
         AND flag IN ('citizenship', 'lawful_status') ORDER BY flag, id"""
)
_RECORD = text("SELECT person_id, source, court_facts FROM index_records WHERE record_id = :id")
_SAME_NUMBER = text(
    """SELECT case_id FROM instruments WHERE kind = :kind AND reference = :ref
         AND case_id <> :case ORDER BY case_id LIMIT 1"""
)
_ATTACHED = text("SELECT 1 FROM case_documents WHERE case_id = :case AND sha256 = :sha")
MAX_DOCUMENT = 10 * 1024 * 1024
"""The largest document a case keeps (bytes)."""
INDEX_ACTOR = "person-index"
"""The actor of a flag the published index raises on a case at the moment of a step."""
CITES_RECORD = lc.COURT_FACTS | {"charge", "begin_proceedings"}
"""Steps whose ``basis``, when given, must be a published court record of the person."""


def index_flags(conn: Any, person_id: str, file: CaseFile, on: date) -> list[lc.RaiseFlag]:
    """The open citizenship and lawful-status flags the published index holds on the person
    now that the case file does not carry yet (or carries resolved on other records)."""
    out = []
    for flag, detail, ids, run, raised in conn.execute(_INDEX_FLAGS, {"person": person_id}):
        records = tuple(json.loads(ids))
        if any(f.kind == flag and (f.open or f.record_ids == records) for f in file.flags):
            continue
        # dated the day the index raised it (never after the step that meets it)
        when = _as_date(raised) or on
        out.append(
            lc.RaiseFlag(
                min(when, on),
                INDEX_ACTOR,
                "system",
                basis=f"index run {run}",
                flag=flag,
                detail=detail,
                record_ids=records,
            )
        )
    return out


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def evidence_problems(conn: Any, person_id: str, case_id: int, event: Event) -> list[str]:
    """What the stores say against the step: a cited record that is not a published court
    record of this person or does not say what the step claims, an instrument number
    already on another case."""
    out: list[str] = []
    basis = event.basis.strip()
    if basis and event.kind in CITES_RECORD:
        row = conn.execute(_RECORD, {"id": basis}).one_or_none()
        if row is None:
            out.append(f"basis {basis[:80]!r} is not a record of the published person index")
        elif row.person_id != person_id:
            out.append(f"record {basis} is another person's, not this case's person's")
        elif row.court_facts is None:
            out.append(f"record {basis} ({row.source}) is not a court record")
        else:
            out += support_problems(
                event.kind, event.on, event_payload(event), json.loads(row.court_facts), basis
            )
    if event.document_sha256:
        attached = conn.execute(_ATTACHED, {"case": case_id, "sha": event.document_sha256})
        if attached.scalar() is None:
            out.append(
                f"document_sha256 {event.document_sha256[:16]}… is not a document "
                f"attached to case {case_id}: attach the order itself first (cases "
                "attach), so counsel and the court can read what was cited"
            )
    reference = str(getattr(event, "reference", "")).strip()
    if reference and event.kind in ("charge", "issue_warrant", "add_instrument"):
        kind = str(getattr(event, "instrument", ""))
        other = conn.execute(
            _SAME_NUMBER, {"kind": kind, "ref": reference, "case": case_id}
        ).scalar()
        if other is not None:
            out.append(
                f"{kind} number {reference} is already on case {other}: a document "
                "number is issued once"
            )
    return out


def _refusal(
    session: Session, ctx: AccessContext, case: Case, event: Event, reasons: list[str], by: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Audit a refused step and keep it on the case's list of refused attempts; both are
    returned for the application to keep after it rolls the work back."""
    entry = _audit(session, ctx, f"case_{event.kind}", case, False, "; ".join(reasons))
    row: dict[str, Any] = {
        "case_id": case.id,
        "at": _now(),
        "kind": event.kind,
        "actor": ctx.user,
        "role": ctx.role,
        "on_date": event.on,
        "reasons": json.dumps(reasons),
        "refused_by": by,
    }
    session.connection().execute(insert(CaseRefusal), row)
    return entry, row


def record_event(
    session: Session,
    ctx: AccessContext,
    case_id: int,
    event: Event,
    expected_version: int | None = None,
) -> CaseFile:
    """Apply one step to a case if the caller may take it (Cedar, for this step and
    purpose) and the law allows it now (the lifecycle's gates, on the flags the index
    holds and the effects time has had); the event is chained onto the case's history and
    audited in the caller's transaction. The event's actor, role and recording day are
    the caller's and today's, whatever the step says."""
    today = date.today()
    event = replace(event, actor=ctx.user, role=ctx.role, recorded=today)
    conn = session.connection()  # fixed statements on the Core connection: a step is hot
    row = conn.execute(_READ_CASE, {"id": case_id}).one_or_none()
    if row is None:
        raise HabeasError(f"no case {case_id}")
    # a detached stand-in: the row is changed below by one conditional UPDATE, not the ORM
    case = Case(
        id=row.id,
        person_id=row.person_id,
        state=row.state,
        counsel=row.counsel,
        version=row.version,
        history_token=row.history_token,
    )
    if expected_version is not None and case.version != expected_version:
        raise Conflict(
            f"case {case_id} is at version {case.version}, not {expected_version}: "
            "reload it and apply the step again"
        )
    action = f"case_{event.kind}"
    decision = authorize(ctx, "write", case_resource(case), step=event.kind)
    if not decision.allowed:
        entry, kept = _refusal(session, ctx, case, event, [decision.why()], "policy")
        exc = AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {event.kind} on case "
            f"{case_id}: {decision.why()}",
            entry,
            decision.why(),
            refusal=kept,  # the refused attempt, kept on the case after the rollback
        )
        raise exc
    head = _row_head(row)
    _check_head(conn, case_id, row.state, row.history_token, head, row.counsel)
    before = _file_at(session, case_id, case.person_id, head)
    # the gates read what holds now: the effects time has had (a missed departure
    # deadline), and the flags a resolution run published, with nothing run in between
    prior: list[tuple[Event, CaseFile]] = []  # each recorded first, with the case it left
    pending = lc.due_effects(before, today)
    pending += [
        f
        for f in index_flags(conn, case.person_id, before, today)
        if not (isinstance(event, lc.RaiseFlag) and event.flag == f.flag)
    ]
    for earlier in pending:
        earlier = replace(earlier, recorded=today)
        moved = transition(before, earlier)
        if isinstance(moved, CaseFile):
            before = moved
            prior.append((earlier, moved))
    issuer, unverified = verified_issuer(conn, case_id, event)
    if issuer is not None and hasattr(event, "authority"):
        # the authority is the verified document's court, never a string typed in the step
        event = replace(event, authority=issuer)  # type: ignore[call-arg]
    problems = evidence_problems(conn, case.person_id, case_id, event)
    if unverified:
        problems.append(unverified)
    result = transition(before, event)
    if isinstance(result, Refused) or problems:
        reasons = [*(result.reasons if isinstance(result, Refused) else ()), *problems]
        entry, kept = _refusal(session, ctx, case, event, reasons, "law")
        refused = Refused(event.kind, before.state, tuple(reasons))
        raise GateRefused(refused, entry, kept)
    refs: list[str] = []
    rows: list[dict[str, Any]] = []  # inserted once the case row is won (no duplicate seq)
    state_then = row.state
    for earlier, left in prior:
        head, ref = _store_event(
            conn,
            case_id,
            head,
            earlier.kind,
            earlier.actor,
            earlier.role,
            left.state.value,
            event_payload(earlier),
            rows,
        )
        refs.append(ref)
        state_then = left.state.value
    head, ref = _store_event(
        conn,
        case_id,
        head,
        event.kind,
        ctx.user,
        ctx.role,
        result.state.value,
        event_payload(event),
        rows,
    )
    refs.append(ref)
    assert head is not None
    token = case_seal(key_for(conn), case_id, result.state.value, head[1], row.counsel)
    moved_row = conn.execute(
        _MOVE_CASE,
        {
            "id": case_id,
            "v": case.version,
            "token": token,
            "state": result.state.value,
            "at": _now(),
        },
    )
    if moved_row.rowcount != 1:
        raise Conflict(f"case {case_id} was changed by someone else meanwhile")
    conn.execute(_ADD_EVENT, rows)
    loaded = session.identity_map.get(identity_key(Case, case_id))
    if loaded is not None:  # an ORM copy in this session is now stale
        session.expire(loaded)
    _sync_instruments(session, case_id, before, result)
    if tasks_for(before) != tasks_for(result) or prior:
        _sync_tasks(session, case_id, result)
    AFTER_STEP.run(
        StepTaken(session, ctx, case_id, before, result, event.kind, event.on or today, today)
    )
    _remember((case_id, *head), result)
    noted = "".join(f"; {p.kind.replace('_', ' ')} recorded first ({p.basis})" for p, _ in prior)
    _audit(
        session,
        ctx,
        action,
        case,
        True,
        f"{state_then} → {result.state}"
        + (f"; basis {event.basis}" if event.basis else "")
        + (f"; document {event.document} sha256 {event.document_sha256}" if event.document else "")
        + noted,
        refs,
    )
    return result


def record_due_effects(session: Session, ctx: AccessContext, case_id: int, today: date) -> int:
    """Record on the case the events time has made happen (an alternate order of removal
    after a missed voluntary departure deadline), as the lifecycle's, audited with the
    reader who saw them due. Returns how many were recorded."""
    conn = session.connection()
    row = conn.execute(_READ_CASE, {"id": case_id}).one_or_none()
    if row is None:
        return 0
    seen = Case(id=row.id, person_id=row.person_id, state=row.state, counsel=row.counsel)
    decision = authorize(ctx, "read", case_resource(seen))
    if not decision.allowed:  # only a reader of the case sees what is due on it
        raise _denied(
            session, ctx, "case_due_effects", seen, f"read case {case_id}", decision.why()
        )
    head = _row_head(row)
    _check_head(conn, case_id, row.state, row.history_token, head, row.counsel)
    file = _file_at(session, case_id, row.person_id, head)
    refs: list[str] = []
    rows: list[dict[str, Any]] = []
    for due in lc.due_effects(file, today):
        due = replace(due, recorded=today)
        after = transition(file, due)
        if isinstance(after, Refused):
            continue
        head, ref = _store_event(
            conn,
            case_id,
            head,
            due.kind,
            due.actor,
            due.role,
            after.state.value,
            event_payload(due),
            rows,
        )
        file = after
        refs.append(ref)
    if not refs:
        return 0
    assert head is not None
    token = case_seal(key_for(conn), case_id, file.state.value, head[1], row.counsel)
    moved = conn.execute(
        _MOVE_CASE,
        {"id": case_id, "v": row.version, "token": token, "state": file.state.value, "at": _now()},
    )
    if moved.rowcount != 1:
        raise Conflict(f"case {case_id} was changed by someone else meanwhile")
    conn.execute(_ADD_EVENT, rows)
    _sync_tasks(session, case_id, file)
    _remember((case_id, *head), file)
    audit.append(
        session,
        user=lc.LIFECYCLE_ACTOR,
        role="system",
        purpose=ctx.purpose,
        action="case_due_effects",
        resources=[f"case:{case_id}", f"person:{row.person_id}", *refs],
        decision="allow",
        detail=f"{len(refs)} event(s) the law made happen by {today}, "
        f"recorded when {ctx.user} ({ctx.role}) read the case",
        request_id=ctx.request_id or None,
    )
    return len(refs)


def attach_document(
    session: Session, ctx: AccessContext, case_id: int, name: str, content: bytes
) -> tuple[str, bool]:
    """Keep a document on the case, whole (an order, a decision, a signed form), so that
    a step may cite it by its SHA-256 and counsel and the court can read exactly what was
    cited. Returns the hash and whether it was new (attaching it again changes nothing)."""
    import hashlib

    case = _get(session, case_id)
    decision = authorize(ctx, "write", case_resource(case), step="attach_document")
    if not decision.allowed:
        raise _denied(
            session,
            ctx,
            "case_attach_document",
            case,
            f"attach a document to case {case_id}",
            decision.why(),
        )
    clean = name.strip()
    if not clean or len(clean) > 200 or any(ord(ch) < 32 for ch in clean):
        raise HabeasError("a document's name is 1 to 200 printable characters")
    if not content:
        raise HabeasError(f"document {clean!r} is empty")
    if len(content) > MAX_DOCUMENT:
        raise HabeasError(
            f"document {clean!r} is {len(content):,} bytes; a case keeps "
            f"documents of {MAX_DOCUMENT:,} bytes at most"
        )
    digest = hashlib.sha256(content).hexdigest()
    if session.get(CaseDocument, (case_id, digest)) is not None:
        return digest, False
    session.add(
        CaseDocument(
            case_id=case_id,
            sha256=digest,
            name=clean,
            size=len(content),
            content=content,
            added_by=ctx.user,
            added_at=_now(),
        )
    )
    session.flush()
    _audit(
        session,
        ctx,
        "case_attach_document",
        case,
        True,
        f"document {clean!r}, {len(content):,} bytes",
        [f"document:{digest}"],
    )
    return digest, True


ISSUERS: tuple[str, ...] = ("agency", "immigration_judge", "bia", "federal_court")
"""Who a verified document can be from (``agency``: an order the agency itself issues, a
reinstatement or an expedited removal order, checked against its file): a court's act
citing it takes this one as its authority, so an agency's paper never outranks a court."""
_DOCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./#:_()-]{2,63}")


def verification_seal(
    key: bytes,
    case_id: int,
    sha256: str,
    issuer: str,
    docket: str,
    verified_by: str,
    verified_at: datetime,
) -> str:
    """The seal of a document's verification (a verifier written in by hand lacks it)."""
    return seal(
        key,
        "document_verified",
        case_id,
        sha256,
        issuer,
        docket,
        verified_by,
        verified_at.strftime("%Y-%m-%d %H:%M:%S"),
    )


def verify_document(
    session: Session, ctx: AccessContext, case_id: int, sha256: str, issuer: str, docket: str
) -> Any:
    """A second person vouches that a document attached to the case is the court's act it
    says it is: a supervisor who did not attach it checks it against the court's docket
    and records the issuing court and the docket reference (audited, sealed). Only then
    may a court's act cite it, and it takes this court as its authority."""

    case = _get(session, case_id)
    decision = authorize(ctx, "write", case_resource(case), step="verify_document")
    if not decision.allowed:
        raise _denied(
            session,
            ctx,
            "case_verify_document",
            case,
            f"verify a document on case {case_id}",
            decision.why(),
        )
    if issuer not in ISSUERS:
        raise HabeasError(f"issuer must be one of {', '.join(ISSUERS)}, not {issuer[:40]!r}")
    docket = docket.strip()
    if not _DOCKET.fullmatch(docket):
        raise HabeasError(
            "the docket reference is 3 to 64 letters, digits and . / # : _ ( ) -, "
            "as the court's docket shows it"
        )
    doc = session.get(CaseDocument, (case_id, sha256))
    if doc is None:
        raise NotFound(f"no document {sha256[:64]!r} on case {case_id}")
    if doc.added_by == ctx.user:
        why = (
            "the person who attached a document does not verify it: a second person "
            "checks it against the docket"
        )
        raise _denied(
            session, ctx, "case_verify_document", case, f"verify document {sha256[:16]}…", why
        )
    if doc.verified_by is not None:
        on = f"{doc.verified_at:%Y-%m-%d}" if doc.verified_at else "?"
        raise HabeasError(
            f"document {sha256[:16]}… was verified by {doc.verified_by} on {on} "
            f"(docket {doc.docket_reference})"
        )
    at = _now().replace(microsecond=0)
    doc.issuer, doc.docket_reference, doc.verified_by, doc.verified_at = (
        issuer,
        docket,
        ctx.user,
        at,
    )
    doc.verification_seal = verification_seal(
        key_for(session.connection()), case_id, sha256, issuer, docket, ctx.user, at
    )
    session.flush()
    _audit(
        session,
        ctx,
        "case_verify_document",
        case,
        True,
        f"document {doc.name!r} verified as {issuer}'s against docket {docket}",
        [f"document:{sha256}"],
    )
    return doc


_VERIFIED = text(
    """SELECT added_by, issuer, docket_reference, verified_by, verified_at, verification_seal
       FROM case_documents WHERE case_id = :case AND sha256 = :sha"""
)


def verified_issuer(conn: Any, case_id: int, event: Event) -> tuple[str | None, str]:
    """For a court's act that cites a document and no court record: the court the document
    was verified as (None when it was not, or its verification lacks its seal), and what
    to say about it."""
    import hmac

    if not type(event).court_fact or event.basis.strip() or not event.document_sha256:
        return None, ""
    row = conn.execute(_VERIFIED, {"case": case_id, "sha": event.document_sha256}).one_or_none()
    if row is None:
        return None, ""  # not attached: evidence_problems says so
    if row.verified_by is None:
        return None, (
            f"document {event.document_sha256[:16]}… is cited as a court's act, but "
            "nobody has verified it against the court's docket: a supervisor who did "
            "not attach it verifies it first (cases verify-document, with the docket "
            "reference); a text an officer attached is not a court's act"
        )
    at = (
        row.verified_at
        if isinstance(row.verified_at, datetime)
        else datetime.fromisoformat(str(row.verified_at))
    )
    expected = verification_seal(
        key_for(conn),
        case_id,
        event.document_sha256,
        row.issuer,
        row.docket_reference,
        row.verified_by,
        at,
    )
    if row.verification_seal is None or not hmac.compare_digest(expected, row.verification_seal):
        return None, (
            f"the verification of document {event.document_sha256[:16]}… does not "
            "carry its seal (written outside habeas): it is not believed"
        )
    return str(row.issuer), ""


def read_document(session: Session, ctx: AccessContext, case_id: int, sha256: str) -> Any:
    """A document attached to the case, for a reader of the case (audited read)."""

    case = _get(session, case_id)
    decision = authorize(ctx, "read", case_resource(case))
    if not decision.allowed:
        raise _denied(
            session,
            ctx,
            "read_case_document",
            case,
            f"read case {case_id}",
            decision.why(),
            [f"document:{sha256[:64]}"],
        )
    _audit(
        session, ctx, "read_case_document", case, True, decision.why(), [f"document:{sha256[:64]}"]
    )
    doc = session.get(CaseDocument, (case_id, sha256))
    if doc is None:
        raise NotFound(f"no document {sha256[:64]!r} on case {case_id}")
    return doc


def assign_counsel(session: Session, ctx: AccessContext, case_id: int, counsel: str) -> None:
    """Record the person's counsel on the case (an account with the counsel role); counsel
    then reads this case, for redress, when naming this person as their client."""

    case = _get(session, case_id)
    decision = authorize(ctx, "write", case_resource(case), step="assign_counsel")
    if not decision.allowed:
        raise _denied(
            session,
            ctx,
            "case_assign_counsel",
            case,
            f"assign counsel on case {case_id}",
            decision.why(),
        )
    account = session.execute(select(User).where(User.username == counsel)).scalar_one_or_none()
    if account is None or account.role != "counsel" or not account.active:
        raise HabeasError(f"{counsel!r} is not an active counsel account")
    conn = session.connection()
    head = _head(conn, case_id)
    # a row edited outside habeas is not sealed again by a change habeas makes to it
    _check_head(conn, case_id, case.state, case.history_token, head, case.counsel)
    case.counsel = counsel
    case.updated_at = _now()
    case.history_token = case_seal(
        key_for(conn), case_id, case.state, head[1] if head else "", counsel
    )
    session.flush()
    _audit(session, ctx, "case_assign_counsel", case, True, f"counsel {counsel}")


def _sync_instruments(session: Session, case_id: int, before: CaseFile, after: CaseFile) -> None:
    """Keep the instruments table (first-class, queryable records) equal to the case file."""
    old = {i.reference: i for i in before.instruments}
    for inst in after.instruments:
        prior = old.get(inst.reference)
        if prior is None:
            session.add(
                Instrument(
                    case_id=case_id,
                    kind=inst.kind,
                    reference=inst.reference,
                    issuing_authority=inst.issuing_authority,
                    issued_on=inst.issued_on,
                    expires_on=inst.expires_on,
                    status=inst.status,
                    detail=json.dumps(
                        {
                            k: v
                            for k, v in (
                                ("country", inst.country),
                                ("signed_by", inst.signed_by),
                                ("document_sha256", inst.document_sha256),
                                ("basis", inst.basis),
                            )
                            if v
                        }
                    ),
                )
            )
        elif prior.status != inst.status:
            row = session.execute(
                select(Instrument).where(
                    Instrument.case_id == case_id, Instrument.reference == inst.reference
                )
            ).scalar_one()
            row.status = inst.status


def _sync_tasks(session: Session, case_id: int, file: CaseFile) -> None:
    """Keep the case's deadline tasks equal to what its history creates."""
    specs = {(t.kind, t.due_on): t for t in tasks_for(file)}
    rows = {
        (t.kind, t.due_on): t
        for t in session.execute(select(Task).where(Task.case_id == case_id)).scalars()
    }
    for key, spec in specs.items():
        status = "done" if spec.done_on else ("missed" if spec.missed else "open")
        row = rows.get(key)
        if row is None:
            session.add(
                Task(
                    case_id=case_id,
                    kind=spec.kind,
                    due_on=spec.due_on,
                    status=status,
                    detail=spec.detail,
                    done_on=spec.done_on,
                )
            )
        elif row.status != status or row.done_on != spec.done_on:
            row.status, row.done_on = status, spec.done_on
    for key, row in rows.items():
        if key not in specs and row.status == "open":
            row.status = "cancelled"


def readable_cases(
    session: Session,
    ctx: AccessContext,
    cases: list[Case],
    audit_action: str,
    detail: str,
    limit: int | None = None,
) -> list[Case]:
    """The cases (in order, at most ``limit``) this caller may read for this purpose; one
    audit entry names the cases returned (a refusal of all of them is a denial)."""
    decisions = authorize_batch(ctx, "read", [case_resource(c) for c in cases]) if cases else []
    allowed = [c for c, d in zip(cases, decisions, strict=True) if d.allowed][:limit]
    audit.append(
        session,
        user=ctx.user,
        role=ctx.role,
        purpose=ctx.purpose,
        action=audit_action,
        resources=[f"case:{c.id}" for c in allowed],
        decision="allow" if allowed or not cases else "deny",
        detail=f"{detail}; {len(allowed)} of {len(cases)} shown"
        + ("" if allowed or not cases else f"; {decisions[0].why()}"),
        request_id=ctx.request_id or None,
    )
    return allowed


def tasks_due(
    session: Session, ctx: AccessContext, today: date, within_days: int = 14
) -> list[dict[str, Any]]:
    """Open deadlines due by ``today + within_days`` (missed ones first) on cases the caller
    may read for this purpose; one audit entry names the cases shown."""
    horizon = today + timedelta(days=within_days)
    rows = session.execute(
        select(Task, Case)
        .join(Case, Case.id == Task.case_id)
        .where(Task.status == "open", Task.due_on <= horizon)
        .order_by(Task.due_on, Task.id)
    ).all()
    cases = list({c.id: c for _, c in rows}.values())
    readable = {
        c.id
        for c in readable_cases(session, ctx, cases, "tasks_due", f"deadlines due by {horizon}")
    }
    out = []
    for task, case in rows:
        if case.id not in readable:
            continue
        spec = TaskSpec(task.kind, task.due_on, task.detail, task.done_on)
        out.append(
            {
                "case_id": case.id,
                "person_id": case.person_id,
                "kind": task.kind,
                "due_on": task.due_on,
                "status": spec.status(today),
                "detail": task.detail,
                "state": case.state,
            }
        )
    out.sort(key=lambda r: (r["status"] != "missed", r["due_on"]))
    return out


@dataclass(frozen=True)
class CaseView:
    """What `cases show` prints, the court's view of a case: each event with its legal
    date, when it was recorded, by whom, its outcome, authority and basis; the refused
    attempts with their reasons; the instruments with their numbers and signers; the
    gates today; the priority; the deadlines."""

    case: dict[str, Any]
    file: CaseFile
    gates: dict[str, list[str]]
    history: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    refused: list[dict[str, Any]]
    instruments: list[dict[str, Any]]
    due: int = 0


_OUTCOME_FIELDS = ("outcome", "custody", "instrument", "flag", "protection", "motion")
_DETAIL_FIELDS = (
    "reference",
    "reason",
    "team",
    "country",
    "stay_id",
    "until",
    "expires_on",
    "departure_deadline",
    "deadline",
    "proof",
    "evidence",
    "detail",
)


def court_entry(e: CaseEvent) -> dict[str, Any]:
    """One stored event as a court reads it: the legal date it carries (or that the
    record does not give it), when and by whom it was recorded, what it decided, on
    whose authority, resting on which record or document."""
    p = json.loads(e.payload)
    authority = p.get("authority") or p.get("court") or p.get("body") or ""
    return {
        "seq": e.seq,
        "kind": e.kind,
        "on": p.get("on") or "date not on the record",
        "recorded_at": e.at,
        "actor": e.actor,
        "role": e.role,
        "state_after": e.state_after,
        "outcome": next((str(p[k]) for k in _OUTCOME_FIELDS if p.get(k)), ""),
        "authority": authority,
        "basis": p.get("basis", ""),
        "document": p.get("document", ""),
        "document_sha256": p.get("document_sha256", ""),
        "flight": p.get("flight", ""),
        "detail": {k: p[k] for k in _DETAIL_FIELDS if p.get(k) not in (None, "", [])},
        "event_hash": e.event_hash,
        "payload": p,
    }


def show_case(session: Session, ctx: AccessContext, case_id: int, today: date) -> CaseView:
    """A case as a court reads it, with its gates as of ``today`` (audited read)."""
    case = _get(session, case_id)
    decision = authorize(ctx, "read", case_resource(case))
    if not decision.allowed:
        raise _denied(session, ctx, "read_case", case, f"read case {case_id}", decision.why())
    _audit(session, ctx, "read_case", case, True, decision.why())
    file = case_file(session, case)
    effects = lc.due_effects(file, today)
    for effect in effects:
        moved = transition(file, effect)
        if isinstance(moved, CaseFile):
            file = moved
    for flag_event in index_flags(session.connection(), case.person_id, file, today):
        flagged = transition(file, flag_event)
        if isinstance(flagged, CaseFile):
            file = flagged
    history = [court_entry(e) for e in _events(session, case.id)]
    tasks = [
        {"kind": t.kind, "due_on": t.due_on, "status": t.status, "detail": t.detail}
        for t in session.execute(
            select(Task).where(Task.case_id == case.id).order_by(Task.due_on)
        ).scalars()
    ]
    refused = [
        {
            "at": r.at,
            "kind": r.kind,
            "actor": r.actor,
            "role": r.role,
            "on": r.on_date.isoformat() if r.on_date else "",
            "refused_by": r.refused_by,
            "reasons": json.loads(r.reasons),
        }
        for r in session.execute(
            select(CaseRefusal).where(CaseRefusal.case_id == case.id).order_by(CaseRefusal.id)
        ).scalars()
    ]
    instruments = [
        {
            "kind": i.kind,
            "form": FORMS.get(i.kind, i.kind),
            "number": i.reference or "(number not on the record)",
            "issued_on": i.issued_on.isoformat() if i.issued_on else "date not on the record",
            "issuing_authority": i.issuing_authority,
            "signed_by": i.signed_by,
            "expires_on": i.expires_on.isoformat() if i.expires_on else "",
            "status": i.status,
            "country": i.country,
            "document_sha256": i.document_sha256,
            "basis": i.basis,
        }
        for i in file.instruments
    ]
    return CaseView(
        case={
            "id": case.id,
            "person_id": case.person_id,
            "state": file.state.value,
            "version": case.version,
            "opened_at": case.opened_at,
            "priority_tier": case.priority_tier,
            "priority_score": case.priority_score,
            "policy_version": case.policy_version,
            "priority_explanation": json.loads(case.priority_explanation or "[]"),
        },
        file=file,
        gates={
            "field action": gates.field_action_reasons(file, today),
            "removal": gates.removal_reasons(file, today, ready=True),
        },
        history=history,
        tasks=tasks,
        refused=refused,
        instruments=instruments,
        due=len(effects),
    )


def list_cases(
    session: Session,
    ctx: AccessContext,
    tier: int | None = None,
    state: str | None = None,
    limit: int = 50,
    person_id: str | None = None,
) -> list[dict[str, Any]]:
    """Cases this caller may read for this purpose, by tier then score (one audit entry
    naming the cases shown); ``person_id`` keeps one person's."""
    q = select(Case).order_by(
        Case.priority_tier.is_(None), Case.priority_tier, Case.priority_score.desc(), Case.id
    )
    if tier is not None:
        q = q.where(Case.priority_tier == tier)
    if state is not None:
        q = q.where(Case.state == state)
    if person_id is not None:
        q = q.where(Case.person_id == person_id)
    rows = list(session.execute(q.limit(limit * 4)).scalars())
    shown = readable_cases(session, ctx, rows, "list_cases", f"tier={tier} state={state}", limit)
    conn = session.connection()
    heads: dict[int, str] = (
        dict(conn.execute(_HEADS, {"ids": [c.id for c in shown]}).all()) if shown else {}
    )
    out = []
    for c in shown:
        ok = row_seal_ok(conn, c.id, c.state, c.history_token, heads.get(c.id) or "", c.counsel)
        out.append(
            {
                "id": c.id,
                "person_id": c.person_id,
                "state": c.state
                if ok
                else f"{c.state} (does not verify: the case row was edited; "
                "report it to oversight)",
                "verified": ok,
                "tier": c.priority_tier,
                "score": c.priority_score,
                "policy_version": c.policy_version,
                "explanation": json.loads(c.priority_explanation or "[]"),
            }
        )
    return out


_HEADS = text(
    """SELECT e.case_id, e.event_hash FROM case_events e
       WHERE e.case_id IN :ids
         AND e.seq = (SELECT max(seq) FROM case_events WHERE case_id = e.case_id)"""
).bindparams(bindparam("ids", expanding=True))
