"""Reading the quarantine: every row refused at ingest, with why."""

from __future__ import annotations

from dataclasses import dataclass

from habeas.store.staging import StagingStore


@dataclass(frozen=True)
class QuarantinedRow:
    """One refused value or row."""

    source: str
    file_path: str
    row_number: int | None
    field: str | None
    value: str | None
    rule: str
    reason: str


def quarantined(
    store: StagingStore,
    source: str | None = None,
    limit: int = 50,
    sources: list[str] | None = None,
    offset: int = 0,
) -> tuple[list[QuarantinedRow], int]:
    """Up to ``limit`` quarantined rows (optionally of one source) and the total count.

    ``sources`` keeps only rows of those sources (the ones the reader's purpose allows).
    """
    conds: list[str] = []
    params: list[object] = []
    if source:
        conds.append("source = ?")
        params.append(source)
    if sources is not None:
        conds.append("source IN (SELECT unnest(?))")
        params.append(sources)
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    total = store.scalar(f"SELECT count(*) FROM quarantine {where}", params)
    rows = store.rows(
        "SELECT source, file_path, row_number, field, value, rule, reason FROM quarantine "
        f"{where} ORDER BY source, file_path, row_number, field LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [QuarantinedRow(*r) for r in rows], int(total or 0)
