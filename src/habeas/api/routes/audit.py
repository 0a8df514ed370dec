"""The audit log: search it, verify it, sign a checkpoint."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from habeas.api.deps import C, H, Offset, edge
from habeas.api.schemas import CheckpointOut, Verified
from habeas.app.audit_log import AuditEntryOut
from habeas.app.choices import PurposeName
from habeas.governance.audit_access import AuditFilter

router = APIRouter()


@router.get("/audit", tags=["audit"])
@edge
def audit_show(
    h: H,
    c: C,
    user: Annotated[str | None, Query(max_length=64)] = None,
    for_purpose: Annotated[PurposeName | None, Query()] = None,
    person: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Offset = 0,
) -> list[AuditEntryOut]:
    """Entries by user, purpose, person and time (oversight; the search is audited)."""

    return h.audit.show(
        c.principal,
        c.purpose,
        AuditFilter(user, for_purpose, person, since, until, limit, offset),
    )


@router.get("/audit/verify", tags=["audit"])
@edge
def audit_verify(h: H, c: C) -> Verified:
    """Recompute the hash chain."""
    del c
    v, _ = h.audit.verify()
    b = v.first_break
    return Verified(
        ok=v.ok,
        entries=v.entries,
        head=v.head,
        first_break=f"entry {b.seq}: {b.reason}" if b else None,
        case_events=v.case_events,
        history_problem=v.history_problem,
        head_problem=v.head_problem,
    )


@router.post("/audit/checkpoint", tags=["audit"])
@edge
def audit_checkpoint(h: H, c: C) -> CheckpointOut:
    """Sign a checkpoint of the log for a witness to keep (oversight)."""
    cp = h.audit.sign(c.principal, c.purpose)
    return CheckpointOut(**asdict(cp))
