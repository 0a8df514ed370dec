"""What every case function shares: the audit entry of a step on a case, a policy refusal
carrying its entry, reading a case and its stored events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from habeas.errors import AccessDenied, HabeasError
from habeas.governance import audit
from habeas.governance.authz import AccessContext
from habeas.store.models import Case, CaseEvent, CaseRefusal


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def audit_case(
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


def denied(
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
    entry = audit_case(session, ctx, action, case, False, why, events)
    return AccessDenied(
        f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {doing}: {why}", entry, why
    )


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise HabeasError(f"no case {case_id}")
    return case


def case_events(session: Session, case_id: int) -> list[CaseEvent]:
    return list(
        session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        ).scalars()
    )


def keep_refused_attempt(conn: Connection, refusal: dict[str, Any]) -> None:
    """Keep a refused step on the case's list of refused attempts (after the work that
    tried it was rolled back)."""
    conn.execute(insert(CaseRefusal), refusal)
