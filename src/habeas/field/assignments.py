"""Assignments in the operational store: kept in step with their cases.

Every change to a case runs ``settle`` in the same transaction: an outcome recorded on
the case closes the open assignment as done; anything that stops the field gate (a
departure verified, a stay, a flag, a withdrawn warrant, a closed case) cancels it with
the reasons, audited, so the officer's view shows why at once. A resolution run that
publishes a new citizenship or lawful-status flag cancels the person's open assignments
in the publishing transaction (``cancel_for_flags``).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from habeas.cases.casefile import CaseFile
from habeas.cases.flags import FLAGS
from habeas.cases.follow_ups import StepTaken
from habeas.field.rules import cancel_reasons
from habeas.governance import audit
from habeas.governance.authz import AccessContext
from habeas.resolve.publish import Published
from habeas.store.models import Assignment, Case, IndexFlag

INDEX_ACTOR = "habeas-index"
"""The actor of a cancellation a published flag made (the run is named in the detail)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def settle(
    session: Session, ctx: AccessContext, case_id: int, after: CaseFile, kind: str, today: date
) -> int:
    """Close or cancel the case's open assignments as the step just recorded requires;
    returns how many changed."""
    open_ids = list(
        session.execute(
            select(Assignment.id).where(Assignment.case_id == case_id, Assignment.status == "open")
        ).scalars()
    )
    if not open_ids or kind == "assign":
        return 0
    if kind == "record_encounter":
        status, why = "done", f"outcome {after.encounter} recorded by {ctx.user}"
    else:
        reasons = cancel_reasons(after, today)
        if not reasons:
            return 0
        status, why = "cancelled", "; ".join(reasons)
    session.execute(
        update(Assignment)
        .where(Assignment.id.in_(open_ids))
        .values(status=status, closed_at=_now(), closed_by=ctx.user, reason=why[:2000])
    )
    audit.append(
        session,
        user=ctx.user,
        role=ctx.role,
        purpose=ctx.purpose,
        action=f"assignment_{status}",
        resources=[f"case:{case_id}", *(f"assignment:{i}" for i in open_ids)],
        decision="allow",
        detail=f"after {kind}: {why}"[:2000],
        request_id=ctx.request_id or None,
    )
    return len(open_ids)


def cancel_for_flags(conn: Connection, run_id: str, cause: str = "") -> int:
    """Cancel every open assignment whose person now carries an open citizenship or
    lawful-status flag (in the publishing transaction), citing ``cause`` (the run when
    empty); returns how many."""
    rows = conn.execute(
        select(Assignment.id, Assignment.case_id, IndexFlag.flag, IndexFlag.detail)
        .join(Case, Case.id == Assignment.case_id)
        .join(IndexFlag, IndexFlag.person_id == Case.person_id)
        .where(
            Assignment.status == "open",
            IndexFlag.status == "open",
            IndexFlag.flag.in_(FLAGS),
        )
    ).all()
    by_assignment: dict[int, tuple[int, list[str]]] = {}
    for aid, cid, flag, detail in rows:
        by_assignment.setdefault(aid, (cid, []))[1].append(f"{flag} flag: {detail}")
    for aid, (cid, reasons) in sorted(by_assignment.items()):
        why = (
            "an unresolved flag was published by "
            + (cause or "run " + run_id)
            + ": "
            + "; ".join(reasons)
            + " (a supervisor must resolve it with a reason first)"
        )
        conn.execute(
            update(Assignment)
            .where(Assignment.id == aid)
            .values(status="cancelled", closed_at=_now(), closed_by=INDEX_ACTOR, reason=why[:2000])
        )
        audit.append(
            conn,
            user=INDEX_ACTOR,
            role="system",
            purpose="identity_resolution",
            action="assignment_cancelled",
            resources=[f"case:{cid}", f"assignment:{aid}"],
            decision="allow",
            detail=why[:2000],
        )
    return len(by_assignment)


def address_of(row: Assignment) -> dict[str, Any]:
    """The address an assignment was given with (as the planner estimated it then)."""
    return json.loads(row.address or "{}")  # type: ignore[no-any-return]


def settle_after(step: StepTaken) -> None:
    """Follow-up of a case step: the case's open assignments are settled by it."""
    settle(step.session, step.ctx, step.case_id, step.after, step.kind, step.today)


def cancel_after_publish(published: Published) -> None:
    """Follow-up of a publish: open assignments of newly flagged people are cancelled."""
    cancel_for_flags(published.conn, published.run_id, published.cause)
