"""Cases in the operational store: every step authorized (Cedar, per step), checked by the
lifecycle's gates, stored as an event, and audited in the same transaction.

A case's state is the replay of its stored events through the pure lifecycle; the
``cases`` row caches the state and carries the version that makes a stale write a
conflict. Refusals, by policy or by law, are audited in the session and carry their audit entry,
which the application appends again after rolling the work back.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from habeas.cases import gates
from habeas.cases import lifecycle as lc
from habeas.cases.deadlines import TaskSpec, tasks_for
from habeas.cases.lifecycle import (
    TERMINAL,
    CaseFile,
    Event,
    Refused,
    State,
    event_from_payload,
    event_payload,
    replay,
    transition,
)
from habeas.errors import HabeasError
from habeas.governance import audit
from habeas.governance.authz import AccessContext, authorize, authorize_batch
from habeas.governance.cases_access import Conflict, case_resource
from habeas.governance.identity import AccessDenied
from habeas.store.models import Case, CaseEvent, Instrument, Task

OPENED = "opened"
"""The kind of a case's first stored event (not a lifecycle event: the case row itself)."""


class GateRefused(HabeasError):
    """The law (a gate of the lifecycle) refuses the step; ``refused.reasons`` names every why."""

    def __init__(self, refused: Refused, entry: dict[str, Any] | None = None) -> None:
        super().__init__(str(refused))
        self.refused = refused
        self.entry = entry


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _audit(
    session: Session, ctx: AccessContext, action: str, case: Case, allowed: bool, detail: str
) -> dict[str, Any]:
    """Append the entry in the session's transaction; returned, so that a refusal can carry
    it to the application (which keeps it after rolling the work back)."""
    entry: dict[str, Any] = dict(
        user=ctx.user, role=ctx.role, purpose=ctx.purpose, action=action,
        resources=[f"case:{case.id}", f"person:{case.person_id}"],
        decision="allow" if allowed else "deny", detail=detail,
        request_id=ctx.request_id or None,
    )  # fmt: skip
    audit.append(session, **entry)
    return entry


def _get(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise HabeasError(f"no case {case_id}")
    return case


def _events(session: Session, case_id: int) -> list[CaseEvent]:
    return list(
        session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        ).scalars()
    )


_FILES: OrderedDict[str, CaseFile] = OrderedDict()
_FILES_MAX = 50_000
_FILES_LOCK = threading.Lock()
"""Case files by history token. Every stored step gives its case a new random token, so a
token names exactly one history: a cached file is the replay of that history whichever
session, process or restored backup the row is read from. A token written by a
transaction that rolled back is never seen again, and its entry simply ages out."""


def _cached(token: str | None) -> CaseFile | None:
    if not token:
        return None
    with _FILES_LOCK:
        hit = _FILES.get(token)
        if hit is not None:
            _FILES.move_to_end(token)
        return hit


def _remember(token: str, file: CaseFile) -> None:
    with _FILES_LOCK:
        _FILES[token] = file
        if len(_FILES) > _FILES_MAX:
            _FILES.popitem(last=False)


def case_file(session: Session, case: Case) -> CaseFile:
    """The case as the lifecycle sees it: its stored events replayed (no access check:
    callers are the functions below, which decide and audit first)."""
    hit = _cached(case.history_token)
    if hit is not None:
        return hit
    rows = session.execute(
        select(CaseEvent.kind, CaseEvent.payload)
        .where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()  # fmt: skip
    stored = [event_from_payload(json.loads(p)) for k, p in rows if k != OPENED]
    file = replay(CaseFile(str(case.id), case.person_id), stored)
    if case.history_token:
        _remember(case.history_token, file)
    return file


def open_case(
    session: Session, ctx: AccessContext, person_id: str, on: date, basis: str = ""
) -> Case:
    """Open a case on a person (one open case per person), audited."""
    case = Case(person_id=person_id, state="identified", note="", counsel=None,
                updated_at=_now(), opened_at=datetime.combine(on, datetime.min.time()))  # fmt: skip
    decision = authorize(ctx, "write", case_resource(case), step=OPENED)
    if not decision.allowed:
        entry: dict[str, Any] = dict(
            user=ctx.user, role=ctx.role, purpose=ctx.purpose, action="case_open",
            resources=[f"person:{person_id}"], decision="deny", detail=decision.why(),
            request_id=ctx.request_id or None,
        )  # fmt: skip
        audit.append(session, **entry)
        raise AccessDenied(f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not open a "
                           f"case: {decision.why()}", entry, decision.why())  # fmt: skip
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
    session.add(CaseEvent(case_id=case.id, at=_now(), kind=OPENED, actor=ctx.user,
                          role=ctx.role, state_after="identified",
                          payload=json.dumps({"on": on.isoformat(), "basis": basis})))  # fmt: skip
    _audit(session, ctx, "case_open", case, True, f"basis: {basis or 'none given'}")
    return case


LEAVES_CUSTODY = frozenset(
    {State.RELEASED, State.REMOVED, State.DEPARTURE_VERIFIED, State.CLOSED, State.FUGITIVE}
)
"""States in which nobody is held: reaching one ends the open placement."""

_READ_CASE = text(
    "SELECT id, person_id, state, counsel, version, history_token FROM cases WHERE id = :id"
)
_MOVE_CASE = text(
    """UPDATE cases SET state = :state, updated_at = :at, version = version + 1,
                        history_token = :token
       WHERE id = :id AND version = :v"""
)
_INDEX_FLAGS = text(
    """SELECT flag, detail, record_ids, run_id FROM index_flags
       WHERE person_id = :person AND status = 'open'
         AND flag IN ('citizenship', 'lawful_status') ORDER BY flag, id"""
)
INDEX_ACTOR = "person-index"
"""The actor of a flag the published index raises on a case at the moment of a step."""


def index_flags(conn: Any, person_id: str, file: CaseFile, on: date) -> list[lc.RaiseFlag]:
    """The open citizenship and lawful-status flags the published index holds on the person
    now that the case file does not carry yet (or carries resolved on other records)."""
    out = []
    for flag, detail, ids, run in conn.execute(_INDEX_FLAGS, {"person": person_id}):
        records = tuple(json.loads(ids))
        if any(f.kind == flag and (f.open or f.record_ids == records) for f in file.flags):
            continue
        out.append(lc.RaiseFlag(on, INDEX_ACTOR, "system", basis=f"index run {run}",
                                flag=flag, detail=detail, record_ids=records))  # fmt: skip
    return out


_ADD_EVENT = text(
    """INSERT INTO case_events (case_id, at, kind, actor, role, state_after, payload)
       VALUES (:case_id, :at, :kind, :actor, :role, :state_after, :payload)"""
)


def record_event(
    session: Session,
    ctx: AccessContext,
    case_id: int,
    event: Event,
    expected_version: int | None = None,
) -> CaseFile:
    """Apply one step to a case if the caller may take it (Cedar, for this step and
    purpose) and the law allows it now (the lifecycle's gates); the event is stored and
    audited in the caller's transaction. The event's actor and role are the caller's."""
    event = replace(event, actor=ctx.user, role=ctx.role)
    conn = session.connection()  # fixed statements on the Core connection: a step is hot
    row = conn.execute(_READ_CASE, {"id": case_id}).one_or_none()
    if row is None:
        raise HabeasError(f"no case {case_id}")
    # a detached stand-in: the row is changed below by one conditional UPDATE, not the ORM
    case = Case(id=row.id, person_id=row.person_id, state=row.state, counsel=row.counsel,
                version=row.version, history_token=row.history_token)  # fmt: skip
    if expected_version is not None and case.version != expected_version:
        raise Conflict(f"case {case_id} is at version {case.version}, not {expected_version}: "
                       "reload it and apply the step again")  # fmt: skip
    action = f"case_{event.kind}"
    decision = authorize(ctx, "write", case_resource(case), step=event.kind)
    if not decision.allowed:
        entry = _audit(session, ctx, action, case, False, decision.why())
        raise AccessDenied(f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not "
                           f"{event.kind} on case {case_id}: {decision.why()}", entry,
                           decision.why())  # fmt: skip
    before = case_file(session, case)
    # the gates read the flags the index holds now: a flag published by a resolution run
    # stops the very next step, with nothing else run in between
    raised = [f for f in index_flags(conn, case.person_id, before, event.on)
              if not (isinstance(event, lc.RaiseFlag) and event.flag == f.flag)]  # fmt: skip
    for flag_event in raised:
        flagged = transition(before, flag_event)
        if isinstance(flagged, CaseFile):
            before = flagged
    result = transition(before, event)
    if isinstance(result, Refused):
        entry = _audit(session, ctx, action, case, False, "; ".join(result.reasons))
        raise GateRefused(result, entry)
    token = uuid.uuid4().hex
    moved = conn.execute(_MOVE_CASE, {"id": case_id, "v": case.version, "token": token,
                                      "state": result.state.value, "at": _now()})  # fmt: skip
    if moved.rowcount != 1:
        raise Conflict(f"case {case_id} was changed by someone else meanwhile")
    loaded = session.identity_map.get(identity_key(Case, case_id))
    if loaded is not None:  # an ORM copy in this session is now stale
        session.expire(loaded)
    for flag_event in raised:
        conn.execute(_ADD_EVENT, {"case_id": case_id, "at": _now(), "kind": flag_event.kind,
                                  "actor": INDEX_ACTOR, "role": "system",
                                  "state_after": before.state.value,
                                  "payload": json.dumps(event_payload(flag_event),
                                                        sort_keys=True)})  # fmt: skip
    payload = json.dumps(event_payload(event), sort_keys=True)
    conn.execute(_ADD_EVENT, {"case_id": case_id, "at": _now(), "kind": event.kind,
                              "actor": ctx.user, "role": ctx.role,
                              "state_after": result.state.value, "payload": payload})  # fmt: skip
    _sync_instruments(session, case_id, before, result)
    if result.state in LEAVES_CUSTODY and before.state not in LEAVES_CUSTODY:
        from habeas.custody.facilities import end_placement

        end_placement(session, case_id, event.on)
    if tasks_for(before) != tasks_for(result):
        _sync_tasks(session, case_id, result)
    _remember(token, result)
    flagged_note = "".join(f"; {f.flag} flag raised from the index first" for f in raised)
    _audit(session, ctx, action, case, True, f"{before.state} → {result.state}"
           + (f"; basis {event.basis}" if event.basis else "") + flagged_note)  # fmt: skip
    return result


def assign_counsel(session: Session, ctx: AccessContext, case_id: int, counsel: str) -> None:
    """Record the person's counsel on the case (an account with the counsel role); counsel
    then reads this case, for redress, when naming this person as their client."""
    from habeas.store.models import User

    case = _get(session, case_id)
    decision = authorize(ctx, "write", case_resource(case), step="assign_counsel")
    if not decision.allowed:
        entry = _audit(session, ctx, "case_assign_counsel", case, False, decision.why())
        raise AccessDenied(f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not assign "
                           f"counsel on case {case_id}: {decision.why()}", entry,
                           decision.why())  # fmt: skip
    account = session.execute(select(User).where(User.username == counsel)).scalar_one_or_none()
    if account is None or account.role != "counsel" or not account.active:
        raise HabeasError(f"{counsel!r} is not an active counsel account")
    case.counsel = counsel
    case.updated_at = _now()
    session.flush()
    _audit(session, ctx, "case_assign_counsel", case, True, f"counsel {counsel}")


def _sync_instruments(session: Session, case_id: int, before: CaseFile, after: CaseFile) -> None:
    """Keep the instruments table (first-class, queryable records) equal to the case file."""
    old = {i.reference: i for i in before.instruments}
    for inst in after.instruments:
        prior = old.get(inst.reference)
        if prior is None:
            session.add(Instrument(
                case_id=case_id, kind=inst.kind, reference=inst.reference,
                issuing_authority=inst.issuing_authority, issued_on=inst.issued_on,
                expires_on=inst.expires_on, status=inst.status,
                detail=json.dumps({"country": inst.country}) if inst.country else "",
            ))  # fmt: skip
        elif prior.status != inst.status:
            row = session.execute(
                select(Instrument).where(Instrument.case_id == case_id,
                                         Instrument.reference == inst.reference)
            ).scalar_one()  # fmt: skip
            row.status = inst.status


def _sync_tasks(session: Session, case_id: int, file: CaseFile) -> None:
    """Keep the case's deadline tasks equal to what its history creates."""
    specs = {(t.kind, t.due_on): t for t in tasks_for(file)}
    rows = {
        (t.kind, t.due_on): t
        for t in session.execute(select(Task).where(Task.case_id == case_id)).scalars()
    }
    for key, spec in specs.items():
        status = "done" if spec.done_on else "open"
        row = rows.get(key)
        if row is None:
            session.add(Task(case_id=case_id, kind=spec.kind, due_on=spec.due_on,
                             status=status, detail=spec.detail, done_on=spec.done_on))  # fmt: skip
        elif row.status != status or row.done_on != spec.done_on:
            row.status, row.done_on = status, spec.done_on
    for key, row in rows.items():
        if key not in specs and row.status == "open":
            row.status = "cancelled"


def readable_cases(
    session: Session, ctx: AccessContext, cases: list[Case], audit_action: str, detail: str,
    limit: int | None = None,
) -> list[Case]:  # fmt: skip
    """The cases (in order, at most ``limit``) this caller may read for this purpose; one
    audit entry names the cases returned (a refusal of all of them is a denial)."""
    decisions = authorize_batch(ctx, "read", [case_resource(c) for c in cases]) if cases else []
    allowed = [c for c, d in zip(cases, decisions, strict=True) if d.allowed][:limit]
    audit.append(
        session, user=ctx.user, role=ctx.role, purpose=ctx.purpose, action=audit_action,
        resources=[f"case:{c.id}" for c in allowed],
        decision="allow" if allowed or not cases else "deny",
        detail=f"{detail}; {len(allowed)} of {len(cases)} shown"
        + ("" if allowed or not cases else f"; {decisions[0].why()}"),
        request_id=ctx.request_id or None,
    )  # fmt: skip
    return allowed


def tasks_due(
    session: Session, ctx: AccessContext, today: date, within_days: int = 14
) -> list[dict[str, Any]]:
    """Open deadlines due by ``today + within_days`` (missed ones first) on cases the caller
    may read for this purpose; one audit entry names the cases shown."""
    horizon = today + timedelta(days=within_days)
    rows = session.execute(
        select(Task, Case).join(Case, Case.id == Task.case_id)
        .where(Task.status == "open", Task.due_on <= horizon).order_by(Task.due_on, Task.id)
    ).all()  # fmt: skip
    cases = list({c.id: c for _, c in rows}.values())
    readable = {c.id for c in readable_cases(session, ctx, cases, "tasks_due",
                                             f"deadlines due by {horizon}")}  # fmt: skip
    out = []
    for task, case in rows:
        if case.id not in readable:
            continue
        spec = TaskSpec(task.kind, task.due_on, task.detail, task.done_on)
        out.append({"case_id": case.id, "person_id": case.person_id, "kind": task.kind,
                    "due_on": task.due_on, "status": spec.status(today), "detail": task.detail,
                    "state": case.state})  # fmt: skip
    out.sort(key=lambda r: (r["status"] != "missed", r["due_on"]))
    return out


@dataclass(frozen=True)
class CaseView:
    """What `cases show` prints: the case, its gates today, its priority and its history."""

    case: dict[str, Any]
    file: CaseFile
    gates: dict[str, list[str]]
    history: list[dict[str, Any]]
    tasks: list[dict[str, Any]]


def show_case(session: Session, ctx: AccessContext, case_id: int, today: date) -> CaseView:
    """A case with its instruments, gate reasons as of ``today``, priority and history
    (audited read)."""
    case = _get(session, case_id)
    decision = authorize(ctx, "read", case_resource(case))
    entry = _audit(session, ctx, "read_case", case, decision.allowed, decision.why())
    if not decision.allowed:
        raise AccessDenied(f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not read case "
                           f"{case_id}: {decision.why()}", entry, decision.why())  # fmt: skip
    file = case_file(session, case)
    for flag_event in index_flags(session.connection(), case.person_id, file, today):
        flagged = transition(file, flag_event)
        if isinstance(flagged, CaseFile):
            file = flagged
    history = [
        {"at": e.at, "kind": e.kind, "actor": e.actor, "role": e.role,
         "state_after": e.state_after, "payload": json.loads(e.payload)}
        for e in _events(session, case.id)
    ]  # fmt: skip
    tasks = [
        {"kind": t.kind, "due_on": t.due_on, "status": t.status, "detail": t.detail}
        for t in session.execute(
            select(Task).where(Task.case_id == case.id).order_by(Task.due_on)
        ).scalars()
    ]
    return CaseView(
        case={
            "id": case.id, "person_id": case.person_id, "state": case.state,
            "version": case.version, "opened_at": case.opened_at,
            "priority_tier": case.priority_tier, "priority_score": case.priority_score,
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
    )  # fmt: skip


def list_cases(
    session: Session,
    ctx: AccessContext,
    tier: int | None = None,
    state: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Cases this caller may read for this purpose, by tier then score (one audit entry
    naming the cases shown)."""
    q = select(Case).order_by(Case.priority_tier.is_(None), Case.priority_tier,
                              Case.priority_score.desc(), Case.id)  # fmt: skip
    if tier is not None:
        q = q.where(Case.priority_tier == tier)
    if state is not None:
        q = q.where(Case.state == state)
    rows = list(session.execute(q.limit(limit * 4)).scalars())
    shown = readable_cases(session, ctx, rows, "list_cases", f"tier={tier} state={state}", limit)
    return [
        {"id": c.id, "person_id": c.person_id, "state": c.state, "tier": c.priority_tier,
         "score": c.priority_score, "policy_version": c.policy_version,
         "explanation": json.loads(c.priority_explanation or "[]")}
        for c in shown
    ]  # fmt: skip
