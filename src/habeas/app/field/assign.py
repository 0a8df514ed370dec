"""Assignments: approved cases given to a team for a day (each through the lifecycle's
``assign`` step, the field gate checked again), a team's route, an office's day."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING

from habeas.app.field.common import (
    MAX_AHEAD,
    assignment_out,
    hhmm,
    now,
    office_of,
    office_team,
    readable_addresses,
    window,
)
from habeas.app.field.schemas import AssignmentOut, AssignReport, Leg, Refusal, RouteOut
from habeas.cases.access import require_case
from habeas.cases.events import Assign
from habeas.cases.service import record_event
from habeas.errors import HabeasError, NotFound
from habeas.field import queries, routing
from habeas.field.confidence import estimate
from habeas.store.models import Assignment, Case

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal


class Assigning:
    """Use cases: assignments and routes."""

    app: Habeas

    def assign(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_ids: list[int],
        team: str,
        day: date,
        window: tuple[int, int] = (7 * 60, 19 * 60),
        stop_minutes: int = 20,
    ) -> AssignReport:
        """Give approved cases to a team of the supervisor's office for ``day``: each case
        on its own, through the lifecycle's ``assign`` step (Cedar, the field gate and the
        second person's approval checked again); a refusal names every reason."""

        if not 1 <= len(case_ids) <= 500:
            raise HabeasError("assign 1 to 500 cases at a time")
        today = self.app.today()
        if not today <= day <= today + timedelta(days=MAX_AHEAD):
            raise HabeasError(f"the day must be today to {MAX_AHEAD} days ahead, not {day}")
        if not (0 <= window[0] < window[1] <= 24 * 60) or not 5 <= stop_minutes <= 240:
            raise HabeasError("the window must fall within a day and a stop take 5–240 minutes")
        with self.app.work(principal, purpose, "field_assign") as w:
            office = office_of(w, "field_assign")
            office_team(w, "field_assign", office, team)
        assigned: list[AssignmentOut] = []
        refused: list[Refusal] = []
        for case_id in dict.fromkeys(case_ids):
            try:
                with self.app.work(principal, purpose, "field_assign", write=True) as w:
                    require_case(w.session, w.ctx, case_id, "field_assign")
                    case = w.session.get(Case, case_id)
                    assert case is not None
                    seen, _ = readable_addresses(w, [case.person_id])
                    est = estimate(seen.get(case.person_id, []), today)
                    if est is None:
                        raise HabeasError("no address this purpose may read can be mapped")
                    if est.state not in office.states.split(","):
                        raise HabeasError(
                            f"the last known address is in {est.state or '?'}, "
                            f"outside office {office.code}'s area"
                        )
                    record_event(
                        w.session, w.ctx, case_id, Assign(on=today, actor="", role="", team=team)
                    )
                    row = Assignment(
                        case_id=case_id,
                        person_id=case.person_id,
                        team=team,
                        day=day,
                        status="open",
                        assigned_by=w.ctx.user,
                        assigned_at=now(),
                        address=json.dumps(est.as_dict()),
                        window_start=window[0],
                        window_end=window[1],
                        stop_minutes=stop_minutes,
                    )
                    w.session.add(row)
                    w.session.flush()
                    w.done(
                        f"case {case_id} assigned to {team} for {day} (assignment {row.id})",
                        [f"case:{case_id}", f"assignment:{row.id}"],
                    )
                    assigned.append(assignment_out(row))
            except HabeasError as exc:
                reasons = list(getattr(getattr(exc, "refused", None), "reasons", ()) or [str(exc)])
                refused.append(Refusal(case_id=case_id, reasons=reasons))
        return AssignReport(assigned=assigned, refused=refused)

    def route(
        self,
        principal: Principal | None,
        purpose: str | None,
        team: str,
        day: date,
        seconds: float | None = None,
    ) -> RouteOut:
        """Plan the team's route through its open assignments for ``day`` (OR-Tools, with
        time windows, the team's start and shift, a stop time per address); the order and
        arrival times are kept on the assignments."""

        with self.app.work(principal, purpose, "field_route", write=True) as w:
            office = office_of(w, "field_route")
            t = office_team(w, "field_route", office, team)
            rows = queries.open_assignments(w.session, team, day)
            if len(rows) > routing.MAX_STOPS:
                raise HabeasError(
                    f"{len(rows)} open assignments: a route covers at most {routing.MAX_STOPS}"
                )
            stops = []
            for a in rows:
                addr = json.loads(a.address)
                stops.append(
                    routing.Stop(
                        str(a.id),
                        addr["lat"],
                        addr["lon"],
                        (a.window_start, a.window_end),
                        a.stop_minutes,
                    )
                )
            start = routing.Team(t.code, t.start_lat, t.start_lon, t.shift_start, t.shift_end)
            plan = routing.plan([start], stops, seconds)
            by_id = {a.id: a for a in rows}
            legs = []
            for seq, leg in enumerate(plan.routes[team], start=1):
                a = by_id[int(leg.key)]
                a.route_seq, a.eta = seq, leg.arrive
                addr = json.loads(a.address)
                legs.append(
                    Leg(
                        assignment_id=a.id,
                        case_id=a.case_id,
                        seq=seq,
                        arrive=hhmm(leg.arrive) or "",
                        lat=addr["lat"],
                        lon=addr["lon"],
                        street=addr.get("street", ""),
                        km=leg.km,
                    )
                )
            left = []
            for key in plan.left_out:
                a = by_id[int(key)]
                a.route_seq, a.eta = None, None
                left.append(
                    Refusal(
                        case_id=a.case_id,
                        reasons=[
                            f"assignment {a.id} cannot be reached within its window "
                            f"({window(a)}) and the shift "
                            f"({hhmm(t.shift_start)}–{hhmm(t.shift_end)})"
                        ],
                    )
                )
            dropped = set(plan.left_out)
            nn = routing.nearest_neighbour_km(start, [s for s in stops if s.key not in dropped])
            w.done(
                f"route for {team} on {day}: {len(legs)} stops, {plan.km} km, {len(left)} left out",
                [f"assignment:{a.id}" for a in rows],
            )
            return RouteOut(
                team=team,
                day=day,
                start={
                    "label": t.start_label,
                    "lat": t.start_lat,
                    "lon": t.start_lon,
                    "at": hhmm(t.shift_start),
                },
                stops=legs,
                left_out=left,
                km=plan.km,
                nearest_neighbour_km=nn,
                seconds=plan.seconds,
                assumptions=plan.assumptions,
            )

    def assignments(
        self, principal: Principal | None, purpose: str | None, day: date, team: str | None = None
    ) -> list[AssignmentOut]:
        """The office's assignments for ``day`` (one team's with ``team``), route order."""
        with self.app.work(principal, purpose, "field_assignments") as w:
            office = office_of(w, "field_assignments")
            if team:
                t = queries.team(w.session, team)
                if t is None or t.office != office.code:
                    raise NotFound(f"no team {team} in office {office.code}")
            rows = queries.office_assignments(w.session, office.code, day, team)
            w.done(
                f"{len(rows)} assignment(s) of office {office.code} on {day}",
                [f"assignment:{a.id}" for a in rows],
            )
            return [assignment_out(a) for a in rows]
