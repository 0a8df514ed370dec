"""The source registry, its versions' approval, and the quarantine."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from habeas.api.deps import C, H, Limit, Offset, edge
from habeas.api.schemas import SourceDecision
from habeas.app.pipeline import SourceCheck, SourceOut
from habeas.sources.registry import SourceVersion as SourceVersionOut
from habeas.store.canonical import Disposition

router = APIRouter()


@router.get("/sources", tags=["sources"])
@edge
def sources(h: H, c: C) -> list[SourceOut]:
    """The registry: agency, legal authority, purposes, status of every source."""
    return h.pipeline.list_sources(c.principal, c.purpose)


@router.get("/sources/check", tags=["sources"])
@edge
def sources_check(h: H, c: C, on: date | None = None) -> list[SourceCheck]:
    """Every source's legal basis re-checked as of ``on`` (agreements lapse)."""
    return h.pipeline.check(c.principal, c.purpose, on or h.today())


SourceName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,62}$")]
Version = Annotated[int, Path(ge=1, le=1_000_000)]


@router.get("/sources/{name}/history", tags=["sources"])
@edge
def source_history(h: H, c: C, name: SourceName) -> list[SourceVersionOut]:
    """Every version of a source's declaration: hash, registrant, dates, what it
    widened, who decided."""
    return h.pipeline.source_history(c.principal, c.purpose, name)


@router.post("/sources/{name}/versions/{version}/{decision}", tags=["sources"])
@edge
def source_decide(
    h: H,
    c: C,
    name: SourceName,
    version: Version,
    decision: Literal["approve", "reject"],
    body: SourceDecision,
) -> SourceVersionOut:
    """Approve a pending version that widens a source, or reject it so the version in
    force stays (oversight; not its registrant)."""
    return h.pipeline.decide_source(
        c.principal, c.purpose, name, version, decision == "approve", body.reason
    )


@router.get("/quarantine", tags=["sources"])
@edge
def quarantine(
    h: H,
    c: C,
    source: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    disposition: Disposition | None = None,
) -> dict[str, Any]:
    """Rows refused at ingest and values set aside from rows kept, with the file, row,
    field, rule and disposition."""
    page = h.pipeline.quarantine(c.principal, c.purpose, source, limit, offset, disposition)
    return {
        "rows": [asdict(x) for x in page.rows],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }
