"""Facilities and placements: capacity is never exceeded, also under concurrent requests.

A placement locks its facility's row (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite
the write transaction already holds the database's write lock), counts who is there and
refuses when full. Moving a person who is placed elsewhere ends that placement: a transfer.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from habeas.cases.access import case_resource
from habeas.cases.casefile import CaseFile, Refused, State
from habeas.cases.event_store import case_file
from habeas.cases.follow_ups import StepTaken
from habeas.errors import AccessDenied, CapacityFull, GateRefused, HabeasError
from habeas.governance import audit
from habeas.governance.authz import AccessContext, authorize
from habeas.store.models import Case, Facility, Placement

SYNTHETIC_FACILITIES = (
    # code, name, capacity, detention standard, airport hub, lat, lon (synthetic figures)
    ("KROME", "Krome processing center (synthetic)", 600, "PBNDS 2011", "MIA", 25.75, -80.49),
    ("ADELANTO", "Adelanto center (synthetic)", 1900, "PBNDS 2011", "ONT", 34.56, -117.44),
    ("OTERO", "Otero processing center (synthetic)", 1000, "NDS 2019", "ELP", 32.45, -106.05),
    ("STEWART", "Stewart center (synthetic)", 1900, "PBNDS 2008", "ATL", 32.05, -84.77),
    ("TACOMA", "Northwest center (synthetic)", 1500, "PBNDS 2011", "SEA", 47.25, -122.42),
    ("PORT-ISABEL", "Port Isabel center (synthetic)", 1200, "PBNDS 2008", "BRO", 26.08, -97.42),
    ("ELIZABETH", "Elizabeth center (synthetic)", 300, "PBNDS 2011", "EWR", 40.66, -74.19),
    ("DILLEY", "Dilley center (synthetic)", 2400, "FRS 2020", "SAT", 28.67, -99.17),
)


def ensure_facilities(
    session: Session, rows: tuple[tuple[Any, ...], ...] = SYNTHETIC_FACILITIES
) -> int:
    """Add the facilities that are missing; the number added."""
    have = set(session.execute(select(Facility.code)).scalars())
    added = 0
    for code, name, capacity, standard, hub, lat, lon in rows:
        if code not in have:
            session.add(
                Facility(
                    code=code,
                    name=name,
                    capacity=capacity,
                    standard=standard,
                    hub=hub,
                    lat=lat,
                    lon=lon,
                )
            )
            added += 1
    return added


def _deny(
    session: Session, ctx: AccessContext, case: Case, action: str, why: str
) -> dict[str, Any]:
    """Audit a refusal in the session; the entry, for the app to keep after rolling back."""
    entry: dict[str, Any] = dict(
        user=ctx.user,
        role=ctx.role,
        purpose=ctx.purpose,
        action=action,
        resources=[f"case:{case.id}", f"person:{case.person_id}"],
        decision="deny",
        detail=why,
        request_id=ctx.request_id or None,
    )
    audit.append(session, **entry)
    return entry


def custody_reason(file: CaseFile) -> str:
    """Why the case's person may not be held in a facility now ("" when they may): only
    after an arrest (pending the custody decision) or a decision to detain."""
    if file.state in (
        State.REMOVED,
        State.DEPARTURE_VERIFIED,
        State.CLOSED,
        State.RELEASED,
        State.FUGITIVE,
    ):
        return f"the case is {file.state}: nobody is held on it"
    if file.custody == "detained":
        return ""
    if file.state == State.ENCOUNTERED and file.encounter == "arrested":
        return ""
    return (
        f"the case is {file.state} (custody {file.custody or 'not decided'}): a person is "
        "held only after an arrest or a decision to detain"
    )


def place(
    session: Session,
    ctx: AccessContext,
    case_id: int,
    facility_code: str,
    on: date,
    reason: str = "placement",
) -> Placement:
    """Hold the case's person in a facility from ``on`` (a transfer if held elsewhere)."""
    case = session.get(Case, case_id)
    if case is None:
        raise HabeasError(f"no case {case_id}")
    current = session.execute(
        select(Placement).where(Placement.case_id == case_id, Placement.ended_on.is_(None))
    ).scalar_one_or_none()
    step = "transfer" if current is not None else "place"
    decision = authorize(ctx, "write", case_resource(case), step=step)
    if not decision.allowed:
        entry = _deny(session, ctx, case, f"custody_{step}", decision.why())
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {step} "
            f"case {case_id}: {decision.why()}",
            entry,
            decision.why(),
        )
    held_lawfully = custody_reason(case_file(session, case))
    if held_lawfully:
        entry = _deny(session, ctx, case, f"custody_{step}", held_lawfully)
        raise GateRefused(Refused(step, State(case.state), (held_lawfully,)), entry)
    facility = session.execute(
        select(Facility).where(Facility.code == facility_code).with_for_update()
    ).scalar_one_or_none()
    if facility is None:
        raise HabeasError(f"no facility {facility_code!r}")
    if current is not None and current.facility_id == facility.id:
        raise HabeasError(f"case {case_id} is already held at {facility_code}")
    held = session.execute(
        select(func.count())
        .select_from(Placement)
        .where(Placement.facility_id == facility.id, Placement.ended_on.is_(None))
    ).scalar_one()
    if held >= facility.capacity:
        why = f"{facility_code} is full ({held} of {facility.capacity} beds)"
        exc = CapacityFull(
            f"case {case_id} not placed: {why}",
            entry=_deny(session, ctx, case, f"custody_{step}", why),
        )
        raise exc
    if current is not None:
        current.ended_on = on
        reason = f"transfer: {reason}"
    placement = Placement(
        case_id=case_id, facility_id=facility.id, started_on=on, ended_on=None, reason=reason
    )
    session.add(placement)
    session.flush()
    where = [f"case:{case.id}", f"person:{case.person_id}", f"facility:{facility_code}"]
    audit.append(
        session,
        user=ctx.user,
        role=ctx.role,
        purpose=ctx.purpose,
        action=f"custody_{step}",
        resources=where,
        decision="allow",
        detail=f"{reason}; {held + 1} of {facility.capacity} beds",
        request_id=ctx.request_id or None,
    )
    return placement


def end_placement(session: Session, case_id: int, on: date) -> bool:
    """End the case's open placement (release, removal); True if there was one."""
    current = session.execute(
        select(Placement).where(Placement.case_id == case_id, Placement.ended_on.is_(None))
    ).scalar_one_or_none()
    if current is None:
        return False
    current.ended_on = on
    return True


def occupancy(session: Session) -> list[dict[str, Any]]:
    """Each facility's capacity, people held and transfers in so far (no personal data)."""
    held = dict(
        session.execute(
            select(Placement.facility_id, func.count())
            .where(Placement.ended_on.is_(None))
            .group_by(Placement.facility_id)
        ).all()
    )
    transfers = dict(
        session.execute(
            select(Placement.facility_id, func.count())
            .where(Placement.reason.like("transfer%"))
            .group_by(Placement.facility_id)
        ).all()
    )
    return [
        {
            "code": f.code,
            "name": f.name,
            "capacity": f.capacity,
            "held": held.get(f.id, 0),
            "standard": f.standard,
            "hub": f.hub,
            "transfers_in": transfers.get(f.id, 0),
        }
        for f in session.execute(select(Facility).order_by(Facility.code)).scalars()
    ]


def end_placement_on_exit(step: StepTaken) -> None:
    """Follow-up of a case step: a case leaving custody ends its open placement."""
    if step.left_custody:
        end_placement(step.session, step.case_id, step.on)


def placements_held(session: Session) -> list[tuple[Placement, str]]:
    """The open placements with their facility's code, by facility and start."""
    q = (
        select(Placement, Facility.code)
        .join(Facility, Facility.id == Placement.facility_id)
        .where(Placement.ended_on.is_(None))
        .order_by(Facility.code, Placement.started_on)
    )
    return [(p, str(code)) for p, code in session.execute(q).all()]
