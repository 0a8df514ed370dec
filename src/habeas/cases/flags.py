"""Resolving a citizenship or lawful-status flag: a supervisor, a written reason, the
evidence examined; recorded on every open case of the person and in the person index,
where it shows in the person's history (and stays resolved while its records do not
change)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, select

from habeas.cases import lifecycle as lc
from habeas.cases.lifecycle import TERMINAL
from habeas.cases.service import record_event
from habeas.errors import HabeasError
from habeas.governance.authz import AccessContext
from habeas.store.models import Case
from habeas.store.operational import session_factory
from habeas.store.staging import StagingStore


def resolve_flag(
    engine: Engine, store: StagingStore, ctx: AccessContext, case_id: int, flag: str,
    reason: str, evidence: str, on: date,
) -> list[int]:  # fmt: skip
    """Resolve ``flag`` on the case's person; returns the cases it was recorded on. Every
    case step is authorized (only supervisors) and checked by the lifecycle; the index is
    updated only after the cases' transaction commits."""
    with session_factory(engine).begin() as s:
        case = s.get(Case, case_id)
        if case is None:
            raise HabeasError(f"no case {case_id}")
        person = case.person_id
        others = list(s.execute(
            select(Case.id).where(Case.person_id == person, Case.id != case_id,
                                  Case.state.not_in([t.value for t in TERMINAL]))
        ).scalars())  # fmt: skip
        event = lc.ResolveFlag(on, ctx.user, ctx.role, flag=flag, reason=reason,
                               evidence=evidence)  # fmt: skip
        done = []
        for cid in [case_id, *others]:
            record_event(s, ctx, cid, event)
            done.append(cid)
    store.con.execute(
        """UPDATE person_flags SET status = 'resolved', resolved_by = ?, resolution = ?,
                  resolved_at = ?
           WHERE person_id = ? AND flag = ? AND status = 'open'""",
        [ctx.user, f"{reason} (evidence: {evidence})", datetime.now(), person, flag],
    )
    return done
