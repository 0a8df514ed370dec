"""The audit chain: appends, verification, and every kind of tampering, done to the
database file directly with sqlite3 (as an administrator with file access could)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from habeas.app.audit_log import verify_store
from habeas.governance import audit
from habeas.governance.chain import (
    GENESIS,
    Checkpoint,
    Entry,
    entry_hash,
    merkle_root,
    verify_chain,
)
from habeas.store.keys import register as register_key
from habeas.store.operational import make_engine, session_factory, upgrade

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _log(tmp_path: Path, n: int = 8) -> tuple[Path, Engine]:
    path = tmp_path / "habeas.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    register_key(engine, b"test-history-key-of-32-bytes-xx!")
    sessions = session_factory(engine)
    for i in range(n):
        with sessions.begin() as s:
            audit.append(
                s,
                user=f"user{i % 3}",
                role="case_officer",
                purpose="case_review",
                action="read_case",
                resources=[f"case:{i}", f"person:P{i}"],
                decision="allow" if i % 4 else "deny",
                request_id=f"req{i}",
                now=T0 + timedelta(minutes=i),
            )
    return path, engine


def _sql(path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    con = sqlite3.connect(path)
    con.execute(sql, params)
    con.commit()
    con.close()


def test_an_untouched_log_verifies(tmp_path: Path) -> None:
    _, engine = _log(tmp_path)
    v = verify_store(engine)
    assert v.ok and v.entries == 8 and v.first_break is None


def test_an_edited_entry_is_found(tmp_path: Path) -> None:
    path, engine = _log(tmp_path)
    _sql(path, "UPDATE audit_entries SET decision = 'allow' WHERE seq = 5")  # was a denial
    v = verify_store(engine)
    assert not v.ok and v.first_break is not None
    assert v.first_break.seq == 5 and "edited" in v.first_break.reason
    assert v.entries == 4


def test_an_edit_with_a_recomputed_hash_still_breaks_the_next_link(tmp_path: Path) -> None:
    path, engine = _log(tmp_path)
    con = sqlite3.connect(path)
    prev = con.execute("SELECT prev_hash FROM audit_entries WHERE seq = 5").fetchone()[0]
    con.close()
    forged = Entry(
        5,
        (T0 + timedelta(minutes=4)).isoformat(timespec="microseconds"),
        "user1",
        "case_officer",
        "case_review",
        "read_case",
        ("case:4", "person:P4"),
        "allow",
        "req4",
    )
    _sql(
        path,
        "UPDATE audit_entries SET decision='allow', entry_hash=? WHERE seq=5",
        (entry_hash(prev, forged),),
    )
    v = verify_store(engine)
    assert v.first_break is not None and v.first_break.seq == 6
    assert "previous entry's hash" in v.first_break.reason


def test_a_deleted_entry_is_found(tmp_path: Path) -> None:
    path, engine = _log(tmp_path)
    _sql(path, "DELETE FROM audit_entries WHERE seq = 6")
    v = verify_store(engine)
    assert v.first_break is not None and v.first_break.position == 6
    assert "missing" in v.first_break.reason


def test_two_swapped_entries_are_found(tmp_path: Path) -> None:
    path, engine = _log(tmp_path)
    con = sqlite3.connect(path)
    cols = "at, user, role, purpose, action, resources, decision, request_id, detail, prev_hash, entry_hash"  # noqa: E501
    a = con.execute(f"SELECT {cols} FROM audit_entries WHERE seq = 2").fetchone()
    b = con.execute(f"SELECT {cols} FROM audit_entries WHERE seq = 3").fetchone()
    sets = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
    con.execute(f"UPDATE audit_entries SET {sets} WHERE seq = 2", b)
    con.execute(f"UPDATE audit_entries SET {sets} WHERE seq = 3", a)
    con.commit()
    con.close()
    v = verify_store(engine)
    assert v.first_break is not None and v.first_break.seq == 2


def test_a_truncated_tail_is_found_only_with_a_checkpoint(tmp_path: Path) -> None:
    path, engine = _log(tmp_path)
    key = audit.load_or_create_key(tmp_path / "keys")
    cp = audit.make_checkpoint(engine, key, now=T0)
    assert cp.size == 8
    _sql(path, "DELETE FROM audit_entries WHERE seq > 5")
    # a careful forger moves the head row back too: a prefix is then a valid chain
    _sql(
        path,
        "UPDATE audit_head SET seq = 5, "
        "entry_hash = (SELECT entry_hash FROM audit_entries WHERE seq = 5)",
    )
    assert verify_store(engine).ok
    public = audit.load_public(tmp_path / "keys" / audit.PUBLIC_FILE)
    v = verify_store(engine, cp, public)
    assert (
        not v.ok and v.checkpoint_problem is not None and "tail was removed" in v.checkpoint_problem
    )


def test_checkpoint_signature_is_checked(tmp_path: Path) -> None:
    _, engine = _log(tmp_path)
    key = audit.load_or_create_key(tmp_path / "keys")
    cp = audit.make_checkpoint(engine, key, now=T0)
    public = audit.load_public(tmp_path / "keys" / audit.PUBLIC_FILE)
    assert verify_store(engine, cp, public).ok
    doc = Checkpoint.from_json(cp.to_json())
    assert doc == cp
    forged = Checkpoint(cp.size + 1, cp.root, cp.head, cp.time, cp.key_id, cp.signature)
    v = verify_store(engine, forged, public)
    assert v.checkpoint_problem is not None and "signature" in v.checkpoint_problem
    other = audit.load_or_create_key(tmp_path / "other")
    v = verify_store(engine, cp, audit.load_public(tmp_path / "other" / audit.PUBLIC_FILE))
    assert v.checkpoint_problem is not None
    assert other is not None


def test_a_rewritten_history_before_the_checkpoint_is_found(tmp_path: Path) -> None:
    path, engine = _log(tmp_path, n=4)
    key = audit.load_or_create_key(tmp_path / "keys")
    cp = audit.make_checkpoint(engine, key, now=T0)
    # rebuild a whole new, internally consistent chain of the same length
    _sql(path, "DELETE FROM audit_entries")
    _sql(path, f"UPDATE audit_head SET seq = 0, entry_hash = '{GENESIS}'")
    sessions = session_factory(engine)
    for _ in range(4):
        with sessions.begin() as s:
            audit.append(
                s,
                user="admin",
                role="admin",
                purpose="oversight",
                action="noop",
                resources=[],
                decision="allow",
                now=T0,
            )
    assert verify_store(engine).ok
    public = audit.load_public(tmp_path / "keys" / audit.PUBLIC_FILE)
    v = verify_store(engine, cp, public)
    assert v.checkpoint_problem is not None and "rewritten" in v.checkpoint_problem


def test_an_entry_rolls_back_with_its_transaction(tmp_path: Path) -> None:
    _, engine = _log(tmp_path, n=2)
    sessions = session_factory(engine)
    with pytest.raises(RuntimeError), sessions.begin() as s:
        audit.append(
            s,
            user="u",
            role="case_officer",
            purpose="case_review",
            action="edit",
            resources=["case:1"],
            decision="allow",
        )
        raise RuntimeError("the change failed")
    v = verify_store(engine)
    assert v.ok and v.entries == 2


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=8), st.sampled_from(["allow", "deny"])), min_size=1, max_size=12
    ),
    st.data(),
)
def test_any_single_change_to_a_chain_is_detected(
    items: list[tuple[str, str]], data: st.DataObject
) -> None:
    prev = GENESIS
    rows = []
    for i, (who, decision) in enumerate(items, start=1):
        e = Entry(i, "t", who, "r", "p", "a", (f"x{i}",), decision, f"q{i}")
        h = entry_hash(prev, e)
        rows.append((e, prev, h))
        prev = h
    assert verify_chain(rows)[2] is None
    k = data.draw(st.integers(0, len(rows) - 1))
    e, p, h = rows[k]
    tampered = Entry(
        e.seq,
        e.at,
        e.user + "!",
        e.role,
        e.purpose,
        e.action,
        e.resources,
        e.decision,
        e.request_id,
    )
    broken = [*rows[:k], (tampered, p, h), *rows[k + 1 :]]
    brk = verify_chain(broken)[2]
    assert brk is not None and brk.seq == e.seq


def test_merkle_root_matches_rfc_9162_small_trees() -> None:
    import hashlib

    def leaf(x: bytes) -> bytes:
        return hashlib.sha256(b"\x00" + x).digest()

    def node(a: bytes, b: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + a + b).digest()

    a, b, c = b"a", b"b", b"c"
    assert merkle_root([a]) == leaf(a).hex()
    assert merkle_root([a, b]) == node(leaf(a), leaf(b)).hex()
    assert merkle_root([a, b, c]) == node(node(leaf(a), leaf(b)), leaf(c)).hex()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 10**9),
    st.lists(st.text(max_size=12), min_size=9, max_size=9),
    st.lists(st.text(max_size=6), max_size=4),
)
def test_canonical_bytes_equal_sorted_compact_json(
    seq: int, fields: list[str], resources: list[str]
) -> None:
    import json

    at, user, role, purpose, action, decision, request_id, detail, _ = fields
    e = Entry(seq, at, user, role, purpose, action, tuple(resources), decision, request_id, detail)
    reference = json.dumps(
        {
            "seq": seq,
            "at": at,
            "user": user,
            "role": role,
            "purpose": purpose,
            "action": action,
            "resources": resources,
            "decision": decision,
            "request_id": request_id,
            "detail": detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    assert e.canonical() == reference


def test_a_truncated_tail_a_deleted_head_and_a_wiped_log_are_found_without_a_checkpoint(
    tmp_path: Path,
) -> None:
    path, engine = _log(tmp_path)
    _sql(path, "DELETE FROM audit_entries WHERE seq > 6")
    v = verify_store(engine)
    assert not v.ok and v.head_problem and "holds 8 entries" in v.head_problem
    _sql(path, "DELETE FROM audit_entries")
    v = verify_store(engine)
    assert not v.ok and v.head_problem and "wiped" in v.head_problem
    _sql(path, "DELETE FROM audit_head")
    v = verify_store(engine)
    assert not v.ok and v.head_problem and "head row is missing" in v.head_problem


def test_entries_after_the_checkpoint_are_counted_as_not_covered(tmp_path: Path) -> None:
    _, engine = _log(tmp_path)
    key = audit.load_or_create_key(tmp_path / "keys")
    cp = audit.make_checkpoint(engine, key, now=T0)
    with engine.begin() as conn:
        for i in range(3):
            audit.append(
                conn,
                user="forger",
                role="admin",
                purpose="oversight",
                action="read_person",
                resources=[f"person:P{i}"],
                decision="allow",
            )
    public = audit.load_public(tmp_path / "keys" / audit.PUBLIC_FILE)
    v = verify_store(engine, cp, public)
    assert v.ok and v.beyond_checkpoint == 3
