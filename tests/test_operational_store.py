"""The operational store: migrations from empty and back, WAL mode, optimistic versions."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm.exc import StaleDataError

from habeas.store.models import Case
from habeas.store.operational import current_revision, make_engine, session_factory, upgrade


def test_migrations_run_from_empty_and_down_and_up_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == "0001"
    tables = set(inspect(engine).get_table_names())
    assert {"users", "api_tokens", "cases", "audit_entries", "audit_head"} <= tables
    from alembic import command
    from alembic.config import Config

    from habeas.store.operational import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert current_revision(engine) is None
    assert "cases" not in set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == "0001"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    upgrade(engine)
    con = sqlite3.connect(tmp_path / "h.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_stale_write_is_refused_not_applied(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    now = datetime(2026, 11, 2)
    with sessions.begin() as s:
        s.add(Case(person_id="P1", state="identified", note="", updated_at=now))
    first, second = sessions(), sessions()
    a = first.get(Case, 1)
    b = second.get(Case, 1)
    second.commit()  # the second officer read the case in an earlier request
    assert a is not None and b is not None and a.version == b.version == 1
    a.state = "under_review"
    first.commit()
    b.note = "written from a stale copy"
    with pytest.raises(StaleDataError):
        second.commit()
    second.rollback()
    with sessions() as s:
        case = s.get(Case, 1)
        assert case is not None
        assert (case.state, case.note, case.version) == ("under_review", "", 2)
