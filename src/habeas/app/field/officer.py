"""The field officer: the team's assignments for the day, and outcomes from the field
(each once: a resend of the device's UUID is answered with the first result)."""

from __future__ import annotations

import json
from datetime import UTC, date
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from habeas.app.field.common import hhmm, now, refused, team_of, window
from habeas.app.field.schemas import OfficerItem, OutcomeIn, OutcomeOut, TodayView
from habeas.app.index.grants import grants
from habeas.cases.access import case_resource
from habeas.cases.event_store import case_file
from habeas.cases.events import RecordEncounter
from habeas.cases.queries import readable_cases
from habeas.cases.service import record_event
from habeas.errors import Conflict, HabeasError, NotFound
from habeas.field import queries, rules
from habeas.governance.authz import authorize
from habeas.resolve.publish import sealed_sources
from habeas.store.models import Assignment, Case, FieldOutcome, IndexRecord

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal, Work


class Officer:
    """Use cases: the officer's day and outcomes."""

    app: Habeas

    def today(
        self, principal: Principal | None, purpose: str | None, day: date | None = None
    ) -> TodayView:
        """The officer's team's assignments for the day in route order, each with its
        instrument, the identity summary this purpose allows (no photo), the address and
        its confidence; cancelled ones with the reason (audited)."""

        day = day or self.app.today()
        with self.app.work(principal, purpose, "field_today") as w:
            team = team_of(w, "field_today")
            rows = queries.team_day(w.session, team.code, day)
            cases = queries.cases_by_id(w.session, [a.case_id for a in rows])
            readable = {
                c.id
                for c in readable_cases(
                    w.session,
                    w.ctx,
                    list(cases.values()),
                    "field_today",
                    f"assignments of team {team.code} on {day}",
                )
            }
            allowed = grants(w.ctx, "read", sealed_sources(w.session))
            outcomes = queries.subject_outcomes(w.session, [a.id for a in rows])
            readable_records = allowed.clause(IndexRecord.source, IndexRecord.source_version)
            items = []
            for a in rows:
                if a.case_id not in readable:
                    continue
                file = case_file(w.session, cases[a.case_id])
                warrants = [
                    i for i in file.instruments if i.kind in ("i200", "i205") and i.valid_on(day)
                ]
                instrument = warrants[0].describe() if warrants else "no valid warrant on the case"
                recs = queries.names_and_births(w.session, a.person_id, readable_records)
                names = sorted({n for n, _ in recs if n}, key=lambda n: (-len(n), n))
                dobs = sorted({d for _, d in recs if d}, key=lambda d: (-len(d), d))
                identity = {
                    "name": names[0] if names else "(withheld for this purpose)",
                    "other_names": names[1:4],
                    "dob": dobs[0] if dobs else None,
                    "records": len(recs),
                    "photo": "none: habeas keeps no photographs",
                }
                items.append(
                    OfficerItem(
                        id=a.id,
                        case_id=a.case_id,
                        seq=a.route_seq,
                        eta=hhmm(a.eta),
                        window=window(a),
                        status=a.status,
                        reason=a.reason,
                        instrument=instrument,
                        identity=identity,
                        address=json.loads(a.address),
                        outcome=outcomes.get(a.id),
                    )
                )
            return TodayView(team=team.code, day=day, items=items)

    def report(
        self, principal: Principal | None, purpose: str | None, sent: OutcomeIn
    ) -> OutcomeOut:
        """Record an outcome from the field, once: the same UUID again is answered with
        the first result (``replayed``); with other content it is a conflict. An outcome
        about the subject moves the case (``record_encounter``, the gate checked again);
        about someone else it is recorded as a non-subject encounter and moves nothing."""

        digest = sent.digest()
        problems = rules.outcome_problems(sent.outcome, sent.subject, sent.notes, sent.place)
        if problems:
            raise HabeasError("; ".join(problems))
        earlier = self._replay(principal, purpose, sent, digest)
        if earlier is not None:
            return earlier
        try:
            with self.app.work(principal, purpose, "field_outcome", write=True) as w:
                a = w.session.get(Assignment, sent.assignment_id)
                if a is None:
                    raise NotFound(f"no assignment {sent.assignment_id}")
                member = queries.member(w.session, w.ctx.user)
                team = queries.team(w.session, a.team)
                if not rules.reports_for(
                    member.office if member else None,
                    member.team if member else None,
                    a.team,
                    team.office if team else None,
                ):
                    raise refused(
                        w.ctx,
                        "field_outcome",
                        [f"assignment:{a.id}"],
                        f"assignment {a.id} is team {a.team}'s",
                    )
                if a.status != "open":
                    raise Conflict(
                        f"assignment {a.id} is {a.status}"
                        + (f": {a.reason}" if a.reason else "")
                        + "; nothing was recorded"
                    )
                # the moment is checked not to lie ahead; its legal date is the agency's
                # (the server's zone): a true report from UTC+14 is not 'tomorrow'
                on = sent.occurred_at.astimezone().date()
                if sent.subject:
                    record_event(
                        w.session,
                        w.ctx,
                        a.case_id,
                        RecordEncounter(on=on, actor="", role="", outcome=sent.outcome),
                    )
                    effect = {
                        "arrested": "arrested: the case awaits a custody decision within 48 hours",
                        "located_not_detained": "located, not detained: recorded on the case",
                        "not_located": "not located: the attempt is recorded and the case "
                        "is back on the planner",
                    }[sent.outcome]
                else:
                    self._check_step(w, a.case_id)
                    effect = (
                        "a person who is not the subject was encountered: recorded only; "
                        "the assignment stays open and nothing else is started"
                    )
                row = FieldOutcome(
                    uuid=sent.uuid,
                    assignment_id=a.id,
                    case_id=a.case_id,
                    outcome=sent.outcome,
                    subject=sent.subject,
                    occurred_at=sent.occurred_at.astimezone(UTC).replace(tzinfo=None),
                    lat=sent.lat,
                    lon=sent.lon,
                    place=sent.place.strip(),
                    notes=sent.notes.strip(),
                    reported_by=w.ctx.user,
                    received_at=now(),
                    effect=effect,
                    digest=digest,
                )
                w.session.add(row)
                w.session.flush()
                w.done(
                    f"outcome {sent.outcome} (uuid {sent.uuid}): {effect}",
                    [f"case:{a.case_id}", f"assignment:{a.id}", f"outcome:{sent.uuid}"],
                )
                return OutcomeOut(
                    uuid=sent.uuid,
                    assignment_id=a.id,
                    case_id=a.case_id,
                    outcome=sent.outcome,
                    effect=effect,
                    replayed=False,
                    received_at=row.received_at,
                )
        except (IntegrityError, HabeasError):
            # a concurrent submission of the same UUID won: answer with its result
            earlier = self._replay(principal, purpose, sent, digest)
            if earlier is not None:
                return earlier
            raise

    def _check_step(self, w: Work, case_id: int) -> None:
        """Cedar's answer for recording an encounter on this case (a non-subject encounter
        is recorded only by those who may record the subject's)."""

        case = w.session.get(Case, case_id)
        assert case is not None
        d = authorize(w.ctx, "write", case_resource(case), step="record_encounter")
        if not d.allowed:
            raise refused(w.ctx, "field_outcome", [f"case:{case_id}"], d.why())

    def _replay(
        self, principal: Principal | None, purpose: str | None, sent: OutcomeIn, digest: str
    ) -> OutcomeOut | None:
        """The outcome recorded before under this UUID, if any (audited as a resend)."""
        with self.app.work(principal, purpose, "field_outcome_resend") as w:
            row = w.session.get(FieldOutcome, sent.uuid)
            if row is None:
                return None
            if row.reported_by != w.ctx.user:
                member = queries.member(w.session, w.ctx.user)
                a = w.session.get(Assignment, row.assignment_id)
                if member is None or a is None or member.team != a.team:
                    raise refused(
                        w.ctx,
                        "field_outcome",
                        [f"outcome:{sent.uuid}"],
                        "this outcome was sent by another team",
                    )
            if row.digest != digest:
                raise Conflict(
                    f"outcome {sent.uuid} was recorded with other content "
                    f"({row.outcome} at {row.occurred_at:%Y-%m-%d %H:%M}); a "
                    "correction is a new outcome with a new UUID"
                )
            w.done(
                f"outcome {sent.uuid} sent again: answered as recorded, nothing new",
                [f"case:{row.case_id}", f"assignment:{row.assignment_id}"],
            )
            return OutcomeOut(
                uuid=row.uuid,
                assignment_id=row.assignment_id,
                case_id=row.case_id,
                outcome=row.outcome,
                effect=row.effect,
                replayed=True,
                received_at=row.received_at,
            )
