"""Disputes on a person's record, link or flag (safeguard 9): open one, acknowledge and
decide it, file the statement of disagreement, list them with their clocks, follow a
person id a split or a correction retired."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from habeas.api.deps import MAX_ID, C, H, Id, edge
from habeas.app.redress import DisputeOut, Redirect

router = APIRouter()
DisputeId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


class OpenDispute(BaseModel):
    """A new dispute: what it is on, why, and (optionally) the field and the right value."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["record", "link", "flag"]
    target: str = Field(min_length=1, max_length=160)
    reason: str = Field(min_length=10, max_length=4000)
    field: str | None = Field(default=None, max_length=32)
    claimed_value: str | None = Field(default=None, max_length=200)
    client: str = Field(default="", max_length=64)


class DecideDispute(BaseModel):
    """A decision: corrected (record, field, value), split (records) or denied."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["corrected", "split", "denied"]
    reason: str = Field(min_length=10, max_length=4000)
    record: str | None = Field(default=None, max_length=64)
    field: str | None = Field(default=None, max_length=32)
    value: str | None = Field(default=None, max_length=200)
    split: list[str] = Field(default_factory=list, max_length=500)


class Statement(BaseModel):
    """The subject's statement of disagreement."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=10, max_length=8000)
    client: str = Field(default="", max_length=64)


@router.post("/persons/{person_id}/disputes", tags=["disputes"], status_code=201)
@edge
def open_dispute(h: H, c: C, person_id: Id, body: OpenDispute) -> DisputeOut:
    """Open a dispute on one of the person's records, links or flags."""
    return h.redress.open(
        c.principal,
        c.purpose,
        person_id,
        body.kind,
        body.target,
        body.reason,
        body.field,
        body.claimed_value,
        client=body.client,
    )


@router.get("/persons/{person_id}/disputes", tags=["disputes"])
@edge
def person_disputes(
    h: H, c: C, person_id: Id, client: Annotated[str, Query(max_length=64)] = ""
) -> list[DisputeOut]:
    """The person's disputes, with their clocks and decisions."""
    return h.redress.disputes(c.principal, c.purpose, person_id, client=client)


@router.get("/disputes", tags=["disputes"])
@edge
def all_disputes(h: H, c: C, overdue: bool = False) -> list[DisputeOut]:
    """Every dispute (supervisors, oversight); ``overdue``: those past a due date."""
    return h.redress.disputes(c.principal, c.purpose, None, overdue)


@router.post("/disputes/{dispute_id}/acknowledgement", tags=["disputes"], status_code=201)
@edge
def acknowledge(h: H, c: C, dispute_id: DisputeId) -> DisputeOut:
    """Acknowledge a dispute."""
    return h.redress.acknowledge(c.principal, c.purpose, dispute_id)


@router.post("/disputes/{dispute_id}/decision", tags=["disputes"], status_code=201)
@edge
def decide(h: H, c: C, dispute_id: DisputeId, body: DecideDispute) -> DisputeOut:
    """Decide a dispute; a correction or a split travels at once."""
    return h.redress.decide(
        c.principal,
        c.purpose,
        dispute_id,
        body.decision,
        body.reason,
        body.record,
        body.field,
        body.value,
        body.split,
    )


@router.post("/disputes/{dispute_id}/statement", tags=["disputes"], status_code=201)
@edge
def statement(h: H, c: C, dispute_id: DisputeId, body: Statement) -> DisputeOut:
    """File the statement of disagreement after a denial."""
    return h.redress.statement(c.principal, c.purpose, dispute_id, body.text, body.client)


@router.get("/persons/{person_id}/redirects", tags=["disputes"])
@edge
def redirects(
    h: H, c: C, person_id: Id, client: Annotated[str, Query(max_length=64)] = ""
) -> list[Redirect]:
    """Where the records of a person id went after a split or a correction."""
    return h.redress.redirects(c.principal, c.purpose, person_id, client)
