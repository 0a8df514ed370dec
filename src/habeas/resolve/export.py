"""Write the clusters out: source, source key, record id, person id."""

from __future__ import annotations

from pathlib import Path

from habeas.errors import HabeasError
from habeas.resolve.index import ensure_schema
from habeas.store.staging import StagingStore

FORMATS = {".csv": "(FORMAT csv, HEADER true)", ".parquet": "(FORMAT parquet)"}


def csv_safe_sql(expr: str) -> str:
    """SQL for a text value written to CSV: a leading formula character (= + - @ tab CR,
    OWASP's CSV injection list) is prefixed with ``'`` so a spreadsheet shows it as text."""
    return (
        f"CASE WHEN regexp_matches({expr}, '^[-=+@\\t\\r]') THEN chr(39) || {expr} ELSE {expr} END"
    )


def export_clusters(store: StagingStore, out: Path, sources: list[str] | None = None) -> int:
    """Write indexed records with their person to ``out`` (.csv or .parquet); rows written.

    ``sources`` limits the export to records of those sources (the ones the reader's
    purpose allows); None exports every source.
    """
    options = FORMATS.get(out.suffix.lower())
    if options is None:
        raise HabeasError(f"{out}: export to a .csv or .parquet file")
    if not out.parent.is_dir():
        raise HabeasError(f"{out.parent}: no such directory")
    ensure_schema(store.con)
    n = int(store.con.execute("SELECT count(*) FROM person_records").fetchall()[0][0])
    if n == 0:
        raise HabeasError("no index yet: run `habeas resolve` first")
    path = str(out).replace("'", "''")
    keep = "" if sources is None else "WHERE r.source IN (SELECT unnest($sources))"
    key = "r.source_key"
    if out.suffix.lower() == ".csv":  # a spreadsheet must not read a key as a formula
        key = f"{csv_safe_sql(key)} AS source_key"
    query = f"""SELECT r.source, {key}, p.record_id, p.person_id
                FROM person_records p JOIN records r USING (record_id) {keep}
                ORDER BY p.person_id, r.source, r.source_key"""
    params = {} if sources is None else {"sources": sources}
    written = int(store.con.execute(f"SELECT count(*) FROM ({query})", params).fetchall()[0][0])
    store.con.execute(f"COPY ({query}) TO '{path}' {options}", params)
    return written
