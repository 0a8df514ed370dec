"""What the field's use cases share: where the caller works (read from the store, never
the request), the addresses the purpose may read, and how an assignment is shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from habeas.app.field.schemas import AssignmentOut, TeamOut
from habeas.app.index.grants import grants
from habeas.errors import AccessDenied
from habeas.field import queries
from habeas.field.confidence import AddressSeen
from habeas.governance.authz import Resource, authorize
from habeas.resolve.publish import sealed_sources
from habeas.store.models import Assignment, FieldOffice, FieldTeam, IndexRecord

if TYPE_CHECKING:
    from habeas.app.core import Work

PLANNABLE = ("approved_for_field_action", "encountered")
"""Case states the planner shows: approved, and handed back after "not located"."""
MAX_AHEAD = 14
"""Days ahead an assignment may be planned."""


def now() -> datetime:
    """The time now, in UTC, as the store keeps it (naive)."""
    return datetime.now(UTC).replace(tzinfo=None)


def hhmm(minutes: int | None) -> str | None:
    """Minutes after midnight as HH:MM."""
    return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def window(a: Assignment) -> str:
    """An assignment's time window as HH:MM–HH:MM."""
    return f"{hhmm(a.window_start)}–{hhmm(a.window_end)}"


def assignment_out(a: Assignment) -> AssignmentOut:
    """An assignment row as the API shows it."""
    return AssignmentOut(
        id=a.id,
        case_id=a.case_id,
        person_id=a.person_id,
        team=a.team,
        day=a.day,
        status=a.status,
        route_seq=a.route_seq,
        eta=hhmm(a.eta),
        window=window(a),
        address=json.loads(a.address or "{}"),
        reason=a.reason,
        assigned_by=a.assigned_by,
    )


def refused(ctx: Any, action: str, resources: list[str], why: str) -> AccessDenied:
    """A refusal carrying its audit entry (audited once the unit of work let go)."""
    entry = {
        "user": ctx.user,
        "role": ctx.role,
        "purpose": ctx.purpose,
        "action": action,
        "resources": resources,
        "decision": "deny",
        "detail": why,
        "request_id": ctx.request_id or None,
    }
    return AccessDenied(
        f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {action}: {why}", entry, why
    )


def office_of(w: Work, action: str) -> FieldOffice:
    """The supervisor's office, after Cedar allows planning for this purpose."""
    office = queries.office_of(w.session, w.ctx.user)
    d = authorize(w.ctx, "plan_field", Resource("FieldOffice", office.code if office else "*"))
    if not d.allowed:
        raise refused(w.ctx, action, ["field_office"], d.why())
    if office is None:
        raise refused(
            w.ctx,
            action,
            ["field_office"],
            f"{w.ctx.user} belongs to no field office (an administrator places supervisors in one)",
        )
    return office


def team_of(w: Work, action: str) -> FieldTeam:
    """The field officer's team (a supervisor names none: refused here)."""
    team = queries.team_of(w.session, w.ctx.user)
    if team is None:
        raise refused(
            w.ctx,
            action,
            ["field_team"],
            f"{w.ctx.user} is on no field team (an administrator places officers on one)",
        )
    return team


def office_team(w: Work, action: str, office: FieldOffice, code: str) -> FieldTeam:
    """A team of the supervisor's office (another office's team is refused)."""
    t = queries.team(w.session, code)
    if t is None or t.office != office.code:
        raise refused(
            w.ctx, action, [f"team:{code}"], f"team {code} is not a team of office {office.code}"
        )
    return t


def readable_addresses(w: Work, person_ids: list[str]) -> tuple[dict[str, list[AddressSeen]], int]:
    """Each person's addresses from the records this purpose may read; and how many
    sources hold addresses it may not."""
    sources = sealed_sources(w.session)
    allowed = grants(w.ctx, "read", sources)
    withheld = len([n for n in sources if n not in allowed.names()])
    readable = allowed.clause(IndexRecord.source, IndexRecord.source_version)
    return queries.addresses(w.session, person_ids, readable), withheld


def teams(w: Work, office: FieldOffice) -> list[TeamOut]:
    """The office's teams as the planner shows them."""
    return [
        TeamOut(
            code=t.code,
            start_label=t.start_label,
            start_lat=t.start_lat,
            start_lon=t.start_lon,
            shift_start=t.shift_start,
            shift_end=t.shift_end,
        )
        for t in queries.teams(w.session, office.code)
    ]
