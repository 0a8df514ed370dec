"""Custody and removal transport: placements under capacity, occupancy, transport plans
(min-cost flow beside a greedy baseline), booking onto manifests and locking a manifest,
each person's removal gate checked again at every step."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from habeas.cases import queries as case_queries
from habeas.cases.access import case_resource, require_case
from habeas.cases.queries import readable_cases
from habeas.custody.facilities import ensure_facilities, occupancy, place, placements_held
from habeas.custody.removal import book, lock_manifest, plan_transport, read_flights
from habeas.errors import AccessDenied, HabeasError, NotFound
from habeas.governance import audit
from habeas.governance.authz import authorize
from habeas.governance.disclosure import facade
from habeas.store.models import Case, CaseEvent

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal
    from habeas.custody.removal import ManifestLock, TransportReport


class PlacementOut(BaseModel):
    """A placement as recorded."""

    case_id: int
    facility: str
    started_on: date
    reason: str


class FacilityLoad(BaseModel):
    """A facility's beds held and free (counts only)."""

    code: str
    standard: str
    hub: str
    held: int
    capacity: int
    transfers_in: int


class Booking(BaseModel):
    """Seats booked on manifests, and each refusal with its reasons."""

    booked: int
    refused: list[str]


class BoardRow(BaseModel):
    """A line of the custody board: a case, where it stands, since when, and why."""

    case_id: int
    state: str
    facility: str = ""
    since: str = ""
    flight: str = ""
    detail: str = ""
    by: str = ""


class Board(BaseModel):
    """The custody board: facilities against capacity, who is held where, who is on
    which flight's manifest, the transport plan for the day, and who was taken off a
    manifest and why."""

    day: date
    facilities: list[FacilityLoad]
    placements: list[BoardRow]
    manifests: list[BoardRow]
    taken_off: list[BoardRow]
    plan_flights: list[dict[str, Any]]
    plan_assigned: int
    plan_unassigned: dict[str, str]
    not_ready: dict[str, int]


@facade
class Custody:
    """Use cases on custody and transport."""

    def __init__(self, app: Habeas) -> None:
        self.app = app

    def place(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        facility: str,
        on: date,
        reason: str = "placement",
    ) -> PlacementOut:
        """Place (or transfer) a person; refused when the facility is full."""

        with self.app.work(principal, purpose, "custody_place", write=True) as w:
            require_case(w.session, w.ctx, case_id, "custody_place")
            p = place(w.session, w.ctx, case_id, facility, on, reason)
            w.done(f"case {case_id} held at {facility}", [f"case:{case_id}"])
            return PlacementOut(
                case_id=case_id, facility=facility, started_on=p.started_on, reason=p.reason
            )

    def occupancy(self, principal: Principal | None, purpose: str | None) -> list[FacilityLoad]:
        """Beds held and free per facility (counts only, no personal data)."""

        with self.app.work(principal, purpose, "occupancy") as w:
            return [FacilityLoad(**r) for r in occupancy(w.session)]

    def board(self, principal: Principal | None, purpose: str | None, on: date) -> Board:
        """The custody board for ``on`` (custody purposes; one audit entry names the cases
        shown)."""
        import json

        with self.app.work(principal, purpose, "custody_board") as w:
            self.app.cases.probe(w.ctx, "custody_board")
            held = placements_held(w.session)
            moves = case_queries.manifest_moves(w.session)
            ids = {p.case_id for p, _ in held} | {e.case_id for e in moves}
            cases = case_queries.cases_by_id(w.session, ids)
            shown = {
                c.id
                for c in readable_cases(
                    w.session, w.ctx, list(cases.values()), "custody_board", f"custody board {on}"
                )
            }
            placements = [
                BoardRow(
                    case_id=p.case_id,
                    state=cases[p.case_id].state,
                    facility=code,
                    since=p.started_on.isoformat(),
                    detail=p.reason,
                )
                for p, code in held
                if p.case_id in shown
            ]
            last: dict[int, CaseEvent] = {}
            taken_off = []
            for e in moves:
                if e.case_id not in shown:
                    continue
                last[e.case_id] = e
                if e.kind == "take_off_manifest":
                    p = json.loads(e.payload)
                    taken_off.append(
                        BoardRow(
                            case_id=e.case_id,
                            state=cases[e.case_id].state,
                            since=str(p.get("on") or ""),
                            detail=str(p.get("reason") or ""),
                            by=e.actor,
                        )
                    )
            manifests = []
            for cid, e in sorted(last.items()):
                if e.kind == "add_to_manifest" and cases[cid].state == "on_manifest":
                    p = json.loads(e.payload)
                    manifests.append(
                        BoardRow(
                            case_id=cid,
                            state="on_manifest",
                            flight=str(p.get("flight") or ""),
                            since=str(p.get("on") or ""),
                            by=e.actor,
                        )
                    )
            report = plan_transport(w.session, w.ctx, on, None)
            seated: dict[str, int] = {}
            for fid in report.plan.assigned.values():
                seated[fid] = seated.get(fid, 0) + 1
            return Board(
                day=on,
                facilities=[FacilityLoad(**r) for r in occupancy(w.session)],
                placements=placements,
                manifests=manifests,
                taken_off=taken_off,
                plan_flights=[
                    {
                        "flight": f.fid,
                        "day": f.day.isoformat(),
                        "hub": f.hub,
                        "country": f.country,
                        "seats": f.capacity,
                        "planned": seated.get(f.fid, 0),
                    }
                    for f in report.flights
                ],
                plan_assigned=len(report.plan.assigned),
                plan_unassigned=dict(report.plan.unassigned),
                not_ready=dict(report.not_ready),
            )

    def synthetic_facilities(self, principal: Principal | None, purpose: str | None) -> int:
        """Add the synthetic world's facilities (demo and tests only; custody officers)."""

        with self.app.work(principal, purpose, "synthetic_facilities", write=True) as w:
            if w.ctx.role not in ("custody_officer", "admin"):
                raise HabeasError("synthetic facilities are added by a custody officer")
            n = ensure_facilities(w.session)
            w.done(f"{n} facilities added")
            return n

    def plan(
        self,
        principal: Principal | None,
        purpose: str | None,
        on: date,
        flights: Path | None = None,
    ) -> TransportReport:
        """Assign the people ready for removal to flights (min-cost flow; greedy beside)."""

        schedule = read_flights(flights) if flights is not None else None
        with self.app.work(principal, purpose, "transport_plan") as w:
            self.app.cases.probe(w.ctx, "transport_plan")
            return plan_transport(w.session, w.ctx, on, schedule)

    def book(
        self,
        principal: Principal | None,
        purpose: str | None,
        on: date,
        flights: Path | None = None,
    ) -> tuple[TransportReport, Booking]:
        """Plan, then put everyone seated on their flight's manifest (each step gated
        again: a refusal is reported, not forced); one transaction."""

        schedule = read_flights(flights) if flights is not None else None
        with self.app.work(principal, purpose, "transport_book", write=True) as w:
            self.app.cases.probe(w.ctx, "transport_book")
            report = plan_transport(w.session, w.ctx, on, schedule)
            refused = book(w.session, w.ctx, report, on)
            n = len(report.plan.assigned) - len(refused)
            w.done(
                f"{n} booked, {len(refused)} refused",
                [f"case:{c}" for c in sorted(report.plan.assigned)],
            )
            return report, Booking(booked=n, refused=refused)

    def lock(
        self, principal: Principal | None, purpose: str | None, flight: str, on: date
    ) -> ManifestLock:
        """Lock a flight's manifest: the removal gate is checked again for everyone on it,
        and whoever no longer passes is taken off with the reasons."""

        with self.app.work(principal, purpose, "transport_lock", write=True) as w:
            self.app.cases.probe(w.ctx, "transport_lock")
            lock = lock_manifest(w.session, w.ctx, flight, on)
            if not lock.kept and not lock.taken_off:
                raise NotFound(f"nobody is on a manifest of flight {flight!r}")
            w.done(
                f"flight {flight}: {len(lock.kept)} kept, {len(lock.taken_off)} taken off",
                [f"case:{c}" for c in [*lock.kept, *lock.taken_off]],
            )
            return lock


def nationality_of(
    app: Habeas, principal: Principal | None, purpose: str | None, case_id: int
) -> str:
    """The nationality the person's records give, for the travel document and the
    destination only (never for priority); read for custody, audited."""

    with app.work(principal, purpose, "read_nationality") as w:
        case = w.session.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")

        decision = authorize(w.ctx, "read", case_resource(case))
        if not decision.allowed or w.ctx.purpose != "custody":
            why = decision.why() if not decision.allowed else "nationality is read for custody"
            raise AccessDenied(f"{w.ctx.user} may not read the nationality: {why}", None, why)
        with app.staging() as st:
            rows = st.rows(
                """SELECT r.nationality, count(*) FROM person_records p
                   JOIN records r USING (record_id)
                   WHERE p.person_id = ? AND r.nationality IS NOT NULL
                   GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1""",
                [case.person_id],
            )
        audit.append(
            w.session,
            user=w.ctx.user,
            role=w.ctx.role,
            purpose=w.ctx.purpose,
            action="read_nationality",
            resources=[f"case:{case_id}", f"person:{case.person_id}"],
            decision="allow",
            detail="for the travel document and destination",
            request_id=w.ctx.request_id,
        )
        return str(rows[0][0]) if rows else ""
