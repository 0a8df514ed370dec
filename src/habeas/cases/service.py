"""Cases in the operational store: every step authorized (Cedar, per step), checked by the
lifecycle's gates, stored as an event, and audited in the same transaction.

A case's state is the replay of its stored events through the pure lifecycle; the
``cases`` row caches the state and carries the version that makes a stale write a
conflict. Refusals, by policy or by law, are audited in the session and carry their audit entry,
which the application appends again after rolling the work back.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from habeas.cases import lifecycle as lc
from habeas.cases.access import case_resource
from habeas.cases.casefile import LIFECYCLE_ACTOR, TERMINAL, CaseFile, Refused
from habeas.cases.common import audit_case, denied, get_case, utc_now
from habeas.cases.court_basis import support_problems
from habeas.cases.deadlines import tasks_for
from habeas.cases.documents import ATTACHED, verified_issuer
from habeas.cases.event_store import (
    ADD_EVENT,
    OPENED,
    Head,
    check_head,
    file_at,
    head_of,
    remember,
    store_event,
)
from habeas.cases.follow_ups import AFTER_STEP, StepTaken
from habeas.cases.history import (
    case_seal,
)
from habeas.cases.lifecycle import Event, event_payload, transition
from habeas.errors import AccessDenied, Conflict, GateRefused, HabeasError
from habeas.governance import audit
from habeas.governance.authz import AccessContext, authorize
from habeas.store.keys import key_for
from habeas.store.models import Case, CaseRefusal, Instrument, Task, User


def open_case(
    session: Session, ctx: AccessContext, person_id: str, on: date, basis: str = ""
) -> Case:
    """Open a case on a person (one open case per person), audited."""
    case = Case(
        person_id=person_id,
        state="identified",
        note="",
        counsel=None,
        updated_at=utc_now(),
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
    head, ref = store_event(
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
    remember((case.id, *head), CaseFile(str(case.id), person_id))  # its first step needs it
    audit_case(session, ctx, "case_open", case, True, f"basis: {basis or 'none given'}", [ref])
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
        attached = conn.execute(ATTACHED, {"case": case_id, "sha": event.document_sha256})
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
    entry = audit_case(session, ctx, f"case_{event.kind}", case, False, "; ".join(reasons))
    row: dict[str, Any] = {
        "case_id": case.id,
        "at": utc_now(),
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
    check_head(conn, case_id, row.state, row.history_token, head, row.counsel)
    before = file_at(session, case_id, case.person_id, head)
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
        head, ref = store_event(
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
    head, ref = store_event(
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
            "at": utc_now(),
        },
    )
    if moved_row.rowcount != 1:
        raise Conflict(f"case {case_id} was changed by someone else meanwhile")
    conn.execute(ADD_EVENT, rows)
    loaded = session.identity_map.get(identity_key(Case, case_id))
    if loaded is not None:  # an ORM copy in this session is now stale
        session.expire(loaded)
    _sync_instruments(session, case_id, before, result)
    if tasks_for(before) != tasks_for(result) or prior:
        _sync_tasks(session, case_id, result)
    AFTER_STEP.run(
        StepTaken(session, ctx, case_id, before, result, event.kind, event.on or today, today)
    )
    remember((case_id, *head), result)
    noted = "".join(f"; {p.kind.replace('_', ' ')} recorded first ({p.basis})" for p, _ in prior)
    audit_case(
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
        raise denied(session, ctx, "case_due_effects", seen, f"read case {case_id}", decision.why())
    head = _row_head(row)
    check_head(conn, case_id, row.state, row.history_token, head, row.counsel)
    file = file_at(session, case_id, row.person_id, head)
    refs: list[str] = []
    rows: list[dict[str, Any]] = []
    for due in lc.due_effects(file, today):
        due = replace(due, recorded=today)
        after = transition(file, due)
        if isinstance(after, Refused):
            continue
        head, ref = store_event(
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
        {
            "id": case_id,
            "v": row.version,
            "token": token,
            "state": file.state.value,
            "at": utc_now(),
        },
    )
    if moved.rowcount != 1:
        raise Conflict(f"case {case_id} was changed by someone else meanwhile")
    conn.execute(ADD_EVENT, rows)
    _sync_tasks(session, case_id, file)
    remember((case_id, *head), file)
    audit.append(
        session,
        user=LIFECYCLE_ACTOR,
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


def assign_counsel(session: Session, ctx: AccessContext, case_id: int, counsel: str) -> None:
    """Record the person's counsel on the case (an account with the counsel role); counsel
    then reads this case, for redress, when naming this person as their client."""

    case = get_case(session, case_id)
    decision = authorize(ctx, "write", case_resource(case), step="assign_counsel")
    if not decision.allowed:
        raise denied(
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
    head = head_of(conn, case_id)
    # a row edited outside habeas is not sealed again by a change habeas makes to it
    check_head(conn, case_id, case.state, case.history_token, head, case.counsel)
    case.counsel = counsel
    case.updated_at = utc_now()
    case.history_token = case_seal(
        key_for(conn), case_id, case.state, head[1] if head else "", counsel
    )
    session.flush()
    audit_case(session, ctx, "case_assign_counsel", case, True, f"counsel {counsel}")


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
