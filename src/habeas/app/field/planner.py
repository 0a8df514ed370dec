"""The supervisor's planner: approved cases in the office's area on a map, each with its
last known address and how sure that is; one case in detail on a click."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, cast

from habeas.app.field.common import PLANNABLE, office_of, readable_addresses, teams
from habeas.app.field.schemas import PlannerCase, PlannerPoints, PlannerView
from habeas.cases.access import require_case
from habeas.cases.queries import readable_cases
from habeas.errors import NotFound
from habeas.field import queries
from habeas.field.confidence import estimate
from habeas.store.models import Case

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal


class Planner:
    """Use cases: the planner."""

    app: Habeas

    def office(self, principal: Principal | None, purpose: str | None) -> PlannerView:
        """The supervisor's office and its teams, without its cases."""
        with self.app.work(principal, purpose, "field_office") as w:
            office = office_of(w, "field_office")
            return PlannerView(
                office=office.code,
                office_name=office.name,
                states=office.states.split(","),
                teams=teams(w, office),
                points=PlannerPoints(),
                no_address=0,
                withheld_sources=0,
            )

    def planner(
        self,
        principal: Principal | None,
        purpose: str | None,
        tier: int | None = None,
        min_confidence: int = 0,
        today: date | None = None,
    ) -> PlannerView:
        """The approved cases in the supervisor's office area, each with its last known
        address and confidence; persons with an open flag are marked, not hidden (one
        audit entry names the cases shown)."""

        today = today or self.app.today()
        with self.app.work(principal, purpose, "field_planner") as w:
            office = office_of(w, "field_planner")
            states = office.states.split(",")
            # only persons some record may place in the office's states: the other
            # offices' cases cost nothing here
            cases = cast("list[Case]", queries.plannable_cases(w.session, states, PLANNABLE, tier))
            # handed back after "not located" only; an arrest or a located person is not
            attempts = queries.not_located(w.session)
            cases = [c for c in cases if c.state != "encountered" or attempts.get(c.id)]
            addresses, withheld = readable_addresses(w, sorted({c.person_id for c in cases}))
            flagged = queries.open_flags(w.session)
            shown: list[tuple[Case, Any]] = []
            no_address = 0
            for c in cases:
                est = estimate(addresses.get(c.person_id, []), today)
                if est is None:
                    no_address += 1
                    continue
                if est.state not in states or est.confidence < min_confidence:
                    continue
                shown.append((c, est))
            allowed = {
                c.id
                for c in readable_cases(
                    w.session,
                    w.ctx,
                    [c for c, _ in shown],
                    "field_planner",
                    f"planner of office {office.code}",
                )
            }
            pts = PlannerPoints()
            for c, est in shown:
                if c.id not in allowed:
                    continue
                pts.case_id.append(c.id)
                pts.lat.append(est.lat)
                pts.lon.append(est.lon)
                pts.confidence.append(est.confidence)
                pts.tier.append(c.priority_tier)
                pts.attempts.append(attempts.get(c.id, 0))
                pts.blocked.append(c.person_id in flagged)
            return PlannerView(
                office=office.code,
                office_name=office.name,
                states=states,
                teams=teams(w, office),
                points=pts,
                no_address=no_address,
                withheld_sources=withheld,
            )

    def planner_case(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        today: date | None = None,
    ) -> PlannerCase:
        """One approved case of the office as the planner shows it on a click: the last
        known address with its confidence in parts, its sources and dates, the other
        addresses the sources hold, earlier attempts, and any open flag (audited)."""

        today = today or self.app.today()
        with self.app.work(principal, purpose, "field_planner_case") as w:
            office = office_of(w, "field_planner_case")
            require_case(w.session, w.ctx, case_id, "field_planner_case")
            case = w.session.get(Case, case_id)
            assert case is not None
            if not readable_cases(
                w.session,
                w.ctx,
                [case],
                "field_planner_case",
                f"case {case_id} on the planner of office {office.code}",
            ):
                raise NotFound(f"no case {case_id}")
            if case.state not in PLANNABLE:
                raise NotFound(f"case {case_id} is not approved for field action")
            seen, _ = readable_addresses(w, [case.person_id])
            est = estimate(seen.get(case.person_id, []), today)
            if est is None or est.state not in office.states.split(","):
                raise NotFound(f"case {case_id} has no address in office {office.code}'s area")
            attempts = queries.not_located(w.session, case_id).get(case_id, 0)
            flags = queries.open_flags(w.session, case.person_id).get(case.person_id, [])
            return PlannerCase(
                case_id=case.id,
                person_id=case.person_id,
                state=case.state,
                tier=case.priority_tier,
                score=case.priority_score,
                attempts=attempts,
                address=est.as_dict(),
                blocked=flags,
            )
