"""The API's own request and answer models (the application's are in ``habeas.app``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from habeas.app.choices import PurposeName, RoleName
from habeas.app.custody import Booking

Text = Annotated[str, Field(min_length=1, max_length=2000)]


class Login(BaseModel):
    """A password sign-in for one purpose."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    purpose: str = Field(
        min_length=1, max_length=32, description=f"one of {', '.join(get_args(PurposeName))}"
    )
    """Checked by the application, so an unknown purpose is refused *and audited*."""


class SessionOut(BaseModel):
    """A signed-in session (the cookie carries the secret)."""

    username: str
    role: str
    purpose: str
    expires_at: str


class Decide(BaseModel):
    """A reviewer's decision on a pair."""

    left: str = Field(min_length=1, max_length=64)
    right: str = Field(min_length=1, max_length=64)
    decision: Literal["same", "different", "unsure"]
    reason: Text


class SourceDecision(BaseModel):
    """Oversight's reason for approving or rejecting a version of a source."""

    reason: str = Field(min_length=1, max_length=2000)


class Unmerge(BaseModel):
    """Records to split off a person."""

    person_id: str = Field(min_length=1, max_length=64)
    records: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=1000
    )
    reason: Text


class Reason(BaseModel):
    """Why, in words a court can read."""

    reason: Text


class OpenCase(BaseModel):
    """A case to open on a person of the index."""

    person_id: str = Field(min_length=1, max_length=64)
    basis: str = Field(default="", max_length=500)
    on: date | None = None


class DocumentVerification(BaseModel):
    """The court a document is from, and its docket reference, as checked."""

    model_config = ConfigDict(extra="forbid")
    issuer: str = Field(
        max_length=32, description="agency, immigration_judge, bia or federal_court"
    )
    docket_reference: str = Field(max_length=64)


class Counsel(BaseModel):
    """The counsel account to record on a case."""

    counsel: str = Field(min_length=1, max_length=64)


class FlagResolution(BaseModel):
    """A flag's resolution: the reason and the evidence examined."""

    reason: Text
    evidence: Text
    on: date | None = None


class Place(BaseModel):
    """A placement in a facility."""

    case_id: int = Field(ge=1, le=2_147_483_647)
    facility: str = Field(min_length=1, max_length=32)
    on: date | None = None
    reason: str = Field(default="placement", max_length=200)


class Day(BaseModel):
    """A day to plan for."""

    on: date | None = None


class Lock(BaseModel):
    """A flight's manifest to lock."""

    flight: str = Field(min_length=1, max_length=64)
    on: date | None = None


class NewUser(BaseModel):
    """An account to create."""

    username: str = Field(min_length=1, max_length=64)
    role: RoleName


class NewToken(BaseModel):
    """An API token to issue."""

    username: str = Field(min_length=1, max_length=64)
    label: str = Field(default="api", min_length=1, max_length=128)
    days: int = Field(default=90, ge=1, le=366)


class Secret(BaseModel):
    """A credential shown once."""

    username: str
    secret: str
    token_id: int | None = None
    expires_at: str


class PlanOut(BaseModel):
    """One transport plan."""

    method: str
    objective: int
    mean_wait: float
    transfers: int
    assigned: dict[str, str]
    unassigned: dict[str, str]


class TransportOut(BaseModel):
    """A transport plan beside its greedy baseline, and who is not ready and why."""

    ready: int
    flights: int
    plan: PlanOut
    greedy: PlanOut
    not_ready: dict[str, int]
    booking: Booking | None = None


class LockOut(BaseModel):
    """A locked manifest."""

    flight: str
    kept: list[int]
    taken_off: dict[int, list[str]]


class DocumentIn(BaseModel):
    """A document to keep on a case."""

    name: str = Field(min_length=1, max_length=200)
    content_base64: str = Field(min_length=4, max_length=1_300_000)


class Verified(BaseModel):
    """The chain recomputed."""

    ok: bool
    entries: int
    head: str
    first_break: str | None
    case_events: int = 0
    history_problem: str | None = None
    head_problem: str | None = None


class CheckpointOut(BaseModel):
    """A signed checkpoint for a witness to keep."""

    size: int
    root: str
    head: str
    time: str
    key_id: str
    signature: str


def transport_out(report: Any, booking: Booking | None = None) -> TransportOut:
    """A transport report as the API answers it."""

    def plan(p: Any) -> PlanOut:
        return PlanOut(
            method=p.method,
            objective=p.objective,
            mean_wait=p.mean_wait,
            transfers=p.transfers,
            assigned=p.assigned,
            unassigned=p.unassigned,
        )

    return TransportOut(
        ready=len(report.ready),
        flights=len(report.flights),
        plan=plan(report.plan),
        greedy=plan(report.greedy),
        not_ready=dict(report.not_ready),
        booking=booking,
    )
