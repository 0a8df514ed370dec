"""Use cases of field operations: the supervisor's planner (approved cases in the office's
area on a map, each with its last known address and how sure that is), assignments to a
team, a day's routes, the officer's list for the day, and outcomes from the field.

Where a caller works (a supervisor's office, a field officer's team) is read from the
store, never taken from the request. Every assignment and every outcome goes through the
case's lifecycle, so the field gate is checked again each time; an outcome carries the
UUID the officer's device made, and a second submission of it is answered with the first
one's result, never a second effect.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, field_validator
from pydantic import Field as F
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from habeas.app.index import grants
from habeas.cases.access import Conflict as _Conflict
from habeas.cases.access import case_resource, require_case
from habeas.cases.events import Assign, RecordEncounter
from habeas.cases.flags import FLAGS
from habeas.cases.service import case_file, readable_cases, record_event
from habeas.errors import HabeasError, NotFound
from habeas.field import routing, rules
from habeas.field.confidence import AddressSeen, estimate
from habeas.governance.authz import Resource, authorize
from habeas.governance.disclosure import facade
from habeas.governance.identity import AccessDenied, require_directory
from habeas.resolve.publish import sealed_sources
from habeas.store.models import (
    Assignment,
    Case,
    FieldMember,
    FieldOffice,
    FieldOutcome,
    FieldTeam,
    IndexFlag,
    IndexRecord,
    User,
)

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal, Work

PLANNABLE = ("approved_for_field_action", "encountered")
"""Case states the planner shows: approved, and handed back after "not located"."""
MAX_AHEAD = 14
"""Days ahead an assignment may be planned."""
CHUNK = 4000


class TeamIn(BaseModel):
    """A team of an office as set up: where its day starts, its shift (minutes after
    midnight)."""

    model_config = {"extra": "forbid"}
    code: str = F(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    start_label: str = F(min_length=1, max_length=128)
    start_lat: float = F(ge=-90, le=90)
    start_lon: float = F(ge=-180, le=180)
    shift_start: int = F(ge=0, le=24 * 60)
    shift_end: int = F(ge=0, le=24 * 60)


class OfficeIn(BaseModel):
    """A field office as set up: its area (two-letter state codes) and its teams."""

    model_config = {"extra": "forbid"}
    code: str = F(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = F(min_length=1, max_length=128)
    states: list[str] = F(min_length=1, max_length=60)
    teams: list[TeamIn] = F(min_length=1, max_length=200)


class Conflict(_Conflict):
    """The request cannot be applied as sent (an outcome UUID resent with other content,
    an outcome for an assignment that was cancelled or closed): HTTP 409."""


class TeamOut(BaseModel):
    """A team of the office: where its day starts and its shift."""

    code: str
    start_label: str
    start_lat: float
    start_lon: float
    shift_start: int
    shift_end: int


class PlannerCase(BaseModel):
    """An approved case in the office's area, with its last known address."""

    case_id: int
    person_id: str
    state: str
    tier: int | None
    score: float | None
    attempts: int = F(description="earlier assignments that ended 'not located'")
    address: dict[str, Any]
    blocked: list[str] = F(default_factory=list, description="open flags: no assignment")


class PlannerPoints(BaseModel):
    """The map's cases as columns (one entry per case in each): where each case's last
    known address is, how sure that is, its tier, its attempts, and whether an open flag
    blocks it. A case's address in full, with its parts and sources, is
    ``Field.planner_case``."""

    case_id: list[int] = F(default_factory=list)
    lat: list[float] = F(default_factory=list)
    lon: list[float] = F(default_factory=list)
    confidence: list[int] = F(default_factory=list)
    tier: list[int | None] = F(default_factory=list)
    attempts: list[int] = F(default_factory=list)
    blocked: list[bool] = F(default_factory=list)


class PlannerView(BaseModel):
    """The planner: the office, its teams, its approved cases on the map."""

    office: str
    office_name: str
    states: list[str]
    teams: list[TeamOut]
    points: PlannerPoints
    no_address: int = F(description="approved cases in no mappable address the purpose allows")
    withheld_sources: int = F(description="sources whose addresses this purpose may not read")


class Refusal(BaseModel):
    """A case that was not assigned, and every reason."""

    case_id: int
    reasons: list[str]


class AssignmentOut(BaseModel):
    """An assignment as the planner and the officer see it."""

    id: int
    case_id: int
    person_id: str
    team: str
    day: date
    status: str
    route_seq: int | None
    eta: str | None
    window: str
    address: dict[str, Any]
    reason: str | None = None
    assigned_by: str


class AssignReport(BaseModel):
    """What an assignment request did: each case assigned, or refused with reasons."""

    assigned: list[AssignmentOut]
    refused: list[Refusal]


class Leg(BaseModel):
    """A stop of a planned route."""

    assignment_id: int
    case_id: int
    seq: int
    arrive: str
    lat: float
    lon: float
    street: str
    km: float


class RouteOut(BaseModel):
    """A team's route for a day, its length beside the nearest-neighbour tour's through
    the same stops (those left out are in neither)."""

    team: str
    day: date
    start: dict[str, Any]
    stops: list[Leg]
    left_out: list[Refusal]
    km: float
    nearest_neighbour_km: float
    seconds: float
    assumptions: str


class OfficerItem(BaseModel):
    """One of the team's assignments on the officer's phone."""

    id: int
    case_id: int
    seq: int | None
    eta: str | None
    window: str
    status: str
    reason: str | None
    instrument: str
    identity: dict[str, Any]
    address: dict[str, Any]
    outcome: str | None = None


class TodayView(BaseModel):
    """The team's assignments for the day, in route order; cancelled ones say why."""

    team: str
    day: date
    items: list[OfficerItem]


CLOCK_SKEW = timedelta(minutes=10)
"""How far ahead of the server's clock a device's time may be (its clock drifts)."""


class OutcomeIn(BaseModel):
    """An outcome as the officer's device sends it (``uuid``: made by the device)."""

    uuid: str
    assignment_id: int = F(ge=1, le=2**31 - 1)
    outcome: str
    subject: bool = True
    occurred_at: datetime
    lat: float | None = F(default=None, ge=-90, le=90)
    lon: float | None = F(default=None, ge=-180, le=180)
    place: str = ""
    notes: str = ""

    @field_validator("uuid")
    @classmethod
    def _uuid(cls, v: str) -> str:
        if not re.fullmatch(
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
            r"[0-9a-fA-F]{12}",
            v,
        ):
            raise ValueError("uuid is not a UUID (8-4-4-4-12 hexadecimal digits)")
        return v.lower()

    @field_validator("occurred_at")
    @classmethod
    def _zoned_and_not_ahead(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("occurred_at needs its time zone, as the device knows it "
                             "(e.g. 2026-12-07T14:05-05:00 or ...Z)")  # fmt: skip
        now = datetime.now(UTC)
        if v > now + CLOCK_SKEW:
            raise ValueError(f"occurred_at {v.isoformat()} is {v - now} ahead of the server's "
                             f"clock ({now:%Y-%m-%d %H:%M} UTC): an outcome is reported after it "
                             "happens")  # fmt: skip
        return v

    def digest(self) -> str:
        """SHA-256 of the content (a resend must match it)."""
        body = self.model_dump(mode="json", exclude={"uuid"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class OutcomeOut(BaseModel):
    """What an outcome did; ``replayed``: this UUID was recorded before, nothing new."""

    uuid: str
    assignment_id: int
    case_id: int
    outcome: str
    effect: str
    replayed: bool
    received_at: datetime


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _hhmm(minutes: int | None) -> str | None:
    return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window(a: Assignment) -> str:
    return f"{_hhmm(a.window_start)}–{_hhmm(a.window_end)}"


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
        eta=_hhmm(a.eta),
        window=_window(a),
        address=json.loads(a.address or "{}"),
        reason=a.reason,
        assigned_by=a.assigned_by,
    )


def _open_flags(w: Work, person_id: str | None = None) -> dict[str, list[str]]:
    """The open citizenship and lawful-status flags by person (one person's with
    ``person_id``), each as "flag: detail"."""
    q = select(IndexFlag.person_id, IndexFlag.flag, IndexFlag.detail).where(
        IndexFlag.status == "open", IndexFlag.flag.in_(FLAGS)
    )
    if person_id is not None:
        q = q.where(IndexFlag.person_id == person_id)
    out: dict[str, list[str]] = {}
    for pid, flag, detail in w.session.execute(q):
        out.setdefault(pid, []).append(f"{flag}: {detail}")
    return out


def _refused(ctx: Any, action: str, resources: list[str], why: str) -> AccessDenied:
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


@facade
class Field:
    """Use cases of field operations."""

    def __init__(self, app: Habeas) -> None:
        self.app = app

    # -- where the caller works -----------------------------------------------------------

    def _office(self, w: Work, action: str) -> FieldOffice:
        """The supervisor's office, after Cedar allows planning for this purpose."""
        member = w.session.get(FieldMember, w.ctx.user)
        office = w.session.get(FieldOffice, member.office) if member else None
        res = Resource("FieldOffice", office.code if office else "*")
        d = authorize(w.ctx, "plan_field", res)
        if not d.allowed:
            raise _refused(w.ctx, action, ["field_office"], d.why())
        if office is None:
            raise _refused(
                w.ctx,
                action,
                ["field_office"],
                f"{w.ctx.user} belongs to no field office (an administrator "
                "places supervisors in one)",
            )
        return office

    def _team(self, w: Work, action: str) -> FieldTeam:
        """The field officer's team (a supervisor names none: refused here)."""
        member = w.session.get(FieldMember, w.ctx.user)
        team = w.session.get(FieldTeam, member.team) if member and member.team else None
        if team is None:
            raise _refused(
                w.ctx,
                action,
                ["field_team"],
                f"{w.ctx.user} is on no field team (an administrator places officers on one)",
            )
        return team

    # -- administration -------------------------------------------------------------------

    def set_up(
        self,
        principal: Principal | None,
        offices: list[dict[str, Any]],
        members: dict[str, tuple[str, str | None]],
    ) -> int:
        """Create or replace field offices with their teams, and place accounts in them
        (``members``: username → (office, team or None)); administrators only."""
        from pydantic import ValidationError

        parsed = []
        for i, o in enumerate(offices, start=1):
            try:
                parsed.append(OfficeIn.model_validate(o))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"]) or "(the office)"
                raise HabeasError(f"office {i}: {where}: {first['msg']}") from None
        offices = [o.model_dump() for o in parsed]
        with self.app.work(principal, "oversight", "field_set_up", write=True) as w:
            require_directory(w.session, w.ctx, "field_set_up")
            for o in offices:
                states = sorted({s.strip().upper() for s in o["states"]})
                if not states or not all(re.fullmatch(r"[A-Z]{2}", s) for s in states):
                    raise HabeasError(f"office {o['code']}: states are two-letter codes")
                w.session.merge(
                    FieldOffice(code=o["code"], name=o["name"], states=",".join(states))
                )
                for t in o["teams"]:
                    if not 0 <= t["shift_start"] < t["shift_end"] <= 24 * 60:
                        raise HabeasError(f"team {t['code']}: the shift must fall within a day")
                    w.session.merge(FieldTeam(office=o["code"], **t))
            w.session.flush()
            for username, (office, team) in members.items():
                user = w.session.execute(
                    select(User).where(User.username == username)
                ).scalar_one_or_none()
                if user is None:
                    raise NotFound(f"no account {username}")
                if team is not None:
                    t = w.session.get(FieldTeam, team)
                    if t is None or t.office != office:
                        raise HabeasError(f"team {team} is not a team of office {office}")
                if user.role not in ("supervisor", "field_officer"):
                    raise HabeasError(
                        f"{username} is a {user.role}: only supervisors and "
                        "field officers work in a field office"
                    )
                w.session.merge(FieldMember(username=username, office=office, team=team))
            w.done(f"{len(offices)} office(s), {len(members)} member(s)")
            return len(offices)

    # -- the planner ----------------------------------------------------------------------

    def _addresses(
        self, w: Work, person_ids: list[str]
    ) -> tuple[dict[str, list[AddressSeen]], int]:
        """Each person's addresses from the records this purpose may read; and how many
        sources hold addresses it may not."""

        sources = sealed_sources(w.session)
        allowed = grants(w.ctx, "read", sources)
        withheld = len([n for n in sources if n not in allowed.names()])
        out: dict[str, list[AddressSeen]] = {}
        has_address = (
            (IndexRecord.street.is_not(None))
            | (IndexRecord.zip.is_not(None))
            | (IndexRecord.lat.is_not(None))
        )
        cols = (
            IndexRecord.person_id,
            IndexRecord.record_id,
            IndexRecord.source,
            IndexRecord.street,
            IndexRecord.city,
            IndexRecord.state,
            IndexRecord.zip,
            IndexRecord.lat,
            IndexRecord.lon,
            IndexRecord.address_date,
        )
        for i in range(0, len(person_ids), CHUNK):
            part = person_ids[i : i + CHUNK]
            rows = w.session.execute(
                select(*cols).where(
                    IndexRecord.person_id.in_(part),
                    has_address,
                    allowed.clause(IndexRecord.source, IndexRecord.source_version),
                )
            ).all()
            for pid, rid, src, street, city, state, zip_, lat, lon, seen in rows:
                out.setdefault(pid, []).append(
                    AddressSeen(rid, src, street, city, state, zip_, lat, lon, seen)
                )
        return out, withheld

    def office(self, principal: Principal | None, purpose: str | None) -> PlannerView:
        """The supervisor's office and its teams, without its cases."""
        with self.app.work(principal, purpose, "field_office") as w:
            office = self._office(w, "field_office")
            return PlannerView(
                office=office.code,
                office_name=office.name,
                states=office.states.split(","),
                teams=self._teams(w, office),
                points=PlannerPoints(),
                no_address=0,
                withheld_sources=0,
            )

    def _teams(self, w: Work, office: FieldOffice) -> list[TeamOut]:
        teams = w.session.execute(
            select(FieldTeam).where(FieldTeam.office == office.code).order_by(FieldTeam.code)
        ).scalars()
        return [
            TeamOut(
                code=t.code,
                start_label=t.start_label,
                start_lat=t.start_lat,
                start_lon=t.start_lon,
                shift_start=t.shift_start,
                shift_end=t.shift_end,
            )
            for t in teams
        ]

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

        today = today or date.today()
        with self.app.work(principal, purpose, "field_planner") as w:
            office = self._office(w, "field_planner")
            states = office.states.split(",")
            # only persons some record may place in the office's states (a record without a
            # state may, by its ZIP code): the other offices' cases cost nothing here
            may_be_here = (
                select(IndexRecord.record_id)
                .where(
                    IndexRecord.person_id == Case.person_id,
                    func.upper(func.trim(func.coalesce(IndexRecord.state, ""))).in_([*states, ""]),
                )
                .exists()
            )
            # the columns a decision and a point need, not whole rows: at 300k cases the
            # difference is seconds
            q = select(Case.id, Case.person_id, Case.state, Case.counsel, Case.priority_tier).where(
                Case.state.in_(PLANNABLE), may_be_here
            )
            if tier is not None:
                q = q.where(Case.priority_tier == tier)
            cases = cast("list[Case]", list(w.session.execute(q.order_by(Case.id)).all()))
            # handed back after "not located" only; an arrest or a located person is not
            attempts = dict(
                w.session.execute(
                    select(FieldOutcome.case_id, func.count())
                    .where(FieldOutcome.outcome == "not_located")
                    .group_by(FieldOutcome.case_id)
                ).all()
            )
            cases = [c for c in cases if c.state != "encountered" or attempts.get(c.id)]
            addresses, withheld = self._addresses(w, sorted({c.person_id for c in cases}))
            flagged = _open_flags(w)
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
                teams=self._teams(w, office),
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

        today = today or date.today()
        with self.app.work(principal, purpose, "field_planner_case") as w:
            office = self._office(w, "field_planner_case")
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
            seen, _ = self._addresses(w, [case.person_id])
            est = estimate(seen.get(case.person_id, []), today)
            if est is None or est.state not in office.states.split(","):
                raise NotFound(f"case {case_id} has no address in office {office.code}'s area")
            attempts = w.session.execute(
                select(func.count()).where(
                    FieldOutcome.case_id == case_id, FieldOutcome.outcome == "not_located"
                )
            ).scalar_one()
            flags = _open_flags(w, case.person_id).get(case.person_id, [])
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

    # -- assignments ------------------------------------------------------------------------

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
        today = date.today()
        if not today <= day <= today + timedelta(days=MAX_AHEAD):
            raise HabeasError(f"the day must be today to {MAX_AHEAD} days ahead, not {day}")
        if not (0 <= window[0] < window[1] <= 24 * 60) or not 5 <= stop_minutes <= 240:
            raise HabeasError("the window must fall within a day and a stop take 5–240 minutes")
        with self.app.work(principal, purpose, "field_assign") as w:
            office = self._office(w, "field_assign")
            t = w.session.get(FieldTeam, team)
            if t is None or t.office != office.code:
                raise _refused(
                    w.ctx,
                    "field_assign",
                    [f"team:{team}"],
                    f"team {team} is not a team of office {office.code}",
                )
        assigned: list[AssignmentOut] = []
        refused: list[Refusal] = []
        for case_id in dict.fromkeys(case_ids):
            try:
                with self.app.work(principal, purpose, "field_assign", write=True) as w:
                    require_case(w.session, w.ctx, case_id, "field_assign")
                    case = w.session.get(Case, case_id)
                    assert case is not None
                    seen, _ = self._addresses(w, [case.person_id])
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
                        assigned_at=_now(),
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
            office = self._office(w, "field_route")
            t = w.session.get(FieldTeam, team)
            if t is None or t.office != office.code:
                raise _refused(
                    w.ctx,
                    "field_route",
                    [f"team:{team}"],
                    f"team {team} is not a team of office {office.code}",
                )
            rows = list(
                w.session.execute(
                    select(Assignment)
                    .where(
                        Assignment.team == team, Assignment.day == day, Assignment.status == "open"
                    )
                    .order_by(Assignment.id)
                ).scalars()
            )
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
                        arrive=_hhmm(leg.arrive) or "",
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
                            f"({_window(a)}) and the shift "
                            f"({_hhmm(t.shift_start)}–{_hhmm(t.shift_end)})"
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
                    "at": _hhmm(t.shift_start),
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
            office = self._office(w, "field_assignments")
            q = (
                select(Assignment)
                .join(FieldTeam, FieldTeam.code == Assignment.team)
                .where(FieldTeam.office == office.code, Assignment.day == day)
            )
            if team:
                t = w.session.get(FieldTeam, team)
                if t is None or t.office != office.code:
                    raise NotFound(f"no team {team} in office {office.code}")
                q = q.where(Assignment.team == team)
            rows = list(
                w.session.execute(
                    q.order_by(Assignment.team, Assignment.route_seq, Assignment.id)
                ).scalars()
            )
            w.done(
                f"{len(rows)} assignment(s) of office {office.code} on {day}",
                [f"assignment:{a.id}" for a in rows],
            )
            return [assignment_out(a) for a in rows]

    # -- the officer ------------------------------------------------------------------------

    def today(
        self, principal: Principal | None, purpose: str | None, day: date | None = None
    ) -> TodayView:
        """The officer's team's assignments for the day in route order, each with its
        instrument, the identity summary this purpose allows (no photo), the address and
        its confidence; cancelled ones with the reason (audited)."""

        day = day or date.today()
        with self.app.work(principal, purpose, "field_today") as w:
            team = self._team(w, "field_today")
            rows = list(
                w.session.execute(
                    select(Assignment)
                    .where(Assignment.team == team.code, Assignment.day == day)
                    .order_by(Assignment.status != "open", Assignment.route_seq, Assignment.id)
                ).scalars()
            )
            cases = {
                c.id: c
                for c in w.session.execute(
                    select(Case).where(Case.id.in_([a.case_id for a in rows]))
                ).scalars()
            }
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
            outcomes = dict(
                w.session.execute(
                    select(FieldOutcome.assignment_id, FieldOutcome.outcome).where(
                        FieldOutcome.assignment_id.in_([a.id for a in rows]),
                        FieldOutcome.subject.is_(True),
                    )
                ).all()
            )
            items = []
            for a in rows:
                if a.case_id not in readable:
                    continue
                file = case_file(w.session, cases[a.case_id])
                warrants = [
                    i for i in file.instruments if i.kind in ("i200", "i205") and i.valid_on(day)
                ]
                instrument = warrants[0].describe() if warrants else "no valid warrant on the case"
                recs = list(
                    w.session.execute(
                        select(IndexRecord.name, IndexRecord.dob).where(
                            IndexRecord.person_id == a.person_id,
                            allowed.clause(IndexRecord.source, IndexRecord.source_version),
                        )
                    ).all()
                )
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
                        eta=_hhmm(a.eta),
                        window=_window(a),
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
                member = w.session.get(FieldMember, w.ctx.user)
                team = w.session.get(FieldTeam, a.team)
                on_team = member is not None and member.team == a.team
                supervises = (
                    member is not None
                    and member.team is None
                    and team is not None
                    and member.office == team.office
                )
                if not (on_team or supervises):
                    raise _refused(
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
                    received_at=_now(),
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
            raise _refused(w.ctx, "field_outcome", [f"case:{case_id}"], d.why())

    def _replay(
        self, principal: Principal | None, purpose: str | None, sent: OutcomeIn, digest: str
    ) -> OutcomeOut | None:
        """The outcome recorded before under this UUID, if any (audited as a resend)."""
        with self.app.work(principal, purpose, "field_outcome_resend") as w:
            row = w.session.get(FieldOutcome, sent.uuid)
            if row is None:
                return None
            if row.reported_by != w.ctx.user:
                member = w.session.get(FieldMember, w.ctx.user)
                a = w.session.get(Assignment, row.assignment_id)
                if member is None or a is None or member.team != a.team:
                    raise _refused(
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
