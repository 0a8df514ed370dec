"""The field routes of the HTTP API: the planner, assignments, routes, the officer's day
and outcomes. The pages call the same routes' use cases; the caller's office or team is
the store's, never the request's."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from habeas.api.deps import C, H, edge
from habeas.app.field.schemas import (
    AssignmentOut,
    AssignReport,
    OutcomeIn,
    OutcomeOut,
    PlannerCase,
    PlannerView,
    RouteOut,
    TodayView,
)

TeamCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]


class AssignIn(BaseModel):
    """Cases to give to one team for a day, with the window and the stop time."""

    case_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=500)
    team: TeamCode
    day: date
    window_start: int = Field(default=7 * 60, ge=0, le=24 * 60)
    window_end: int = Field(default=19 * 60, ge=0, le=24 * 60)
    stop_minutes: int = Field(default=20, ge=5, le=240)


class RouteIn(BaseModel):
    """The team and day to route."""

    team: TeamCode
    day: date


router = APIRouter()


@router.get("/field/planner", tags=["field"])
@edge
def planner(
    h: H,
    c: C,
    tier: Annotated[int | None, Query(ge=1, le=9)] = None,
    min_confidence: Annotated[int, Query(ge=0, le=100)] = 0,
) -> PlannerView:
    """The approved cases in the supervisor's office area with their last known
    addresses and confidence (supervisors, purpose field_operation)."""
    return h.field.planner(c.principal, c.purpose, tier, min_confidence)


@router.get("/field/planner/cases/{case_id}", tags=["field"])
@edge
def planner_case(h: H, c: C, case_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> PlannerCase:
    """One case of the planner: its last known address, the confidence in parts, the
    sources and dates, the other addresses held, attempts and open flags."""
    return h.field.planner_case(c.principal, c.purpose, case_id)


@router.post("/field/assignments", tags=["field"], status_code=201)
@edge
def assign(h: H, c: C, body: AssignIn) -> AssignReport:
    """Assign approved cases to a team of the office; each refusal names its reasons."""
    return h.field.assign(
        c.principal,
        c.purpose,
        body.case_ids,
        body.team,
        body.day,
        (body.window_start, body.window_end),
        body.stop_minutes,
    )


@router.get("/field/assignments", tags=["field"])
@edge
def assignments(
    h: H,
    c: C,
    day: date,
    team: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,32}$")] = None,
) -> list[AssignmentOut]:
    """The office's assignments for a day (one team's with ``team``)."""
    return h.field.assignments(c.principal, c.purpose, day, team)


@router.post("/field/routes", tags=["field"])
@edge
def route(h: H, c: C, body: RouteIn) -> RouteOut:
    """Plan the team's route for the day (OR-Tools, time windows, start, stop times)."""
    return h.field.route(c.principal, c.purpose, body.team, body.day)


@router.get("/field/today", tags=["field"])
@edge
def today(h: H, c: C, day: date | None = None) -> TodayView:
    """The field officer's team's assignments for the day, in route order."""
    return h.field.today(c.principal, c.purpose, day)


@router.post("/field/outcomes", tags=["field"], status_code=201)
@edge
def outcome(h: H, c: C, body: OutcomeIn) -> OutcomeOut:
    """Report an outcome, keyed by the device's UUID: a resend is answered with the
    first result (``replayed``), never recorded twice."""
    return h.field.report(c.principal, c.purpose, body)
