"""The person index: search, a person's file, a record, why two records link, and review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from habeas.api.deps import MAX_ID, C, H, Id, Limit, Offset, edge
from habeas.api.schemas import Decide, Reason, Unmerge
from habeas.app.index.schemas import (
    DecisionRecorded,
    ExplanationOut,
    PersonFile,
    RecordOut,
    ReviewQueue,
    SearchResult,
)

router = APIRouter()


@router.get("/persons", tags=["persons"])
@edge
def search(
    h: H,
    c: C,
    name: Annotated[str | None, Query(max_length=200)] = None,
    dob: Annotated[str | None, Query(max_length=10)] = None,
    identifier: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> SearchResult:
    """Persons by name, date of birth or identifier, ranked."""
    return h.index.search(
        c.principal,
        c.purpose,
        name=name,
        dob=dob,
        identifier=identifier,
        limit=limit,
        offset=offset,
    )


@router.get("/persons/{person_id}", tags=["persons"])
@edge
def person(h: H, c: C, person_id: Id) -> PersonFile:
    """One person's records, links, flags and decisions (what the purpose may see)."""
    return h.index.person(c.principal, c.purpose, person_id)


@router.get("/records/{record_id}", tags=["persons"])
@edge
def record(h: H, c: C, record_id: Id) -> RecordOut:
    """One record with its source and legal authority."""
    return h.index.record(c.principal, c.purpose, record_id)


@router.get("/explain", tags=["persons"])
@edge
def explain(
    h: H,
    c: C,
    left: Annotated[str, Query(min_length=1, max_length=64)],
    right: Annotated[str, Query(min_length=1, max_length=64)],
) -> ExplanationOut:
    """Why two records were linked or not: the waterfall of match weights."""
    return h.index.explain(c.principal, c.purpose, left, right)


@router.get("/review/queue", tags=["review"])
@edge
def review_queue(h: H, c: C, limit: Limit = 20, offset: Offset = 0) -> ReviewQueue:
    """Pairs the model is unsure about, most uncertain first."""
    return h.index.review_queue(c.principal, c.purpose, limit, offset)


@router.post("/review/decisions", tags=["review"], status_code=201)
@edge
def review_decide(h: H, c: C, body: Decide) -> DecisionRecorded:
    """Record a reviewer's decision on a pair."""
    return h.index.decide(c.principal, c.purpose, body.left, body.right, body.decision, body.reason)


@router.post("/review/unmerges", tags=["review"], status_code=201)
@edge
def review_unmerge(h: H, c: C, body: Unmerge) -> DecisionRecorded:
    """Split records off a person."""
    return h.index.unmerge(c.principal, c.purpose, body.person_id, body.records, body.reason)


@router.post("/review/unmerges/{decision_id}/undo", tags=["review"], status_code=201)
@edge
def review_undo(
    h: H, c: C, decision_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Reason
) -> DecisionRecorded:
    """Withdraw an unmerge."""
    return h.index.undo(c.principal, c.purpose, decision_id, body.reason)
