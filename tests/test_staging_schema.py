"""The staging store owns its tables and records its schema version: a store at this
version opens without looking at its tables, an older one is brought up once, a newer one
is refused; its statements are logged and timed in one place."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from habeas.errors import HabeasError
from habeas.store import staging
from habeas.store.staging import SCHEMA_VERSION, StagingStore


def test_a_current_store_opens_without_looking_at_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    StagingStore(tmp_path / "s.duckdb").close()
    looked: list[str] = []
    monkeypatch.setattr(StagingStore, "_add_new_columns", lambda self: looked.append("x"))
    StagingStore(tmp_path / "s.duckdb").close()
    assert looked == []


def test_an_older_store_is_brought_up_to_this_schema_once(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with StagingStore(path) as st:
        st.execute("ALTER TABLE quarantine DROP COLUMN retain_until")
        st.execute("DROP TABLE schema_version")
        st.execute("DROP TABLE resolution_runs")
    with StagingStore(path) as st:
        assert "retain_until" in {r[0] for r in st.rows("DESCRIBE quarantine")}
        assert st.scalar("SELECT count(*) FROM resolution_runs") == 0  # the index's tables too
        assert st.rows("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def test_a_store_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with StagingStore(path) as st:
        st.execute("UPDATE schema_version SET version = ?", [SCHEMA_VERSION + 1])
    with pytest.raises(HabeasError, match="upgrade habeas"):
        StagingStore(path)


def test_statements_are_logged_and_a_slow_one_is_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StagingStore(tmp_path / "s.duckdb") as st:
        with caplog.at_level(logging.DEBUG, logger="habeas.store.staging"):
            assert st.scalar("SELECT 41 + 1") == 42
        assert any("SELECT 41 + 1" in r.getMessage() for r in caplog.records)
        caplog.clear()
        monkeypatch.setattr(staging, "SLOW_STATEMENT", 0.0)
        with (
            caplog.at_level(logging.INFO, logger="habeas.store.staging"),
            st.transaction() as con,
        ):
            con.execute("SELECT count(*) FROM sources").fetchall()
        slow = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
        assert any("SELECT count(*) FROM sources" in m and " s: " in m for m in slow)
