"""The person index's results: records as the caller may see them, a person's file,
search hits, explanations, the review queue."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class RecordOut(BaseModel):
    """One record as the caller may see it: identifiers masked unless the role x purpose
    needs them whole; its source and the legal authority it was gathered under."""

    record_id: str
    person_id: str
    source: str
    source_key: str = Field(
        description="the source's natural key; parts that are identifiers are masked as the "
        "purpose requires"
    )
    batch_id: str | None = Field(default=None, description="lineage: the ingest batch")
    file_sha256: str | None = Field(default=None, description="lineage: the file's SHA-256")
    row_number: int | None = Field(default=None, description="lineage: the row in that file")
    legal_authority: str
    name: str
    dob: str | None
    a_number: str | None
    ssn: str | None
    passport_number: str | None
    zip: str | None
    linked_via: str | None
    match_probability: float | None
    match_weight: float | None
    how: str
    run_id: str


class FlagOut(BaseModel):
    """A flag on the person and its resolution."""

    flag: str
    detail: str
    record_ids: list[str]
    status: str
    resolved_by: str | None
    resolution: str | None


class DecisionOut(BaseModel):
    """A reviewer's decision on the person's records."""

    decision_id: int
    kind: str
    decision: str
    record_ids: list[str]
    reviewer: str
    reason: str
    decided_at: datetime
    undone_by: int | None


class PersonFile(BaseModel):
    """Everything the caller may see of one person, and how much was withheld."""

    person_id: str
    records: list[RecordOut]
    flags: list[FlagOut]
    decisions: list[DecisionOut]
    withheld: int = Field(description="records whose sources do not declare this purpose")
    masked: list[str] = Field(description="identifier kinds shown masked for this purpose")
    run_id: str


class SearchHit(BaseModel):
    """A person found by a search, with the score that ranked them and why."""

    person_id: str
    score: float
    matched: list[str]
    names: list[str]
    dobs: list[str]


class SearchResult(BaseModel):
    """A page of ranked hits."""

    hits: list[SearchHit]
    total: int
    limit: int
    offset: int
    unsearched: list[str] = Field(
        default_factory=list,
        description="identifier kinds a whole identifier was not looked for among: this "
        "purpose sees them masked",
    )


class StepOut(BaseModel):
    """One bar of a link's waterfall."""

    comparison: str
    level: str
    values: str
    weight: float
    tf_adjustment: float


class ExplanationOut(BaseModel):
    """Why two records were linked or not: prior plus each comparison's weight."""

    left: str
    right: str
    prior_weight: float
    steps: list[StepOut]
    match_weight: float
    match_probability: float
    threshold: float
    person_left: str | None
    person_right: str | None
    decision: str | None
    run_id: str


class ReviewPair(BaseModel):
    """A pair the model is unsure about."""

    record_id_l: str
    record_id_r: str
    person_l: str
    person_r: str
    source_l: str
    source_r: str
    name_l: str
    name_r: str
    dob_l: str | None
    dob_r: str | None
    match_probability: float
    priority: float | None = None
    """How much a decision on this pair would change; the queue is read highest first."""
    why: str | None = None


class ReviewQueue(BaseModel):
    """A page of the review queue (pairs of sources the purpose may read)."""

    pairs: list[ReviewPair]
    total: int
    limit: int
    offset: int


class DecisionRecorded(BaseModel):
    """A reviewer's decision as recorded, and the warnings it raised."""

    decision_id: int
    warnings: list[str]
    applies: str = "from the next resolution run"
