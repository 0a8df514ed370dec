"""Publishing the index into the operational store: whole or not at all, again and again,
and a resolved flag stays resolved while its evidence is the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import copy_staging
from sqlalchemy import func, select, update

from habeas.resolve import publish as pub
from habeas.store.keys import register as register_key
from habeas.store.models import IndexFlag, IndexPerson, IndexRecord, IndexRun
from habeas.store.operational import make_engine, session_factory, upgrade
from habeas.store.staging import StagingStore


@pytest.fixture
def staged(resolved: Path, tmp_path: Path) -> StagingStore:
    dest = tmp_path / "staging.duckdb"
    copy_staging(resolved, dest)
    st = StagingStore(dest)
    yield st
    st.close()


def _counts(engine: Any) -> tuple[int, int, int]:
    with session_factory(engine)() as s:
        return tuple(
            s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (IndexRecord, IndexPerson, IndexFlag)
        )  # type: ignore[return-value]


def test_publishing_again_gives_the_same_index_and_keeps_resolutions(
    staged: StagingStore, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'op.db'}")
    upgrade(engine)
    register_key(engine, b"test-history-key-of-32-bytes-xx!")
    run = staged.rows("SELECT run_id FROM resolution_runs")[0][0]
    n = pub.publish(engine, staged, run)
    first = _counts(engine)
    assert n == first[0] == staged.scalar("SELECT count(*) FROM person_records")
    with session_factory(engine)() as s:
        flag = s.execute(select(IndexFlag).where(IndexFlag.flag == "citizenship")).scalars().first()
        assert flag is not None
        key = (flag.person_id, flag.flag)
        s.execute(
            update(IndexFlag)
            .where(IndexFlag.id == flag.id)
            .values(status="resolved", resolved_by="super1", resolution="checked the passport file")
        )
        s.commit()
    assert pub.publish(engine, staged, run) == n and _counts(engine) == first
    with session_factory(engine)() as s:
        again = s.execute(
            select(IndexFlag).where(IndexFlag.person_id == key[0], IndexFlag.flag == key[1])
        ).scalar_one()
        assert (again.status, again.resolved_by) == ("resolved", "super1")
        assert s.execute(select(func.count()).select_from(IndexRun)).scalar_one() == 1
    # new evidence behind the flag: it is raised again
    staged.con.execute(
        "UPDATE person_flags SET record_ids = list_append(record_ids, 'r-new') "
        "WHERE person_id = ? AND flag = ?",
        list(key),
    )
    pub.publish(engine, staged, run)
    with session_factory(engine)() as s:
        fresh = s.execute(
            select(IndexFlag).where(IndexFlag.person_id == key[0], IndexFlag.flag == key[1])
        ).scalar_one()
        assert fresh.status == "open" and "r-new" in fresh.record_ids


def test_a_publish_that_fails_half_way_leaves_the_previous_index(
    staged: StagingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'op.db'}")
    upgrade(engine)
    register_key(engine, b"test-history-key-of-32-bytes-xx!")
    run = staged.rows("SELECT run_id FROM resolution_runs")[0][0]
    pub.publish(engine, staged, run)
    before = _counts(engine)
    real = pub._insert

    def failing(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
        if table is IndexFlag:
            raise RuntimeError("disk full")
        real(conn, table, rows)

    monkeypatch.setattr(pub, "_insert", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        pub.publish(engine, staged, run)
    assert _counts(engine) == before


def test_name_keys_fold_accents_case_and_punctuation() -> None:
    assert pub.name_key("  María-José  O'Brien ") == "maria jose o brien"
    assert pub.name_key(None) == ""
