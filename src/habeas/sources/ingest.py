"""Ingestion: read, validate, minimize, stage with lineage, quarantine what fails.

``ingest`` is idempotent (a file already ingested changes nothing) and atomic (one
transaction: a crash leaves the store as before the batch or after it).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from habeas.sources.corrections import reapply_corrections
from habeas.sources.readers import RawFile, quote_ident, read_source_file
from habeas.sources.registry import usable_source
from habeas.sources.validate import ROW_ERROR, build_validation_query, tax_scope_sql
from habeas.store.staging import (
    RECORD_COLUMNS,
    ROW_REFUSED,
    VALUE_SET_ASIDE,
    StagingStore,
    sql_literal,
)

Progress = Callable[[str, float], None]
"""Called with a stage name (read, validate, write, commit, done) and a share done."""

_log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """What one ingest did, for the summary and the tests."""

    source: str
    path: Path
    batch_id: str
    file_sha256: str
    already_ingested: bool = False
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_new: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    values_set_aside: int = 0
    """Values that failed their field's check and were set aside; their rows were kept."""
    dropped: dict[str, int] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)
    """Why rows were refused whole: reason → entries."""
    set_aside: Counter[str] = field(default_factory=Counter)
    """Why values were set aside in rows that were kept: reason → values."""
    filled: dict[str, int] = field(default_factory=dict)
    """Canonical field → records staged with a value in it (the feed's profile)."""
    dry_run: bool = False
    """Validated and counted, then rolled back: nothing was staged or quarantined."""
    seconds: float = 0.0


def batch_id_for(source: str, file_sha256: str, version: int = 1) -> str:
    """Deterministic batch id: the same file into the same version of a source is the same
    batch (after the declaration changes, the file is validated again under the new one)."""
    return f"{source}-{file_sha256[:16]}" + (f"-v{version}" if version > 1 else "")


def record_id_sql(source: str) -> str:
    """SQL for a record id from the natural key text ``_key`` (see ``habeas.ids``)."""
    return f"'r' || sha256({sql_literal(source)} || chr(31) || _key)[1:20]"


def _noop(stage: str, share: float) -> None:
    return None


class _RollBack(Exception):
    """Raised inside a dry run's transaction so that nothing it wrote stays."""


def _logged(source: str, progress: Progress) -> Progress:
    """Each stage of an ingest logged (the stage boundaries of a long job), then passed on."""

    def step(stage: str, share: float) -> None:
        _log.info("ingest %s: %s (%.0f%%)", source, stage, share * 100)
        progress(stage, share)

    return step


def ingest(
    store: StagingStore,
    source: str,
    path: Path,
    today: date | None = None,
    progress: Progress = _noop,
    dry_run: bool = False,
) -> IngestResult:
    """Ingest one file of a registered source; see the module docstring for guarantees.

    ``dry_run`` validates the whole file and reports what an ingest would stage, refuse
    and set aside (with each field's fill), then rolls back: an analyst reads how a
    declaration meets a new feed before anything is kept.
    """
    started = time.perf_counter()
    today = today or date.today()
    decl = usable_source(store, source, today)
    progress = _logged(source, progress)
    progress("read", 0.0)
    raw = read_source_file(path, decl)
    version = int(store.scalar("SELECT version FROM sources WHERE name = ?", [source]) or 1)
    batch_id = batch_id_for(source, raw.sha256, version)
    result = IngestResult(source, path, batch_id, raw.sha256)
    if store.scalar("SELECT count(*) FROM batches WHERE batch_id = ?", [batch_id]):
        result.already_ingested = True
        result.seconds = time.perf_counter() - started
        progress("done", 1.0)
        return result
    con = store.con
    con.register("raw", raw.table)
    try:
        progress("validate", 0.2)
        if decl.tax is not None:
            con.execute(f"CREATE OR REPLACE TEMP TABLE tax_scope AS {tax_scope_sql(source)}")
        query = build_validation_query(
            decl,
            raw.column_sql,
            raw.bad_utf8_sql,
            raw.row_filter_sql,
            raw.struct_error_sql,
            raw.struct_text_sql,
            today,
            raw.nested_sql,
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS {query.sql}")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE keyed AS SELECT *, "
            f"{record_id_sql(source)} AS record_id, "
            "min(_row) OVER (PARTITION BY _key) AS _first_row FROM checked "
            f"WHERE _struct IS NULL AND len(list_filter(_errors, lambda x: {ROW_ERROR})) = 0"
        )
        dropped = _dropped_counts(store, raw)
        progress("write", 0.5)
        now = datetime.now().replace(microsecond=0)
        result.filled = _filled(store, query.canonical)
        try:
            with store.transaction():
                _write_batch(
                    store,
                    decl.name,
                    decl.retention_days,
                    raw,
                    batch_id,
                    now,
                    query.canonical,
                    version,
                )
                _write_quarantine(
                    store, decl.name, raw, batch_id, now, decl.retention_days, decl.tax is not None
                )
                for fld, n in dropped.items():
                    con.execute(
                        "INSERT INTO minimization VALUES (?, ?, ?, ?)",
                        [batch_id, decl.name, fld, n],
                    )
                reapply_corrections(store)
                progress("commit", 0.95)
                _read_outcome(store, result, batch_id)
                if dry_run:
                    raise _RollBack
        except _RollBack:
            result.dry_run = True
        result.dropped = dropped
    finally:
        con.unregister("raw")
        for tmp in ("checked", "keyed", "tax_scope"):
            con.execute(f"DROP TABLE IF EXISTS {tmp}")
    result.seconds = time.perf_counter() - started
    progress("done", 1.0)
    return result


def _read_outcome(store: StagingStore, result: IngestResult, batch_id: str) -> None:
    """The batch's counts and the quarantine's reasons, read inside its transaction."""
    (
        result.rows_read,
        result.rows_accepted,
        result.rows_quarantined,
        result.rows_new,
        result.rows_updated,
        result.rows_unchanged,
        result.values_set_aside,
    ) = store.rows(
        "SELECT rows_read, rows_accepted, rows_quarantined, rows_new, rows_updated, "
        "rows_unchanged, values_set_aside FROM batches WHERE batch_id = ?",
        [batch_id],
    )[0]
    for fld, rule, reason, disposition, n in store.rows(
        "SELECT field, rule, reason, disposition, count(*) FROM quarantine "
        "WHERE batch_id = ? GROUP BY ALL ORDER BY 5 DESC",
        [batch_id],
    ):
        text = f"{rule}: {reason}" if fld is None else f"{fld}: {reason}"
        (result.set_aside if disposition == VALUE_SET_ASIDE else result.reasons)[text] = n


def _filled(store: StagingStore, canonical: list[str]) -> dict[str, int]:
    """How many records to be staged hold a value in each canonical field."""
    if not canonical:
        return {}
    counts = ", ".join(f"count({quote_ident(c)})" for c in canonical)
    row = store.rows(f"SELECT {counts} FROM keyed WHERE _row = _first_row")[0]
    return {c: int(n) for c, n in zip(canonical, row, strict=True)}


def _dropped_counts(store: StagingStore, raw: RawFile) -> dict[str, int]:
    if raw.dropped_sql is None:
        return {}
    con = store.con
    if raw.json_lines:  # undeclared keys are counted over the lines that parse
        con.execute(
            "CREATE OR REPLACE TEMP VIEW ok_raw AS SELECT _line FROM raw "
            "WHERE NOT _bad AND json_valid(_line) AND json_type(_line) = 'OBJECT'"
        )
    rows = store.rows(f"SELECT field, sum(n)::BIGINT FROM ({raw.dropped_sql}) GROUP BY field")
    return {fld: int(n) for fld, n in sorted(rows) if n}


def _write_batch(
    store: StagingStore,
    source: str,
    retention_days: int,
    raw: RawFile,
    batch_id: str,
    now: datetime,
    canonical: list[str],
    version: int = 1,
) -> None:
    con = store.con
    lineage = {
        "source_version": str(int(version)),
        "record_id": "record_id",
        "source": sql_literal(source),
        "source_key": "replace(_key, chr(31), '|')",
        "batch_id": sql_literal(batch_id),
        "file_sha256": sql_literal(raw.sha256),
        "row_number": "_row",
        "ingested_at": f"TIMESTAMP '{now.isoformat(sep=' ')}'",
        "retain_until": f"DATE '{now.date().isoformat()}' + INTERVAL {retention_days} DAY",
    }
    content = (
        "md5(concat_ws(chr(31), "
        + ", ".join(
            f"coalesce(CAST({quote_ident(c)} AS VARCHAR), chr(0))" for c in sorted(canonical)
        )
        + "))"
    )
    lineage["content_hash"] = content
    select = []
    for name, sql_type in RECORD_COLUMNS:
        if name in lineage:
            select.append(f"{lineage[name]} AS {name}")
        elif name in canonical:
            select.append(quote_ident(name))
        else:
            select.append(f"NULL::{sql_type} AS {name}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE incoming AS SELECT {', '.join(select)} FROM keyed "
        "WHERE _row = _first_row"
    )
    [(new, updated, unchanged)] = store.rows(
        "SELECT count(*) FILTER (WHERE r.record_id IS NULL), "
        "count(*) FILTER (WHERE r.content_hash <> i.content_hash), "
        "count(*) FILTER (WHERE r.content_hash = i.content_hash) "
        "FROM incoming i LEFT JOIN records r USING (record_id)"
    )
    cols = ", ".join(n for n, _ in RECORD_COLUMNS)
    con.execute(
        f"INSERT INTO record_history SELECT {', '.join('r.' + n for n, _ in RECORD_COLUMNS)}, "
        f"TIMESTAMP '{now.isoformat(sep=' ')}', {sql_literal(batch_id)} "
        "FROM records r JOIN incoming i USING (record_id) WHERE r.content_hash <> i.content_hash"
    )
    con.execute(
        "DELETE FROM records WHERE record_id IN (SELECT i.record_id FROM incoming i "
        "JOIN records r USING (record_id) WHERE r.content_hash <> i.content_hash)"
    )
    con.execute(
        f"INSERT INTO records ({cols}) SELECT {cols} FROM incoming "
        "WHERE record_id NOT IN (SELECT record_id FROM records)"
    )
    # an unchanged record read again under a newer declaration is now held under it
    con.execute(
        f"UPDATE records SET source_version = {int(version)} WHERE record_id IN "
        "(SELECT record_id FROM incoming) AND coalesce(source_version, 1) <> "
        f"{int(version)}"
    )
    rows_read = int(store.scalar("SELECT count(*) FROM checked")) + len(raw.rejects)
    rows_accepted = int(store.scalar("SELECT count(*) FROM incoming"))
    set_aside = int(
        store.scalar(
            "SELECT coalesce(sum(len(list_filter(_errors, lambda x: x.kind <> 'row'))), 0) "
            "FROM keyed WHERE _row = _first_row"
        )
    )
    con.execute(
        "INSERT INTO batches (batch_id, source, file_path, file_sha256, file_bytes, started_at, "
        "finished_at, rows_read, rows_accepted, rows_quarantined, rows_new, rows_updated, "
        "rows_unchanged, values_set_aside) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            batch_id,
            source,
            str(raw.path),
            raw.sha256,
            raw.size,
            now,
            datetime.now(),
            rows_read,
            rows_accepted,
            rows_read - rows_accepted,
            new,
            updated,
            unchanged,
            set_aside,
        ],
    )
    con.execute("DROP TABLE IF EXISTS incoming")


QUARANTINE_COLUMNS = (
    "batch_id, source, file_path, row_number, field, value, rule, reason, quarantined_at, "
    "disposition, retain_until"
)
QUARANTINE_DAYS = 180
"""Quarantine is kept for the source's retention period, at most this long, then purged."""
OUT_OF_SCOPE = "tax-6103-request-scope"


def _write_quarantine(
    store: StagingStore,
    source: str,
    raw: RawFile,
    batch_id: str,
    now: datetime,
    retention_days: int,
    taxed: bool,
) -> None:
    """Every refused row and set-aside value, with why. Kept are only values of declared
    fields: a row broken in its structure keeps its file and row number, never its text
    (which holds the fields minimization drops), and a tax row outside the request keeps
    only its row number — return information the request does not cover is not retained."""
    con = store.con
    head = f"{sql_literal(batch_id)}, {sql_literal(source)}, {sql_literal(str(raw.path))}"
    days = min(retention_days, QUARANTINE_DAYS)
    at = f"TIMESTAMP '{now.isoformat(sep=' ')}'"
    until = f"DATE '{now.date().isoformat()}' + INTERVAL {days} DAY"
    into = f"INSERT INTO quarantine ({QUARANTINE_COLUMNS})"
    refused, kept = sql_literal(ROW_REFUSED), sql_literal(VALUE_SET_ASIDE)
    con.execute(
        f"{into} SELECT {head}, _row, NULL, NULL, 'structure', _struct, {at}, {refused}, "
        f"{until} FROM checked WHERE _struct IS NOT NULL"
    )
    scope = sql_literal(OUT_OF_SCOPE)
    out_of_scope = f"list_contains(list_transform(_errors, lambda x: x.rule), {scope})"
    if taxed:
        con.execute(
            f"{into} SELECT {head}, _row, NULL, NULL, {scope}, "
            f"list_filter(_errors, lambda x: x.rule = {scope})[1].reason, {at}, {refused}, "
            f"{until} FROM checked WHERE {out_of_scope}"
        )
    # a row kept (no row-level error, first of its key) keeps its fields' entries as values
    # set aside; a refused row's entries all say the row was refused
    con.execute(
        f"{into} SELECT {head}, c._row, e.field, e.value, e.rule, e.reason, {at}, "
        f"CASE WHEN k._row IS NOT NULL AND k._row = k._first_row AND e.kind <> 'row' "
        f"THEN {kept} ELSE {refused} END, {until} "
        "FROM (SELECT _row, unnest(_errors) AS e FROM checked WHERE len(_errors) > 0"
        + (f" AND NOT {out_of_scope}" if taxed else "")
        + ") c "
        "LEFT JOIN keyed k USING (_row)"
    )
    con.execute(
        f"{into} SELECT {head}, _row, NULL, NULL, 'duplicate-key', "
        "'natural key ' || replace(_key, chr(31), '|') || ' repeats row ' || _first_row, "
        f"{at}, {refused}, {until} FROM keyed WHERE _row <> _first_row"
    )
    if raw.rejects:
        retain = now.date() + timedelta(days=days)
        con.executemany(
            f"{into} VALUES (?, ?, ?, ?, NULL, NULL, 'structure', ?, ?, ?, ?)",
            [
                [batch_id, source, str(raw.path), r.row_number, r.reason, now, ROW_REFUSED, retain]
                for r in raw.rejects
            ],
        )


__all__ = ["IngestResult", "Progress", "batch_id_for", "ingest"]
