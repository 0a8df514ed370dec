"""Reading cases: the list, a person's cases, one case in full, deadlines, court records
set aside for review."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from habeas.app.cases.common import CasesBase
from habeas.app.cases.recording import passed_departures
from habeas.app.cases.schemas import STATES, CaseList, CaseRow, DateReview, TaskRow
from habeas.cases import queries
from habeas.cases.access import require_case
from habeas.cases.queries import list_cases, readable_cases, show_case, tasks_due
from habeas.errors import HabeasError
from habeas.governance import audit

if TYPE_CHECKING:
    from habeas.app.core import Principal
    from habeas.cases.queries import CaseView


class Reading(CasesBase):
    """Use cases: reading."""

    def list_cases(
        self,
        principal: Principal | None,
        purpose: str | None,
        tier: int | None = None,
        state: str | None = None,
        limit: int = 20,
        offset: int = 0,
        client: str = "",
    ) -> CaseList:
        """Cases the caller may read for this purpose, by tier then score; counsel names
        their client (a person id) with ``client`` and sees that person's cases they
        represent."""

        if state is not None and state not in STATES:
            raise HabeasError(f"unknown state {state!r}; states are {', '.join(STATES)}")
        if not 1 <= limit <= 500 or offset < 0:
            raise HabeasError("limit must be 1 to 500 and offset 0 or more")
        if client and not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", client):
            raise HabeasError(f"client {client[:70]!r} is not a person id")
        with self.app.work(principal, purpose, "list_cases", client=client) as w:
            self.probe(w.ctx, "list_cases")
            rows = list_cases(
                w.session, w.ctx, tier, state, limit + offset, person_id=client or None
            )[offset:]
            return CaseList(cases=[CaseRow(**r) for r in rows], limit=limit, offset=offset)

    def for_person(
        self, principal: Principal | None, purpose: str | None, person_id: str
    ) -> list[CaseRow]:
        """The cases on one person that the caller may read, newest first (audited)."""

        with self.app.work(principal, purpose, "person_cases") as w:
            self.probe(w.ctx, "person_cases")
            rows = queries.cases_of_person(w.session, person_id)
            shown = readable_cases(
                w.session, w.ctx, rows, "person_cases", f"cases of person {person_id}"
            )
            return [
                CaseRow(
                    id=c.id,
                    person_id=c.person_id,
                    state=c.state,
                    tier=c.priority_tier,
                    score=c.priority_score,
                    policy_version=c.policy_version,
                    explanation=json.loads(c.priority_explanation or "[]"),
                )
                for c in shown
            ]

    def show(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        on: date,
        client: str = "",
    ) -> CaseView:
        """A case with its instruments, gates (with reasons) as of ``on``, priority and
        history; counsel names their client (the case's person) with ``client``."""

        if client and not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", client):
            raise HabeasError(f"client {client[:70]!r} is not a person id")
        with self.app.work(principal, purpose, "read_case", client=client) as w:
            require_case(w.session, w.ctx, case_id, "read_case")
            view = show_case(w.session, w.ctx, case_id, on)
        if view.due and on >= self.app.today():
            # what time made happen is recorded as soon as anyone reads the case
            self.take_due_effects(principal, purpose, [case_id], client=client)
            with self.app.work(principal, purpose, "read_case", client=client) as w:
                view = show_case(w.session, w.ctx, case_id, on)
        return view

    def date_review(
        self, principal: Principal | None, purpose: str | None, limit: int = 50, offset: int = 0
    ) -> list[DateReview]:
        """Court records set aside when cases were opened, because their dates contradict
        each other (each with every reason), for a case officer to check against the court
        (audited read naming the records shown)."""

        if not 1 <= limit <= 500 or offset < 0:
            raise HabeasError("limit must be 1 to 500 and offset 0 or more")
        with self.app.work(principal, purpose, "court_record_review") as w:
            self.probe(w.ctx, "court_record_review")
            rows = queries.court_record_reviews(w.session, limit, offset)
            audit.append(
                w.session,
                user=w.ctx.user,
                role=w.ctx.role,
                purpose=w.ctx.purpose,
                action="court_record_review",
                resources=[f"record:{r.record_id}" for r in rows],
                decision="allow",
                detail=f"{len(rows)} court record(s) with contradictory dates shown",
                request_id=w.ctx.request_id or None,
            )
            return [
                DateReview(
                    record_id=r.record_id,
                    person_id=r.person_id,
                    reasons=json.loads(r.reasons),
                    found_at=r.found_at,
                    status=r.status,
                )
                for r in rows
            ]

    def tasks(
        self,
        principal: Principal | None,
        purpose: str | None,
        on: date,
        within: int = 14,
        limit: int = 50,
        offset: int = 0,
    ) -> list[TaskRow]:
        """Deadlines due by ``on + within`` days, missed ones first."""

        if not 0 <= within <= 3650:
            raise HabeasError(f"within must be 0 to 3650 days, not {within}")

        def due() -> list[dict[str, Any]]:
            with self.app.work(principal, purpose, "tasks_due") as w:
                self.probe(w.ctx, "tasks_due")
                return tasks_due(w.session, w.ctx, on, within)

        rows = due()
        passed = passed_departures(rows, self.app.today())
        if passed and self.take_due_effects(principal, purpose, passed):
            rows = due()  # what the passed deadlines made law is on the cases now
        return [TaskRow(**r) for r in rows[offset : offset + limit]]
