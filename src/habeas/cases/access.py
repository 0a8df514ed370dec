"""Purpose-bound, audited access to cases: the only way to read or change one.

Every function takes an ``AccessContext``. The decision is Cedar's; the audit entry
is written in the same transaction as the read or the change, and a refusal is
audited (and committed) before it is raised.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from habeas.cases.history import case_sealed
from habeas.errors import AccessDenied, Conflict, HabeasError, NotFound
from habeas.governance import audit
from habeas.governance.authz import AccessContext, Resource, authorize
from habeas.store.keys import key_for
from habeas.store.models import Case

_HEAD_OF = text("SELECT event_hash FROM case_events WHERE case_id = :id ORDER BY seq DESC LIMIT 1")


def _counsel_of(case: Case) -> str:
    """The case's counsel as the policies may believe it: a counsel written into a stored
    row outside habeas does not carry the row's seal and opens nothing. (A stand-in that
    is in no session was built by the caller from a row it checks itself.)"""

    if not case.counsel:
        return ""
    session = object_session(case)
    if session is None:
        return case.counsel
    conn = session.connection()
    head = conn.execute(_HEAD_OF, {"id": case.id}).scalar()
    trusted = case_sealed(
        key_for(conn), case.id, case.state, head or "", case.counsel, case.history_token
    )
    return case.counsel if trusted else ""


def sealed_counsel(case: Case) -> str:
    """The case's counsel if the case row's seal vouches for it, else ''."""
    return _counsel_of(case)


def case_resource(case: Case, flags: list[str] | None = None) -> Resource:
    """The Cedar view of a case: its person, counsel and state, nothing else."""
    person = {"type": "Habeas::Person", "id": case.person_id}
    return Resource(
        "Case",
        f"case:{case.id}",
        {
            "person": {"__entity": person},
            "person_id": case.person_id,
            "counsel": _counsel_of(case),
            "state": case.state,
        },
        ({"uid": person, "attrs": {"flags": flags or []}, "parents": []},),
    )


def _decide(session: Session, ctx: AccessContext, action: str, case: Case, step: str = "") -> None:
    decision = authorize(ctx, action, case_resource(case), step=step)
    entry = dict(
        user=ctx.user,
        role=ctx.role,
        purpose=ctx.purpose,
        action=f"{action}_case",
        resources=[f"case:{case.id}", f"person:{case.person_id}"],
        decision="allow" if decision.allowed else "deny",
        detail=decision.why(),
        request_id=ctx.request_id or None,
    )
    audit.append(session, **entry)  # type: ignore[arg-type]
    if not decision.allowed:
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {action} case {case.id}: "
            f"{decision.why()}",
            entry,
            decision.why(),
        )


def read_case(session: Session, ctx: AccessContext, case_id: int) -> dict[str, Any]:
    """A case's fields, if the policies allow this user to read it for this purpose."""
    case = session.get(Case, case_id)
    if case is None:
        raise HabeasError(f"no case {case_id}")
    _decide(session, ctx, "read", case)
    return {
        "id": case.id,
        "person_id": case.person_id,
        "state": case.state,
        "note": case.note,
        "counsel": case.counsel,
        "version": case.version,
    }


def update_case_note(
    session: Session, ctx: AccessContext, case_id: int, expected_version: int, note: str
) -> int:
    """Change a case's note if allowed and if nobody changed the case since ``expected_version``.

    Returns the new version. A stale version raises ``Conflict`` and changes nothing.
    """
    case = session.get(Case, case_id)
    if case is None:
        raise HabeasError(f"no case {case_id}")
    _decide(session, ctx, "write", case, step="note")
    if case.version != expected_version:  # the caller's transaction rolls back
        raise Conflict(
            f"case {case_id} is at version {case.version}, not {expected_version}: "
            "reload it and apply the change again"
        )
    case.note = note
    case.updated_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(f"case {case_id} was changed by someone else meanwhile") from None
    except OperationalError as exc:  # SQLite: another writer committed since our snapshot
        if "locked" in str(exc) or "busy" in str(exc).lower():
            raise Conflict(f"case {case_id} was changed by someone else meanwhile") from None
        raise
    return case.version


def require_case(session: Session, ctx: AccessContext, case_id: int, action: str) -> None:
    """Refuse a caller who may read no case at all for this purpose (403); otherwise a
    case that does not exist, or that this caller may not see, is "no case" (404). The
    refusal carries its audit entry (the caller audits it once the session let go)."""

    case = session.get(Case, case_id) if 0 < case_id < 2**31 else None
    if case is None:
        # a person id no client can name: counsel learns nothing of which cases exist
        anyone = Case(id=0, person_id="\x00", state="identified", counsel=ctx.user)
        probe = authorize(ctx, "read", case_resource(anyone))
        entry = {
            "user": ctx.user,
            "role": ctx.role,
            "purpose": ctx.purpose,
            "action": action,
            "resources": [f"case:{case_id}"],
            "decision": "deny",
            "detail": "no such case" if probe.allowed else probe.why(),
            "request_id": ctx.request_id or None,
        }
        exc: HabeasError = (
            NotFound(f"no case {case_id}", entry=entry)
            if probe.allowed
            else AccessDenied(
                f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {action}: {probe.why()}",
                entry,
                probe.why(),
            )
        )
        raise exc
