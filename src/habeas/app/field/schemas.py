"""The field's requests and results: offices and teams as set up, the planner's view,
assignments, routes, the officer's day and outcomes from the field."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, field_validator
from pydantic import Field as F


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
            raise ValueError(
                "occurred_at needs its time zone, as the device knows it "
                "(e.g. 2026-12-07T14:05-05:00 or ...Z)"
            )
        now = datetime.now(UTC)
        if v > now + CLOCK_SKEW:
            raise ValueError(
                f"occurred_at {v.isoformat()} is {v - now} ahead of the server's "
                f"clock ({now:%Y-%m-%d %H:%M} UTC): an outcome is reported after it "
                "happens"
            )
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
