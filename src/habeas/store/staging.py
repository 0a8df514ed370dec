"""The DuckDB staging store: source registry, staged records, batches and quarantine.

One file in the data directory. Every ingest runs in one transaction, so a crash leaves
the store as it was before the batch or after it, never half.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from habeas.errors import HabeasError
from habeas.store.canonical import (
    CANONICAL_FIELDS,
    DERIVED_COLUMNS,
    LINEAGE_COLUMNS,
    ROW_REFUSED,
    VALUE_SET_ASIDE,
)
from habeas.store.keys import load_or_create_key_file

RECORD_COLUMNS: tuple[tuple[str, str], ...] = (
    LINEAGE_COLUMNS
    + tuple((f.name, f.sql_type) for f in CANONICAL_FIELDS.values())
    + DERIVED_COLUMNS
)


def _record_ddl(table: str, extra: str = "") -> str:
    cols = ",\n  ".join(f"{name} {sql_type}" for name, sql_type in RECORD_COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {cols}{extra}\n)"


SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS sources (
        name VARCHAR PRIMARY KEY,
        status VARCHAR NOT NULL,
        refusals VARCHAR[] NOT NULL,
        declaration JSON NOT NULL,
        declaration_path VARCHAR NOT NULL,
        declaration_sha256 VARCHAR NOT NULL,
        registered_at TIMESTAMP NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        seal VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS source_versions (
        name VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        status VARCHAR NOT NULL,
        refusals VARCHAR[] NOT NULL,
        declaration JSON NOT NULL,
        declaration_path VARCHAR NOT NULL,
        declaration_sha256 VARCHAR NOT NULL,
        registrant VARCHAR NOT NULL,
        registered_at TIMESTAMP NOT NULL,
        widens VARCHAR[],
        effective_from TIMESTAMP,
        effective_to TIMESTAMP,
        decided_by VARCHAR,
        decided_at TIMESTAMP,
        decision_reason VARCHAR,
        PRIMARY KEY (name, version)
    )""",
    """CREATE TABLE IF NOT EXISTS tax_requests (
        source VARCHAR NOT NULL,
        request_id VARCHAR NOT NULL,
        entry_no BIGINT NOT NULL,
        given_name VARCHAR,
        family_name VARCHAR,
        street VARCHAR,
        city VARCHAR,
        state VARCHAR,
        zip VARCHAR,
        valid BOOLEAN NOT NULL,
        problem VARCHAR,
        version INTEGER NOT NULL DEFAULT 1
    )""",
    """CREATE TABLE IF NOT EXISTS batches (
        batch_id VARCHAR PRIMARY KEY,
        source VARCHAR NOT NULL,
        file_path VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        file_bytes BIGINT NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        rows_read BIGINT NOT NULL,
        rows_accepted BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        rows_new BIGINT NOT NULL,
        rows_updated BIGINT NOT NULL,
        rows_unchanged BIGINT NOT NULL,
        values_set_aside BIGINT NOT NULL DEFAULT 0
    )""",
    _record_ddl("records"),
    _record_ddl("record_history", ",\n  superseded_at TIMESTAMP,\n  superseded_by_batch VARCHAR"),
    """CREATE TABLE IF NOT EXISTS quarantine (
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        file_path VARCHAR NOT NULL,
        row_number BIGINT,
        field VARCHAR,
        value VARCHAR,
        rule VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        quarantined_at TIMESTAMP NOT NULL,
        disposition VARCHAR NOT NULL DEFAULT '"""
    + ROW_REFUSED
    + """',
        retain_until DATE
    )""",
    """CREATE TABLE IF NOT EXISTS minimization (
        batch_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        values_dropped BIGINT NOT NULL
    )""",
)


INDEX_SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS resolution_runs (
        run_id VARCHAR PRIMARY KEY,
        mode VARCHAR NOT NULL,
        engine VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        seconds DOUBLE NOT NULL,
        records BIGINT NOT NULL,
        persons BIGINT NOT NULL,
        pairs_scored BIGINT NOT NULL,
        match_threshold DOUBLE NOT NULL,
        review_low DOUBLE NOT NULL,
        model_json VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS persons (
        person_id VARCHAR PRIMARY KEY,
        records BIGINT NOT NULL,
        sources VARCHAR[] NOT NULL,
        run_id VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS person_records (
        record_id VARCHAR PRIMARY KEY,
        person_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        linked_via VARCHAR,
        match_probability DOUBLE,
        match_weight DOUBLE,
        how VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS match_pairs (
        record_id_l VARCHAR NOT NULL,
        record_id_r VARCHAR NOT NULL,
        match_weight DOUBLE NOT NULL,
        match_probability DOUBLE NOT NULL,
        run_id VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS person_flags (
        person_id VARCHAR NOT NULL,
        flag VARCHAR NOT NULL,
        detail VARCHAR NOT NULL,
        record_ids VARCHAR[] NOT NULL,
        status VARCHAR NOT NULL,
        raised_at TIMESTAMP NOT NULL,
        resolved_by VARCHAR,
        resolution VARCHAR,
        resolved_at TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS review_queue (
        record_id_l VARCHAR NOT NULL,
        record_id_r VARCHAR NOT NULL,
        person_l VARCHAR NOT NULL,
        person_r VARCHAR NOT NULL,
        match_probability DOUBLE NOT NULL,
        match_weight DOUBLE NOT NULL,
        run_id VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS person_splits (
        person_id VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        kept_apart_from VARCHAR[] NOT NULL,
        run_id VARCHAR NOT NULL
    )""",
    """CREATE SEQUENCE IF NOT EXISTS review_seq START 1""",
    """CREATE TABLE IF NOT EXISTS review_decisions (
        decision_id BIGINT PRIMARY KEY DEFAULT nextval('review_seq'),
        kind VARCHAR NOT NULL,
        record_id_l VARCHAR,
        record_id_r VARCHAR,
        side_a VARCHAR[],
        side_b VARCHAR[],
        decision VARCHAR NOT NULL,
        reviewer VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        decided_at TIMESTAMP NOT NULL,
        undone_by BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS record_corrections (
        correction_id BIGINT PRIMARY KEY,
        record_id VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        old_value VARCHAR,
        new_value VARCHAR,
        corrected_at TIMESTAMP NOT NULL
    )""",
)
"""The person index's tables (``habeas.resolve.index``), beside the records they index."""

ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("quarantine", "disposition", f"VARCHAR DEFAULT '{ROW_REFUSED}'"),
    ("batches", "values_set_aside", "BIGINT DEFAULT 0"),
    ("quarantine", "retain_until", "DATE"),
    ("sources", "version", "INTEGER DEFAULT 1"),
    ("tax_requests", "version", "INTEGER DEFAULT 1"),
    ("sources", "seal", "VARCHAR"),
)
"""Columns added after the first release: (table, column, type and default)."""

SCHEMA_VERSION = 3
"""The staging store's schema as this release defines it (1: before versions were
recorded; 3: corrections kept beside the values they superseded). A store at this
version opens without looking at its tables; an older one is brought up to it once
(columns added, the registry's first versions), then recorded."""

SLOW_STATEMENT = 1.0
"""Seconds after which a statement is logged at INFO (every statement is at DEBUG)."""

_log = logging.getLogger(__name__)


def run_statement(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    """Run one statement on the staging store, logged (DEBUG) and timed (a slow one at
    INFO): the one place statements are seen, as Splink's ``_log_and_run_sql_execution``
    is for its own."""
    first = " ".join(sql.split())[:160]
    _log.debug("staging: %s", first)
    started = time.perf_counter()
    try:
        return con.execute(sql, params) if params is not None else con.execute(sql)
    finally:
        spent = time.perf_counter() - started
        if spent >= SLOW_STATEMENT:
            _log.info("staging: %.1f s: %s", spent, first)


class Statements:
    """The connection a transaction of the store hands out: its statements run through
    ``run_statement``; anything else (register, unregister) is the connection's own."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, params: Any = None) -> Any:
        """Run one statement (logged and timed)."""
        return run_statement(self._con, sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


__all__ = ["RECORD_COLUMNS", "ROW_REFUSED", "VALUE_SET_ASIDE", "StagingStore"]


STAGING_KEY_ENV = "HABEAS_STAGING_KEY_FILE"


def staging_key_path(store_path: Path) -> Path:
    """Where the staging registry's seal key is: the file ``HABEAS_STAGING_KEY_FILE``
    names (one the DuckDB file's writers cannot read), else beside the store."""
    named = os.environ.get(STAGING_KEY_ENV)
    if named:
        if not Path(named).exists():
            raise HabeasError(f"{named} ({STAGING_KEY_ENV}): no such file")
        return Path(named)
    return store_path.with_suffix(".key")


def registry_seal(key: bytes, name: str, status: str, declaration: str, version: int) -> str:
    """HMAC over a registry row (its name, status, declaration and version)."""
    msg = "\x00".join(("source", name, status, declaration, str(int(version or 1))))
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


def sql_literal(text: str) -> str:
    """Quote an SQL string literal (DuckDB)."""
    return "'" + text.replace("'", "''") + "'"


class StagingStore:
    """An open DuckDB staging database with the habeas schema in place."""

    def __init__(self, path: Path | str, threads: int = 2) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(path), config={"threads": threads})
        except duckdb.IOException as exc:
            # DuckDB allows one writing process per file: say so instead of a traceback
            raise HabeasError(f"cannot open the staging store {path}: {exc}") from None
        self.key = (
            load_or_create_key_file(staging_key_path(self.path))
            if isinstance(self.path, Path)
            else secrets.token_bytes(32)
        )
        """The registry's seal key: a file outside the store (beside it, or the file
        ``HABEAS_STAGING_KEY_FILE`` names); copy it with the store."""
        self._ensure_schema()

    def _ensure_schema(self) -> None:
        """Create what is missing; bring a store of an older schema up to this one, once."""
        self.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        found = self.scalar("SELECT max(version) FROM schema_version")
        if found == SCHEMA_VERSION:
            return
        if found is not None and found > SCHEMA_VERSION:
            raise HabeasError(
                f"the staging store {self.path} has schema version {found}; this habeas "
                f"knows {SCHEMA_VERSION}: upgrade habeas"
            )
        for ddl in (*SCHEMA, *INDEX_SCHEMA):
            self.execute(ddl)
        self._add_new_columns()
        self.execute("DELETE FROM schema_version")
        self.execute("INSERT INTO schema_version VALUES (?)", [SCHEMA_VERSION])

    def _add_new_columns(self) -> None:
        """Bring a store made by an earlier version up to the current canonical schema."""
        for table in ("records", "record_history"):
            have = {r[0] for r in self.execute(f"DESCRIBE {table}").fetchall()}
            for name, sql_type in RECORD_COLUMNS:
                if name not in have:
                    self.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
        for table, column, ddl in ADDED_COLUMNS:
            have = {r[0] for r in self.execute(f"DESCRIBE {table}").fetchall()}
            if column not in have:
                self.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
                if (table, column) == ("sources", "seal"):  # sealed as they stand now
                    for (name,) in self.execute("SELECT name FROM sources").fetchall():
                        self.reseal_source(name)
        # a registry from before versioning: its rows become each source's first version
        self.execute(
            "INSERT INTO source_versions (name, version, status, refusals, declaration, "
            "declaration_path, declaration_sha256, registrant, registered_at, effective_from) "
            "SELECT name, version, status, refusals, declaration, declaration_path, "
            "declaration_sha256, 'unrecorded (registered before versioning)', registered_at, "
            "registered_at FROM sources s WHERE NOT EXISTS "
            "(SELECT 1 FROM source_versions v WHERE v.name = s.name)"
        )

    def source_seal(self, name: str, status: str, declaration: str, version: int) -> str:
        """The seal of a registry row: who the source is, its status, its declaration."""
        return registry_seal(self.key, name, status, declaration, version)

    def reseal_source(self, name: str) -> None:
        """Seal the registry row of ``name`` as it now stands (after habeas changed it)."""
        row = self.execute(
            "SELECT status, declaration, version FROM sources WHERE name = ?", [name]
        ).fetchall()
        if row:
            status, decl, version = row[0]
            self.execute(
                "UPDATE sources SET seal = ? WHERE name = ?",
                [self.source_seal(name, status, decl, version), name],
            )

    def source_sealed(
        self, name: str, status: str, declaration: str, version: int, seal: str | None
    ) -> bool:
        """Whether a registry row carries its seal (a row edited outside habeas does not)."""
        expected = self.source_seal(name, status, declaration, version)
        return seal is not None and hmac.compare_digest(expected, seal)

    def close(self) -> None:
        """Close the connection (checkpointing the write-ahead log)."""
        self.con.close()

    def __enter__(self) -> StagingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """All-or-nothing: commit when the block ends, roll back if it raises. The block
        gets the connection whose statements are logged and timed (``Statements``)."""
        self.execute("BEGIN TRANSACTION")
        try:
            yield Statements(self.con)
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def execute(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        """Run one statement (logged and timed); fetch its result before the next."""
        return run_statement(self.con, sql, params)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and fetch every row."""
        rows: list[tuple[Any, ...]] = self.execute(sql, params or []).fetchall()
        return rows

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        """Run a query and return the first column of its first row."""
        rows = self.execute(sql, params or []).fetchall()  # DuckDB 2: drain every result
        return rows[0][0] if rows else None
