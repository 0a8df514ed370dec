"""The data pipeline under an access context: ingest, resolve and evaluate the index.

Each is decided by Cedar (``ingest`` on the source, ``resolve`` on each source's records)
for the caller's role and purpose, and leaves two audit entries: the decision before the
work starts (a refusal stops it there), and the outcome after it (batch or run id and
counts). The staging store is a separate database, so the outcome cannot share its
transaction; the decision entry is committed first so no work is ever unrecorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from habeas.errors import AccessDenied
from habeas.governance.authz import AccessContext, Resource, authorize
from habeas.resolve.quality import evaluate_index
from habeas.resolve.run import resolve, resolve_incremental
from habeas.sources.access import readable_sources, record, require_sources
from habeas.sources.ingest import IngestResult, ingest
from habeas.sources.registry import usable_source
from habeas.store.staging import StagingStore

if TYPE_CHECKING:  # the resolver pulls in Splink: load it only when resolving
    from habeas.resolve.quality import Evaluation
    from habeas.resolve.run import Resolution


def _source_purposes(store: StagingStore, source: str) -> list[str]:
    rows = store.rows(
        "SELECT status, declaration, version, seal FROM sources WHERE name = ?", [source]
    )
    if not rows or not store.source_sealed(source, *rows[0]):
        return []  # unknown, or a row edited outside habeas: no purpose at all
    return list(json.loads(rows[0][1]).get("purposes", []))


def ingest_as(
    engine: Engine,
    store: StagingStore,
    ctx: AccessContext,
    source: str,
    path: Path,
    today: date,
    progress: Callable[[str, float], None] | None = None,
    dry_run: bool = False,
) -> IngestResult:
    """Ingest one file of ``source`` if Cedar allows this caller to, for this purpose (an
    unknown, refused or lapsed source is reported as such first: the registry is not
    personal data). ``dry_run`` reads and validates under the same decision and keeps
    nothing; the outcome entry says so."""
    usable_source(store, source, today)
    resource = Resource("Source", source, {"purposes": _source_purposes(store, source)})
    decision = authorize(ctx, "ingest", resource)
    what = [f"source:{source}", f"file:{path.name}"]
    record(engine, ctx, "ingest", what, decision.allowed, decision.why())
    if not decision.allowed:
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not ingest {source}: "
            f"{decision.why()}"
        )
    result = ingest(
        store, source, path, today, progress=progress or (lambda s, f: None), dry_run=dry_run
    )
    record(
        engine,
        ctx,
        "ingest_done",
        [*what, f"batch:{result.batch_id}"],
        True,
        ("dry run, nothing kept: " if result.dry_run else "")
        + f"read {result.rows_read}, accepted {result.rows_accepted}, quarantined "
        f"{result.rows_quarantined}, values set aside {result.values_set_aside}, new "
        f"{result.rows_new}, updated {result.rows_updated}"
        + ("; already ingested" if result.already_ingested else ""),
    )
    return result


def resolve_as(
    engine: Engine,
    store: StagingStore,
    ctx: AccessContext,
    now: datetime,
    *,
    incremental: bool = False,
    resolver: str = "duckdb",
    reuse_model: bool = False,
    progress: Callable[[str], None] | None = None,
    learn: bool = False,
) -> Resolution:
    """Resolve the records of every source whose records this caller may resolve for this
    purpose; the others are left out of the index (and named in the audit entry).
    ``learn`` re-estimates the model from reviewers' decisions first; the outcome entry
    says how many and what changed."""

    why = readable_sources(store, ctx, "resolve")
    allowed = sorted(s for s, w in why.items() if w == "allowed")
    withheld = sorted(set(why) - set(allowed))
    if not allowed:
        reason = "; ".join(f"{s}: {w}" for s, w in sorted(why.items())) or "no source"
        record(engine, ctx, "resolve", ["person_index"], False, reason)
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not resolve: {reason}"
        )
    record(
        engine,
        ctx,
        "resolve",
        ["person_index"],
        True,
        "sources: "
        + ", ".join(allowed)
        + (f"; left out: {', '.join(withheld)}" if withheld else ""),
    )
    if incremental:
        result = resolve_incremental(store, now, progress=progress, sources=allowed)
    else:
        result = resolve(
            store,
            now,
            engine=resolver,  # type: ignore[arg-type]
            reuse_model=reuse_model,
            progress=progress,
            sources=allowed,
            learn=learn,
        )
    record(
        engine,
        ctx,
        "resolve_done",
        ["person_index", f"run:{result.run_id}"],
        True,
        f"{result.records:,} records, {result.persons:,} persons"
        + ("; " + "; ".join(result.learned) if result.learned else ""),
    )
    return result


def evaluate_as(engine: Engine, store: StagingStore, ctx: AccessContext, truth: Path) -> Evaluation:
    """Score the index against a truth file: needs ``resolve`` on every indexed source."""

    needed = {r[0] for r in store.rows("SELECT DISTINCT source FROM records")}
    require_sources(
        engine, store, ctx, "evaluate_index", needed, ["person_index"], cedar_action="resolve"
    )
    return evaluate_index(store, truth)
