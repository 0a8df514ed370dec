"""Reading the audit log: only for oversight, and the reading is itself an audit entry.

The log names users and persons, so reading it is an access to personal data like any
other: Cedar decides ``read_audit`` on the log for the caller's role and purpose, and the
search (its filters) is appended to the log before the entries are returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from habeas.errors import AccessDenied, HabeasError
from habeas.governance import audit
from habeas.governance.authz import AccessContext, Resource, authorize
from habeas.store.models import AuditEntry
from habeas.store.operational import reading, session_factory


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show: every field that is set must match."""

    user: str | None = None
    purpose: str | None = None
    person: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = 50
    offset: int = 0

    def describe(self) -> str:
        """The filter as the audit entry records it."""
        parts = [
            f"{k}={v}"
            for k, v in vars(self).items()
            if v is not None and k not in ("limit", "offset")
        ]
        return (
            "search " + (", ".join(parts) or "all") + f"; limit {self.limit} offset {self.offset}"
        )


def _check_time(name: str, value: str | None) -> None:
    if value is None:
        return
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise HabeasError(f"--{name} {value!r} is not an ISO date or time") from None


def search(engine: Engine, ctx: AccessContext, f: AuditFilter) -> list[AuditEntry]:
    """Entries matching ``f``, oldest first, if the caller may read the audit log."""
    _check_time("since", f.since)
    _check_time("until", f.until)
    decision = authorize(ctx, "read_audit", Resource("AuditLog", "log", {}))
    with session_factory(engine).begin() as s:
        audit.append(
            s,
            user=ctx.user,
            role=ctx.role,
            purpose=ctx.purpose,
            action="read_audit",
            resources=["audit_log"] + ([f"person:{f.person}"] if f.person else []),
            decision="allow" if decision.allowed else "deny",
            detail=f"{f.describe()}; {decision.why()}",
            request_id=ctx.request_id or None,
        )
    if not decision.allowed:
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not read the audit log: "
            f"{decision.why()}"
        )
    q = select(AuditEntry).order_by(AuditEntry.seq)
    if f.user:
        q = q.where(AuditEntry.user == f.user)
    if f.purpose:
        q = q.where(AuditEntry.purpose == f.purpose)
    if f.person:
        q = q.where(AuditEntry.resources.contains(f'"person:{f.person}"'))
    if f.since:
        q = q.where(AuditEntry.at >= f.since)
    if f.until:
        q = q.where(AuditEntry.at < f.until)
    with session_factory(reading(engine))() as s:
        return list(s.execute(q.limit(f.limit).offset(f.offset)).scalars())
