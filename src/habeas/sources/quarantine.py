"""Reading the quarantine: every row refused and every value set aside at ingest, with why.

An entry's *disposition* says what became of its row: ``row refused`` (structure, natural
key, a required field, a request's scope) or ``value set aside; record kept`` (a secondary
field failed its check; the record was staged with that field empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from habeas.store.canonical import ROW_REFUSED
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
    disposition: str = ROW_REFUSED


def quarantined(
    store: StagingStore,
    source: str | None = None,
    limit: int = 50,
    sources: list[str] | None = None,
    offset: int = 0,
    disposition: str | None = None,
) -> tuple[list[QuarantinedRow], int]:
    """Up to ``limit`` entries (optionally of one source or disposition) and the total count.

    ``sources`` keeps only rows of those sources (the ones the reader's purpose allows).
    """
    conds: list[str] = []
    params: list[object] = []
    if source:
        conds.append("source = ?")
        params.append(source)
    if disposition:
        conds.append("disposition = ?")
        params.append(disposition)
    if sources is not None:
        conds.append("source IN (SELECT unnest(?))")
        params.append(sources)
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    total = store.scalar(f"SELECT count(*) FROM quarantine {where}", params)
    rows = store.rows(
        "SELECT source, file_path, row_number, field, value, rule, reason, disposition "
        "FROM quarantine "
        f"{where} ORDER BY source, file_path, row_number, field LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [QuarantinedRow(*r) for r in rows], int(total or 0)


def purge(store: StagingStore, on: date) -> dict[str, int]:
    """Delete every entry whose retention ended before ``on`` (entries from before
    retention was recorded are kept 180 days from when they were quarantined); returns
    the count per source."""
    expired = "coalesce(retain_until, CAST(quarantined_at AS DATE) + INTERVAL 180 DAY) < ?"
    with store.transaction() as con:
        counts = con.execute(
            f"SELECT source, count(*) FROM quarantine WHERE {expired} GROUP BY source", [on]
        ).fetchall()
        con.execute(f"DELETE FROM quarantine WHERE {expired}", [on])
    return {s: int(n) for s, n in counts}
