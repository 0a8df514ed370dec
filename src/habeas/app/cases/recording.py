"""Recording on cases: opening them (one, or from the index), a step (authorized per step,
checked by the lifecycle's gates with the flags the index holds at that moment, stored
and audited in one transaction), the effects time has made due, counsel, a flag
resolved, deadlines settled."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from habeas.app.cases.common import CasesBase
from habeas.app.cases.schemas import (
    STEP_KINDS,
    CaseOpened,
    FlagResolved,
    StepDone,
    StepRequest,
    step_fields,
)
from habeas.cases import queries
from habeas.cases.access import case_resource, require_case
from habeas.cases.casefile import Refused, State
from habeas.cases.event_store import case_file
from habeas.cases.flags import resolve_flag
from habeas.cases.from_records import open_cases_from_index
from habeas.cases.lifecycle import EVENTS, event_from_payload
from habeas.cases.queries import tasks_due
from habeas.cases.service import assign_counsel, open_case, record_event
from habeas.errors import Conflict, GateRefused, HabeasError, NotFound
from habeas.field import queries as field_queries
from habeas.field.rules import reports_for
from habeas.governance.authz import authorize
from habeas.governance.identity import refusal
from habeas.store.models import Case, IndexPerson

if TYPE_CHECKING:
    from habeas.app.core import Principal
    from habeas.cases.from_records import OpenReport


class Recording(CasesBase):
    """Use cases: recording."""

    def open_case(
        self,
        principal: Principal | None,
        purpose: str | None,
        person_id: str,
        on: date,
        basis: str = "",
    ) -> CaseOpened:
        """Open a case on a person of the published index (one open case per person)."""

        with self.app.work(principal, purpose, "case_open", write=True) as w:
            if w.session.get(IndexPerson, person_id) is None:
                raise NotFound(f"no person {person_id} in the published index")
            case = open_case(w.session, w.ctx, person_id, on, basis)
            w.done(f"case {case.id}", [f"case:{case.id}", f"person:{person_id}"])
            return CaseOpened(case_id=case.id, person_id=person_id, state=case.state)

    def open_from_records(
        self,
        principal: Principal | None,
        purpose: str | None,
        on: date,
        limit: int | None = None,
    ) -> OpenReport:
        """Open cases for persons with court records or active warrants, their history
        seeded from the court record (one transaction)."""

        with self.app.work(principal, purpose, "open_cases", write=True) as w:
            with self.app.staging() as st:
                report = open_cases_from_index(w.session, st, w.ctx, on, limit)
            w.done(
                f"{report.opened} opened, {report.steps} steps, "
                f"{sum(report.refused.values())} stopped by a gate"
            )
            return report

    def step(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        request: StepRequest,
    ) -> StepDone:
        """Record one step; refused with every reason when policy or law says no, and a
        conflict when the case moved on since ``request.version``. A flag resolution is
        recorded on every open case of the person and in the index."""

        on = request.on or self.app.today()
        event = _event(request.kind, request.fields, on)
        if request.kind == "resolve_flag":
            f = request.fields
            done = self.resolve_flag(
                principal,
                purpose,
                case_id,
                str(f.get("flag", "")),
                str(f.get("reason", "")),
                str(f.get("evidence", "")),
                on,
                request.version,
            )
            return StepDone(
                case_id=case_id, kind=request.kind, state=done.state, version=done.version
            )
        with self.app.work(principal, purpose, f"case_{request.kind}", write=True) as w:
            require_case(w.session, w.ctx, case_id, f"case_{request.kind}")
            _generic_step_allowed(w, case_id, request, self.app.today())
            after = record_event(w.session, w.ctx, case_id, event, request.version)
            _, version = queries.state_and_version(w.session, case_id)
            w.done(f"case {case_id} now {after.state}", [f"case:{case_id}"])
            return StepDone(
                case_id=case_id, kind=request.kind, state=after.state.value, version=version
            )

    def counsel(
        self, principal: Principal | None, purpose: str | None, case_id: int, counsel: str
    ) -> None:
        """Record the person's counsel on the case (who may then read it for redress)."""

        with self.app.work(principal, purpose, "case_assign_counsel", write=True) as w:
            require_case(w.session, w.ctx, case_id, "case_assign_counsel")
            assign_counsel(w.session, w.ctx, case_id, counsel)
            w.done(f"counsel {counsel} on case {case_id}", [f"case:{case_id}"])

    def resolve_flag(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        flag: str,
        reason: str,
        evidence: str,
        on: date,
        version: int | None = None,
    ) -> FlagResolved:
        """A supervisor resolves a flag on every open case of the person and in the index,
        in one transaction (refused as a conflict when the case moved on since
        ``version``)."""

        with self.app.work(principal, purpose, "resolve_flag", write=True) as w:
            require_case(w.session, w.ctx, case_id, "resolve_flag")
            case = w.session.get(Case, case_id)
            if version is not None and case is not None and case.version != version:
                raise Conflict(
                    f"case {case_id} is at version {case.version}, not {version}: "
                    "reload it and apply the step again"
                )
            done = resolve_flag(w.session, w.ctx, case_id, flag, reason, evidence, on)
            state, now = queries.state_and_version(w.session, case_id)
            w.done(
                f"{flag} resolved on cases {', '.join(map(str, done))}", [f"case:{c}" for c in done]
            )
            return FlagResolved(flag=flag, cases=done, state=state, version=now)

    def settle_deadlines(self, principal: Principal | None, purpose: str | None) -> int:
        """Put into effect what passed deadlines made law on the cases the caller may read
        (a missed voluntary departure deadline: the alternate order of removal). Returns
        how many events were recorded."""

        with self.app.work(principal, purpose, "tasks_due") as w:
            self.probe(w.ctx, "tasks_due")
            rows = tasks_due(w.session, w.ctx, self.app.today(), 0)
        passed = passed_departures(rows, self.app.today())
        return self.take_due_effects(principal, purpose, passed) if passed else 0


def _event(kind: str, fields: dict[str, Any], on: date) -> Any:
    if "actor" in fields or "role" in fields:
        raise HabeasError("a step's actor and role are the account's: do not send them")
    if "recorded" in fields:
        raise HabeasError("a step's recording day is the day it is recorded: do not send it")
    if kind not in EVENTS:
        raise HabeasError(f"unknown step {kind!r}; steps are {', '.join(STEP_KINDS)}")
    data: dict[str, Any] = {"kind": kind, "on": on.isoformat(), "actor": "", "role": "", **fields}
    try:
        return event_from_payload(data)
    except (ValueError, TypeError) as exc:
        raise HabeasError(f"{exc} (fields: {', '.join(step_fields(kind))})") from None


def passed_departures(rows: list[dict[str, Any]], today: date) -> list[int]:
    """The cases among deadline rows whose voluntary departure deadline has passed."""
    return sorted(
        {
            r["case_id"]
            for r in rows
            if r["kind"] == "voluntary_departure_due" and r["due_on"] < today
        }
    )


FIELD_STEPS = frozenset({"assign", "record_encounter"})
"""Steps the field routes take with their own checks (a team of the office, an open
assignment of the officer's team); the generic step route enforces the same."""


def _generic_step_allowed(w: Any, case_id: int, request: StepRequest, today: date) -> None:
    """What the step route enforces beyond Cedar and the lifecycle: a feed's account
    reaches a case only through the monitor's intake (a matched event), a team named by
    an assignment exists and is of an office the caller supervises, and an encounter is
    recorded only by the team the case is assigned to (or its office's supervisor). A
    refusal is audited and kept on the case's list of refused attempts."""

    ctx, s = w.ctx, w.session
    action, res = f"case_{request.kind}", [f"case:{case_id}"]
    case = s.get(Case, case_id)
    if case is None:
        return

    def kept(reasons: list[str], by: str) -> dict[str, Any]:
        return {
            "case_id": case_id,
            "at": datetime.now(UTC).replace(tzinfo=None),
            "kind": request.kind,
            "actor": ctx.user,
            "role": ctx.role,
            "on_date": request.on or today,
            "reasons": json.dumps(reasons),
            "refused_by": by,
        }

    if ctx.role == "event_feed":
        why = (
            "a feed's account records a step only through the monitor's intake, as the "
            "effect of a matched event (POST /events/{feed})"
        )
        exc = refusal(ctx, action, res, why, kept([why], "policy"))
        raise exc
    if request.kind not in FIELD_STEPS:
        return
    if not authorize(ctx, "write", case_resource(case), step=request.kind).allowed:
        return  # Cedar refuses it in the step itself, with its own reason
    member = field_queries.member(s, ctx.user)
    reasons: list[str] = []
    if request.kind == "assign":
        code = str(request.fields.get("team", ""))
        team = field_queries.team(s, code) if code else None
        if team is None:
            reasons.append(
                f"team {code!r} is no team of any field office (an administrator "
                "sets them up: habeas field set-up)"
            )
        elif member is None or member.team is not None or member.office != team.office:
            reasons.append(
                f"team {code} is of office {team.office}, which {ctx.user} does "
                "not supervise (a supervisor assigns through the planner)"
            )
    else:
        assigned = case_file(s, case).team
        team = field_queries.team(s, assigned) if assigned else None
        if not assigned or not reports_for(
            member.office if member else None,
            member.team if member else None,
            assigned,
            team.office if team else None,
        ):
            reasons.append(
                f"case {case_id} is "
                + (f"assigned to team {assigned}" if assigned else "assigned to no team")
                + f", not to {ctx.user}'s (report through the field routes, for an "
                "assignment of your team)"
            )
    if reasons:
        entry = {
            "user": ctx.user,
            "role": ctx.role,
            "purpose": ctx.purpose,
            "action": action,
            "resources": res,
            "decision": "deny",
            "detail": "; ".join(reasons),
            "request_id": ctx.request_id or None,
        }
        refused = Refused(request.kind, State(case.state), tuple(reasons))
        exc2 = GateRefused(refused, entry, kept(reasons, "field rules"))
        raise exc2
