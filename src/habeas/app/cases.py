"""Cases and priorities: open, list, show, record a step, counsel, resolve a flag,
deadlines and scoring. Every step is authorized (Cedar, per step), checked by the
lifecycle's gates with the flags the index holds at that moment, stored and audited in
one transaction; the actor and role of a step are always the account's."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from habeas.cases import queries
from habeas.cases.access import case_resource, require_case
from habeas.cases.casefile import Refused, State
from habeas.cases.documents import attach_document, read_document, verify_document
from habeas.cases.event_store import case_file
from habeas.cases.flags import resolve_flag
from habeas.cases.from_records import open_cases_from_index, sync_flags
from habeas.cases.lifecycle import EVENTS, event_from_payload
from habeas.cases.queries import list_cases, readable_cases, show_case, tasks_due
from habeas.cases.service import assign_counsel, open_case, record_due_effects, record_event
from habeas.errors import AccessDenied, Conflict, GateRefused, HabeasError, NotFound
from habeas.governance import audit
from habeas.governance.authz import authorize
from habeas.governance.disclosure import facade
from habeas.governance.identity import refusal
from habeas.prioritize.policy import DEFAULT_POLICY, load_policy
from habeas.prioritize.service import prioritize_cases
from habeas.store.models import Case, FieldMember, FieldTeam, IndexPerson

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal
    from habeas.cases.from_records import OpenReport
    from habeas.cases.queries import CaseView
    from habeas.prioritize.service import PrioritizeReport

STATES: tuple[str, ...] = tuple(s.value for s in State)
"""Every case state, for choices in the CLI and the API."""

STEP_KINDS: tuple[str, ...] = tuple(sorted(EVENTS))
"""Every step kind a case may record."""


def step_fields(kind: str) -> dict[str, str]:
    """The fields a step of ``kind`` takes (name → type), without who and when."""
    cls = EVENTS.get(kind)
    if cls is None:
        raise HabeasError(f"unknown step {kind!r}; steps are {', '.join(STEP_KINDS)}")
    return {
        f.name: str(f.type)
        for f in dataclasses.fields(cls)
        if f.name not in ("on", "actor", "role", "recorded")
    }


class StepRequest(BaseModel):
    """One step to record on a case: its kind, its fields, the day it carries and the
    version of the case it was decided on (a stale one is a conflict)."""

    kind: str = Field(description="the step, e.g. request_field_action")
    on: date | None = Field(default=None, description="the day the step carries")
    fields: dict[str, str | bool | int | list[str]] = Field(default_factory=dict, max_length=40)
    version: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="refuse if the case moved on"
    )


class StepDone(BaseModel):
    """The case after a step."""

    case_id: int
    kind: str
    state: str
    version: int


class CaseRow(BaseModel):
    """A case in a list: state, tier, score and the rules that fired."""

    id: int
    person_id: str
    state: str
    verified: bool = True
    """False when the case row's state does not carry its history's seal (edited)."""
    tier: int | None
    score: float | None
    policy_version: str | None
    explanation: list[dict[str, Any]]


class CaseList(BaseModel):
    """A page of cases."""

    cases: list[CaseRow]
    limit: int
    offset: int


class TaskRow(BaseModel):
    """A deadline on a case."""

    case_id: int
    person_id: str
    kind: str
    due_on: date
    status: str
    detail: str
    state: str


class FlagResolved(BaseModel):
    """The cases a flag resolution was recorded on, and the first one's state after it."""

    flag: str
    cases: list[int]
    state: str
    version: int


class DateReview(BaseModel):
    """A court record set aside because its dates contradict each other."""

    record_id: str
    person_id: str
    reasons: list[str]
    found_at: datetime
    status: str


class DocumentOut(BaseModel):
    """A document kept on a case: what a step cites as its ``document_sha256``."""

    case_id: int
    sha256: str
    name: str
    size: int
    new: bool
    issuer: str | None = None
    """The court a second person verified it as (None: not verified, no court's act)."""
    docket_reference: str | None = None
    verified_by: str | None = None


class CaseOpened(BaseModel):
    """A case opened on a person."""

    case_id: int
    person_id: str
    state: str


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


@facade
class Cases:
    """Use cases on cases, deadlines and priorities."""

    def __init__(self, app: Habeas) -> None:
        self.app = app

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

    def take_due_effects(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_ids: list[int],
        client: str = "",
    ) -> int:
        """Record on these cases the events the law has made happen by today (an alternate
        order of removal after a missed voluntary departure deadline), as the lifecycle's;
        the reader's unit of work names them. Returns how many were recorded."""

        with self.app.work(principal, purpose, "case_due_effects", client=client) as w:
            for case_id in case_ids:
                require_case(w.session, w.ctx, case_id, "case_due_effects")
            n = sum(record_due_effects(w.session, w.ctx, c, self.app.today()) for c in case_ids)
            if n:
                w.done(f"{n} event(s) the law made happen", [f"case:{c}" for c in case_ids])
            return n

    def probe(self, ctx: Any, action: str) -> None:
        """Refuse (403, audited) a caller who may read no case at all for this purpose."""

        # counsel probes as their client's counsel; everyone else as for any case
        client = getattr(ctx, "client", "") or ""
        anyone = Case(
            id=0, person_id=client or "*", state="identified", counsel=ctx.user if client else ""
        )
        d = authorize(ctx, "read", case_resource(anyone))
        if not d.allowed:
            raise AccessDenied(
                f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {action}: {d.why()}",
                {
                    "user": ctx.user,
                    "role": ctx.role,
                    "purpose": ctx.purpose,
                    "action": action,
                    "resources": ["cases"],
                    "decision": "deny",
                    "detail": d.why(),
                    "request_id": ctx.request_id or None,
                },
                d.why(),
            )

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

    def attach(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        name: str,
        content: bytes,
    ) -> DocumentOut:
        """Keep a document on the case, whole, so that a step may cite it by its SHA-256
        (``document_sha256``) and counsel and the court can read what was cited."""

        with self.app.work(principal, purpose, "case_attach_document", write=True) as w:
            require_case(w.session, w.ctx, case_id, "case_attach_document")
            digest, new = attach_document(w.session, w.ctx, case_id, name, content)
            w.done(f"document {digest[:16]}… on case {case_id}", [f"case:{case_id}"])
            return DocumentOut(
                case_id=case_id, sha256=digest, name=name.strip(), size=len(content), new=new
            )

    def verify_document(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        sha256: str,
        issuer: str,
        docket: str,
    ) -> DocumentOut:
        """A supervisor who did not attach a document checks it against the court's docket
        and records the issuing court and the docket reference: only then may a court's
        act cite it, with that court as its authority (audited)."""

        with self.app.work(principal, purpose, "case_verify_document", write=True) as w:
            require_case(w.session, w.ctx, case_id, "case_verify_document")
            doc = verify_document(w.session, w.ctx, case_id, sha256, issuer, docket)
            w.done(
                f"document {sha256[:16]}… verified as {issuer}'s (docket {docket})",
                [f"case:{case_id}", f"document:{sha256}"],
            )
            return DocumentOut(
                case_id=case_id,
                sha256=doc.sha256,
                name=doc.name,
                size=doc.size,
                new=False,
                issuer=doc.issuer,
                docket_reference=doc.docket_reference,
                verified_by=doc.verified_by,
            )

    def document(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_id: int,
        sha256: str,
        client: str = "",
    ) -> tuple[str, bytes]:
        """A document kept on the case (its name and bytes), for a reader of the case."""

        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise HabeasError(f"{sha256[:70]!r} is not a SHA-256 (64 lowercase hex digits)")
        with self.app.work(principal, purpose, "read_case_document", client=client) as w:
            require_case(w.session, w.ctx, case_id, "read_case_document")
            doc = read_document(w.session, w.ctx, case_id, sha256)
            return doc.name, bytes(doc.content)

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
        passed = _passed_departures(rows, self.app.today())
        if passed and self.take_due_effects(principal, purpose, passed):
            rows = due()  # what the passed deadlines made law is on the cases now
        return [TaskRow(**r) for r in rows[offset : offset + limit]]

    def settle_deadlines(self, principal: Principal | None, purpose: str | None) -> int:
        """Put into effect what passed deadlines made law on the cases the caller may read
        (a missed voluntary departure deadline: the alternate order of removal). Returns
        how many events were recorded."""

        with self.app.work(principal, purpose, "tasks_due") as w:
            self.probe(w.ctx, "tasks_due")
            rows = tasks_due(w.session, w.ctx, self.app.today(), 0)
        passed = _passed_departures(rows, self.app.today())
        return self.take_due_effects(principal, purpose, passed) if passed else 0

    def prioritize(
        self,
        principal: Principal | None,
        purpose: str | None,
        on: date,
        policy: Path | None = None,
    ) -> tuple[int, PrioritizeReport]:
        """Raise new index flags on open cases, then score every open case whose facts
        changed since its last score. Returns (flags raised, report)."""

        pol = load_policy(policy or DEFAULT_POLICY)
        with self.app.work(principal, purpose, "prioritize") as w:
            self.probe(w.ctx, "prioritize")
            raised = sync_flags(w.session, w.ctx, on)
            if raised:
                w.done(f"{raised} index flag(s) raised on open cases")
            ctx = w.ctx
        with self.app.staging() as st:
            try:
                report = prioritize_cases(self.app.engine, st, ctx, pol, on)
            except HabeasError as exc:
                self.app.record_failure(ctx, None, purpose, "prioritize", exc)
                raise
        return raised, report


def _passed_departures(rows: list[dict[str, Any]], today: date) -> list[int]:
    """The cases among deadline rows whose voluntary departure deadline has passed."""
    return sorted(
        {
            r["case_id"]
            for r in rows
            if r["kind"] == "voluntary_departure_due" and r["due_on"] < today
        }
    )


def history_payload(view: CaseView) -> list[dict[str, Any]]:
    """A case's history as plain data (for JSON)."""
    return [
        {
            **h,
            "recorded_at": h["recorded_at"].isoformat()
            if isinstance(h["recorded_at"], datetime)
            else h["recorded_at"],
        }
        for h in view.history
    ]


def case_json(view: CaseView) -> dict[str, Any]:
    """A case view as JSON-ready data."""
    from dataclasses import asdict

    data: dict[str, Any] = json.loads(
        json.dumps(
            {
                "case": view.case,
                "file": asdict(view.file),
                "gates": view.gates,
                "history": history_payload(view),
                "refused": view.refused,
                "instruments": view.instruments,
                "tasks": view.tasks,
            },
            default=str,
        )
    )
    return data


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
    member = s.get(FieldMember, ctx.user)
    reasons: list[str] = []
    if request.kind == "assign":
        code = str(request.fields.get("team", ""))
        team = s.get(FieldTeam, code) if code else None
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
        team = s.get(FieldTeam, assigned) if assigned else None
        on_team = member is not None and bool(assigned) and member.team == assigned
        supervises = (
            member is not None
            and member.team is None
            and team is not None
            and member.office == team.office
        )
        if not (on_team or supervises):
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
