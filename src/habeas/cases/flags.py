"""Resolving a citizenship or lawful-status flag: a supervisor, a written reason, the
evidence examined; recorded on every open case of the person and in the published person
index, in one transaction (the flag stays resolved while its records do not change)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from habeas.cases import lifecycle as lc
from habeas.cases.casefile import TERMINAL
from habeas.cases.service import record_event
from habeas.errors import HabeasError, NotFound
from habeas.governance.authz import AccessContext
from habeas.store.models import Case, IndexFlag

FLAGS = ("citizenship", "lawful_status")


def resolve_flag(
    session: Session,
    ctx: AccessContext,
    case_id: int,
    flag: str,
    reason: str,
    evidence: str,
    on: date,
) -> list[int]:
    """Resolve ``flag`` on the case's person; returns the cases it was recorded on. Every
    case step is authorized (only supervisors) and checked by the lifecycle; the index's
    flag changes in the same transaction, so the two never disagree."""
    if flag not in FLAGS:
        raise HabeasError(f"flag must be one of {', '.join(FLAGS)}, not {flag!r}")
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    person = case.person_id
    others = list(
        session.execute(
            select(Case.id)
            .where(
                Case.person_id == person,
                Case.id != case_id,
                Case.state.not_in([t.value for t in TERMINAL]),
            )
            .order_by(Case.id)
        ).scalars()
    )
    event = lc.ResolveFlag(on, ctx.user, ctx.role, flag=flag, reason=reason, evidence=evidence)
    done = []
    for cid in [case_id, *others]:
        record_event(session, ctx, cid, event)
        done.append(cid)
    session.execute(
        update(IndexFlag)
        .where(IndexFlag.person_id == person, IndexFlag.flag == flag, IndexFlag.status == "open")
        .values(
            status="resolved",
            resolved_by=ctx.user,
            resolution=f"{reason} (evidence: {evidence})",
            resolved_at=datetime.now(UTC).replace(tzinfo=None),
        )
    )
    return done
