"""Reading cases: the ones a caller may see, deadlines due, one case in full (its history,
instruments, gates and refused attempts), and the list."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from habeas.cases import gates
from habeas.cases import lifecycle as lc
from habeas.cases.access import case_resource
from habeas.cases.casefile import CaseFile
from habeas.cases.common import audit_case, case_events, denied, get_case
from habeas.cases.deadlines import TaskSpec
from habeas.cases.event_store import case_file, row_seal_ok
from habeas.cases.instruments import FORMS
from habeas.cases.lifecycle import transition
from habeas.cases.service import index_flags
from habeas.governance import audit
from habeas.governance.authz import AccessContext, authorize, authorize_batch
from habeas.store.models import Case, CaseEvent, CaseRefusal, CourtRecordReview, Task


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
    case = get_case(session, case_id)
    decision = authorize(ctx, "read", case_resource(case))
    if not decision.allowed:
        raise denied(session, ctx, "read_case", case, f"read case {case_id}", decision.why())
    audit_case(session, ctx, "read_case", case, True, decision.why())
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
    history = [court_entry(e) for e in case_events(session, case.id)]
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


def cases_of_person(session: Session, person_id: str) -> list[Case]:
    """A person's cases, newest first (no access check: callers filter them)."""
    q = select(Case).where(Case.person_id == person_id).order_by(Case.id.desc())
    return list(session.execute(q).scalars())


def cases_by_id(session: Session, ids: Iterable[int]) -> dict[int, Case]:
    """Cases by id."""
    return {c.id: c for c in session.execute(select(Case).where(Case.id.in_(list(ids)))).scalars()}


def state_and_version(session: Session, case_id: int) -> tuple[str, int]:
    """A case's state and version as stored now."""
    state, version = session.execute(
        select(Case.state, Case.version).where(Case.id == case_id)
    ).one()
    return str(state), int(version)


def court_record_reviews(session: Session, limit: int, offset: int) -> list[CourtRecordReview]:
    """Court records set aside for their contradicting dates, oldest first."""
    q = (
        select(CourtRecordReview)
        .order_by(CourtRecordReview.found_at, CourtRecordReview.record_id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(q).scalars())


def manifest_moves(session: Session) -> list[CaseEvent]:
    """Every case event that put a person on a manifest or took them off, by case."""
    q = (
        select(CaseEvent)
        .where(CaseEvent.kind.in_(("add_to_manifest", "take_off_manifest")))
        .order_by(CaseEvent.case_id, CaseEvent.seq)
    )
    return list(session.execute(q).scalars().all())
