"""The operational store: migrations from empty and back, WAL mode, optimistic versions."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm.exc import StaleDataError

from habeas.app.audit_log import verify_store
from habeas.governance import audit
from habeas.governance.identity import bootstrap_admin
from habeas.store.models import Case
from habeas.store.operational import (
    current_revision,
    downgrade,
    make_engine,
    reading,
    revisions,
    session_factory,
    upgrade,
)


def test_migrations_run_from_empty_and_down_and_up_again(store_url: str) -> None:
    engine = make_engine(store_url)
    assert current_revision(engine) is None
    upgrade(engine)
    head = revisions()[-1]
    assert current_revision(engine) == head
    tables = set(inspect(engine).get_table_names())
    assert {"users", "api_tokens", "cases", "audit_entries", "audit_head"} <= tables
    assert {"instruments", "case_events"} <= tables
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert "cases" not in set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == head


@pytest.mark.parametrize("start", revisions()[:-1])
def test_a_store_at_every_earlier_version_upgrades_keeping_its_rows(
    store_url: str, start: str
) -> None:
    """A store used at an earlier version (a case, users, audited reads) upgrades to the
    head with its rows intact and its audit chain still whole."""
    from habeas.store import keys

    engine = make_engine(store_url)
    keys.register(engine, b"k" * 32)  # the application loads it when it connects
    upgrade(engine, start)
    assert current_revision(engine) == start
    with session_factory(engine).begin() as s:
        assert bootstrap_admin(s, "ig_admin", "pw-admin-long-1").role == "admin"
        s.execute(
            text(
                "INSERT INTO cases (id, person_id, state, note, counsel, updated_at, version) "
                "VALUES (7, 'P42', 'identified', 'kept', NULL, :t, 3)"
            ),
            {"t": datetime(2026, 1, 2, 3, 4, 5)},
        )
        audit.append(
            s,
            user="ig_admin",
            role="admin",
            purpose="oversight",
            action="seed",
            resources=["case:7"],
            decision="allow",
        )
        if "0002" <= start < "0005":  # a case event recorded before 0005 chained histories
            s.execute(
                text(
                    "INSERT INTO case_events (case_id, at, kind, actor, role, state_after, "
                    "payload) VALUES (7, :t, 'opened', 'o1', 'case_officer', 'identified', "
                    '\'{"on": "2026-01-02"}\')'
                ),
                {"t": datetime(2026, 1, 2, 3, 4, 6)},
            )
    if start >= "0011":  # a row written by a habeas that seals case rows
        from habeas.cases.history import case_seal

        with engine.begin() as conn:
            conn.execute(
                text("UPDATE cases SET history_token = :t WHERE id = 7"),
                {"t": case_seal(b"k" * 32, 7, "identified", "")},
            )
    before = verify_store(engine)
    upgrade(engine)
    assert current_revision(engine) == revisions()[-1]
    with session_factory(engine)() as s:
        case = s.get(Case, 7)
        assert case is not None
        assert (case.person_id, case.note, case.version) == ("P42", "kept", 3)
        if start == "0001":  # 0002 added opened_at and filled it from updated_at
            assert case.opened_at == datetime(2026, 1, 2, 3, 4, 5)
    after = verify_store(engine)
    # the upgrade chained the case's history and named it in the log (one entry), then
    # keyed it with the history key (one more)
    chained = 1 if "0002" <= start < "0005" else 0
    keyed = chained if start < "0005" else 0
    assert after.ok, after.history_problem or after.first_break
    assert after.entries == before.entries + chained + keyed
    assert after.case_events == chained


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    upgrade(engine)
    con = sqlite3.connect(tmp_path / "h.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_stale_write_is_refused_not_applied(store_url: str) -> None:
    engine = make_engine(store_url)
    upgrade(engine)
    sessions = session_factory(engine)
    now = datetime(2026, 11, 2)
    with sessions.begin() as s:
        s.add(Case(person_id="P1", state="identified", note="", updated_at=now))
    # the second officer read the case in an earlier request (a reader: on SQLite a writer's
    # transaction holds the write lock from its start, so two writers would queue)
    first, second = sessions(), session_factory(reading(engine))()
    b = second.get(Case, 1)
    second.commit()
    a = first.get(Case, 1)
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


@pytest.mark.parametrize("tamper", ["edit", "delete", "swap"])
def test_tampering_is_found_on_either_database(store_url: str, tamper: str) -> None:
    from sqlalchemy import text

    from habeas.governance import audit

    engine = make_engine(store_url)
    upgrade(engine)
    sessions = session_factory(engine)
    for i in range(6):
        with sessions.begin() as s:
            audit.append(
                s,
                user=f"u{i}",
                role="case_officer",
                purpose="case_review",
                action="read_case",
                resources=[f"case:{i}"],
                decision="allow",
            )
    assert verify_store(engine).ok
    with engine.begin() as conn:  # as a database administrator would, outside habeas
        if tamper == "edit":
            conn.execute(text("UPDATE audit_entries SET purpose = 'oversight' WHERE seq = 3"))
        elif tamper == "delete":
            conn.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
        else:
            conn.execute(text("UPDATE audit_entries SET seq = 100 WHERE seq = 3"))
            conn.execute(text("UPDATE audit_entries SET seq = 3 WHERE seq = 4"))
            conn.execute(text("UPDATE audit_entries SET seq = 4 WHERE seq = 100"))
    v = verify_store(engine)
    assert not v.ok and v.first_break is not None and v.first_break.position == 3
