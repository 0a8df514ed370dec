"""Write the clusters out: source, source key, record id, person id."""

from __future__ import annotations

from pathlib import Path

from habeas.errors import HabeasError
from habeas.store.staging import StagingStore

FORMATS = {".csv": "(FORMAT csv, HEADER true)", ".parquet": "(FORMAT parquet)"}


def csv_safe_sql(expr: str) -> str:
    """SQL for a text value written to CSV: a leading formula character (= + - @ tab CR,
    OWASP's CSV injection list) is prefixed with ``'`` so a spreadsheet shows it as text."""
    return (
        f"CASE WHEN regexp_matches({expr}, '^[-=+@\\t\\r]') THEN chr(39) || {expr} ELSE {expr} END"
    )


def export_clusters(
    store: StagingStore,
    out: Path,
    sources: list[str] | None = None,
    masked: list[str] | None = None,
) -> int:
    """Write indexed records with their person to ``out`` (.csv or .parquet); rows written.

    ``sources`` limits the export to records of those sources (the ones the reader's
    purpose allows); None exports every source. ``masked``: sources whose natural key
    holds an identifier the reader may not see whole (written with all but its last four
    letters and digits hidden).
    """
    options = FORMATS.get(out.suffix.lower())
    if options is None:
        raise HabeasError(f"{out}: export to a .csv or .parquet file")
    if not out.parent.is_dir():
        raise HabeasError(f"{out.parent}: no such directory")
    n = int(store.con.execute("SELECT count(*) FROM person_records").fetchall()[0][0])
    if n == 0:
        raise HabeasError("no index yet: run `habeas resolve` first")
    path = str(out).replace("'", "''")
    keep = "" if sources is None else "WHERE r.source IN (SELECT unnest($sources))"
    key = "r.source_key"
    if masked:
        key = (
            "CASE WHEN r.source IN (SELECT unnest($masked)) THEN "
            "regexp_replace(left(r.source_key, greatest(length(r.source_key) - 4, 0)), "
            "'[A-Za-z0-9]', '*', 'g') || right(r.source_key, least(4, length(r.source_key) - 1))"
            " ELSE r.source_key END"
        )
    if out.suffix.lower() == ".csv":  # a spreadsheet must not read a key as a formula
        key = f"{csv_safe_sql(key)} AS source_key"
    elif masked:
        key = f"{key} AS source_key"
    query = f"""SELECT r.source, {key}, p.record_id, p.person_id
                FROM person_records p JOIN records r USING (record_id) {keep}
                ORDER BY p.person_id, r.source, r.source_key"""
    params: dict[str, list[str]] = {} if sources is None else {"sources": sources}
    if masked:
        params["masked"] = masked
    written = int(store.con.execute(f"SELECT count(*) FROM ({query})", params).fetchall()[0][0])
    store.con.execute(f"COPY ({query}) TO '{path}' {options}", params)
    return written
