"""The audit log in the operational store: append in the caller's transaction, verify,
and emit signed checkpoints.

An append locks the chain head row, so two transactions never chain onto the same
predecessor; the entry commits or rolls back with the change it records.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.orm import Session

from habeas.cases.history import StoredEvent, chain_problem, parse_refs
from habeas.errors import HabeasError
from habeas.governance.chain import (
    Break,
    Checkpoint,
    Entry,
    canonical_bytes,
    entry_hash,
    key_id,
    merkle_root,
    resources_json,
    sign,
    signature_ok,
    verify_raw,
)
from habeas.governance.keys import key_for
from habeas.store.operational import reading

KEY_FILE = "audit-signing-key.pem"
_COLUMNS = 'seq, at, "user", role, purpose, action, resources, decision, request_id, detail, '
_COLUMNS += "prev_hash, entry_hash"
_NAMES = ("seq", "at", "user", "role", "purpose", "action", "resources", "decision",
          "request_id", "detail", "prev", "hash")  # fmt: skip


def _statements(dialect: str) -> tuple[str, str, str]:
    """Head read, insert and head move, in the driver's own parameter style. SQLite needs no
    FOR UPDATE: its write transactions begin IMMEDIATE, holding the write lock."""
    if dialect == "sqlite":
        mark = ":{}".format
        head = "SELECT seq, entry_hash FROM audit_head WHERE id = 1"
    else:
        mark = "%({})s".format
        head = "SELECT seq, entry_hash FROM audit_head WHERE id = 1 FOR UPDATE"
    values = ", ".join(mark(n) for n in _NAMES)
    insert = f"INSERT INTO audit_entries ({_COLUMNS}) VALUES ({values})"
    move = f"UPDATE audit_head SET seq = {mark('seq')}, entry_hash = {mark('hash')} WHERE id = 1"
    return head, insert, move


_SQL = {name: _statements(name) for name in ("sqlite", "postgresql")}
PUBLIC_FILE = "audit-signing-key.pub.pem"


DEFERRED = "habeas_audit_deferred"


def defer_until_commit(session: Session) -> None:
    """Queue this session's appends and write them just before it commits: the chain head
    is then locked for the commit alone, not for the rest of the work (the entries still
    commit with the change they record, in the order they were made; a rollback drops
    them with it)."""
    session.info[DEFERRED] = []
    event.listen(session, "before_commit", _write_deferred)
    event.listen(session, "after_rollback", _drop_deferred)


def _write_deferred(session: Session) -> None:
    pending = session.info.get(DEFERRED) or []
    while pending:
        _append_now(session, **pending.pop(0))


def _drop_deferred(session: Session) -> None:
    session.info.get(DEFERRED, []).clear()


def append(
    session: Session | Connection,
    *,
    user: str,
    role: str,
    purpose: str,
    action: str,
    resources: list[str],
    decision: str,
    detail: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """Add one entry to the chain inside the transaction of ``session`` (an ORM session or a
    Core connection); it commits or rolls back with that transaction, never on its own."""
    if decision not in ("allow", "deny"):
        raise HabeasError(f"audit decision must be allow or deny, not {decision!r}")
    entry: dict[str, Any] = {
        "user": user, "role": role, "purpose": purpose, "action": action,
        "resources": list(resources), "decision": decision, "detail": detail,
        "request_id": request_id, "now": now,
    }  # fmt: skip
    if isinstance(session, Session) and DEFERRED in session.info:
        session.info[DEFERRED].append(entry)
        return
    _append_now(session, **entry)


def _append_now(
    session: Session | Connection,
    *,
    user: str,
    role: str,
    purpose: str,
    action: str,
    resources: list[str],
    decision: str,
    detail: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
) -> Entry:
    """Write one entry at the head of the chain, in the transaction of ``session``."""
    conn = session.connection() if isinstance(session, Session) else session
    head_sql, insert_sql, move_sql = _SQL[conn.dialect.name]
    # The driver's cursor, not SQLAlchemy's statement layer: an append is on every audited
    # call's path, and the three statements are fixed.
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cur.execute(head_sql)
    head = cur.fetchone()
    if head is None:
        raise HabeasError("the audit log has no head row: run `habeas db upgrade`")
    seq, prev = head
    at = (now or datetime.now(UTC)).isoformat(timespec="microseconds")
    entry = Entry(
        seq=seq + 1,
        at=at,
        user=user,
        role=role,
        purpose=purpose,
        action=action,
        resources=tuple(resources),
        decision=decision,
        request_id=request_id or uuid.uuid4().hex,
        detail=detail,
    )
    digest = entry_hash(prev, entry)
    cur.execute(
        insert_sql,
        {
            "seq": entry.seq, "at": entry.at, "user": user, "role": role, "purpose": purpose,
            "action": action, "resources": resources_json(resources), "decision": decision,
            "request_id": entry.request_id, "detail": detail, "prev": prev, "hash": digest,
        },
    )  # fmt: skip
    cur.execute(move_sql, {"seq": entry.seq, "hash": digest})
    cur.close()
    return entry


Refs = dict[int, dict[int, tuple[str, int]]]
"""The case events the log's entries name: case → seq → (hash, the entry's seq)."""


def _rows(engine: Engine, refs: Refs | None = None) -> Iterator[tuple[int, bytes, str, str]]:
    sql = text(
        """SELECT seq, at, "user", role, purpose, action, resources, decision, request_id,
                  detail, prev_hash, entry_hash FROM audit_entries ORDER BY seq"""
    )
    with reading(engine).connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=20_000).execute(sql)
        for seq, at, user, role, purpose, action, res, decision, req, detail, prev, h in result:
            canon = canonical_bytes(
                seq, at, user, role, purpose, action, res, decision, req, detail
            )
            if refs is not None and "case_event:" in res:
                for case, n, digest in parse_refs(json.loads(res)):
                    refs.setdefault(case, {})[n] = (digest, seq)
            yield seq, canon, prev, h


def history_problem(engine: Engine, refs: Refs) -> tuple[int, str | None]:
    """Walk every case's stored events: each case's chain must hold, and each event must
    be one an audit entry recorded with that hash (an event no entry names was inserted
    outside habeas; one an entry names that is gone, or differs, was deleted or edited).
    Returns the number of events and the first problem (None when there is none)."""
    with reading(engine).connect() as conn:
        found = inspect(conn)
        columns = (
            {c["name"] for c in found.get_columns("case_events")}
            if found.has_table("case_events") else set()
        )  # fmt: skip
    if "event_hash" not in columns:  # a store before revision 0005: nothing chained yet
        return 0, None
    sql = text(
        """SELECT case_id, seq, at, kind, actor, role, state_after, payload, prev_hash,
                  event_hash FROM case_events ORDER BY case_id, seq"""
    )
    n, problem = 0, None
    current: list[StoredEvent] = []
    cited_cases, next_cited = sorted(refs), 0

    def gone(case: int, cited: dict[int, tuple[str, int]]) -> str:
        seq, (_, entry) = min(cited.items())
        return (f"case {case}: event {seq}, recorded by audit entry {entry}, is missing from "
                "the case's history: it was deleted")  # fmt: skip

    def vanished_before(case: int | None) -> str | None:
        """A case the log recorded events on whose whole history is gone (checked in case
        order, so the first problem named is the first case's)."""
        nonlocal next_cited
        while next_cited < len(cited_cases) and (case is None or cited_cases[next_cited] < case):
            earlier = cited_cases[next_cited]
            next_cited += 1
            if earlier in refs:
                return gone(earlier, refs.pop(earlier))
        return None

    def close(events: list[StoredEvent]) -> str | None:
        case = events[0].case_id
        found = vanished_before(case) or chain_problem(events, key_for(engine))
        if found:
            return found
        cited = refs.pop(case, {})
        for e in events:
            recorded = cited.pop(e.seq, None)
            if recorded is None:
                return (f"case {e.case_id}: event {e.seq} ({e.kind}) is in no audit entry: "
                        "it was inserted outside habeas")  # fmt: skip
            if recorded[0] != e.event_hash:
                return (f"case {e.case_id}: event {e.seq} ({e.kind}) is not the event audit "
                        f"entry {recorded[1]} recorded: it was edited")  # fmt: skip
        return gone(case, cited) if cited else None

    with reading(engine).connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=20_000).execute(sql)
        for case_id, seq, at, kind, actor, role, state, payload, prev, digest in rows:
            n += 1
            if current and current[0].case_id != case_id:
                problem = problem or close(current)
                current = []
            when = at if isinstance(at, datetime) else datetime.fromisoformat(at)
            current.append(StoredEvent(case_id, seq or 0, when, kind, actor, role, state,
                                       payload, prev or "", digest or ""))  # fmt: skip
    if current:
        problem = problem or close(current)
    if not problem:
        from habeas.monitor.inbox import inbox_problem

        problem = (
            vanished_before(None)
            or case_rows_problem(engine)
            or inbox_problem(engine)
            or sources_problem(engine)
        )
    return n, problem


def sources_problem(engine: Engine) -> str | None:
    """The first published source row that does not carry its seal (edited outside
    habeas: a purpose widened, an authority rewritten)."""
    from habeas.resolve.publish import source_sealed

    with reading(engine).connect() as conn:
        if not inspect(conn).has_table("index_sources"):
            return None
        columns = {c["name"] for c in inspect(conn).get_columns("index_sources")}
        if "seal" not in columns:
            return None
        for row in conn.execute(text(
            "SELECT name, agency, legal_authority, purposes, version_purposes, seal "
            "FROM index_sources ORDER BY name"
        )):  # fmt: skip
            if not source_sealed(key_for(engine), row):
                return (f"published source {row.name} does not carry its seal (its row was "
                        "edited outside habeas): its records are withheld until the next "
                        "publish")  # fmt: skip
    return None


def case_rows_problem(engine: Engine) -> str | None:
    """The first case row whose state and last event do not carry their seal (a state
    edited alone: lists that read the column would believe it)."""
    from habeas.cases.history import case_sealed

    sql = text(
        """SELECT c.id, c.state, c.history_token, e.event_hash, c.counsel FROM cases c
           LEFT JOIN case_events e ON e.case_id = c.id
            AND e.seq = (SELECT max(seq) FROM case_events WHERE case_id = c.id)
           ORDER BY c.id"""
    )
    with reading(engine).connect() as conn:
        for case_id, state, token, head, counsel in conn.execute(sql):
            if not case_sealed(key_for(engine), case_id, state, head or "", counsel, token):
                return (
                    f"case {case_id}: its row says {state}"
                    + (f" (counsel {counsel})" if counsel else "")
                    + ", which is not what its history sealed (the case row was edited)"
                )
    return None


@dataclass(frozen=True)
class Verification:
    """What ``audit verify`` found."""

    entries: int
    head: str
    first_break: Break | None
    checkpoint_problem: str | None = None
    case_events: int = 0
    history_problem: str | None = None
    head_problem: str | None = None
    beyond_checkpoint: int | None = None
    """Entries after the checkpoint's: the checkpoint vouches for none of them."""

    @property
    def ok(self) -> bool:
        """True when the chain is whole and ends at the head row, fits the checkpoint (if
        one was given), and every case's history is the one the log recorded."""
        return (
            self.first_break is None
            and self.checkpoint_problem is None
            and self.history_problem is None
            and self.head_problem is None
        )


def _walk(
    engine: Engine, keep: bool, refs: Refs | None = None
) -> tuple[int, str, Break | None, list[bytes]]:
    """Verify the chain; with ``keep``, also return every entry's canonical bytes; with
    ``refs``, collect the case events the entries name."""
    canon: list[bytes] = []

    def rows() -> Iterator[tuple[int, bytes, str, str]]:
        for r in _rows(engine, refs):
            if keep:
                canon.append(r[1])
            yield r

    n, head, brk = verify_raw(rows())
    return n, head, brk, canon


def verify(
    engine: Engine, checkpoint: Checkpoint | None = None, public: Ed25519PublicKey | None = None
) -> Verification:
    """Recompute the chain in sequence order; check it against a checkpoint when given.

    A swapped pair shows as an entry not naming its predecessor's hash; a deleted one as
    a gap in the sequence; an edited one as a hash its bytes do not give. Every case's
    history is then checked against the events the entries recorded.
    """
    refs: Refs = {}
    n, head, brk, canon = _walk(engine, keep=checkpoint is not None, refs=refs)
    problem = None
    beyond = None
    if checkpoint is not None:
        problem = _against(checkpoint, public, n, canon[:n], brk)
        beyond = max(0, n - checkpoint.size)
    events, history = history_problem(engine, refs)
    head_problem = _head_problem(engine, n, head) if brk is None else None
    return Verification(n, head, brk, problem, events, history, head_problem, beyond)


def _head_problem(engine: Engine, n: int, head: str) -> str | None:
    """The chain must end where the head row (moved by every append) says it does: a
    truncated tail, a deleted last entry or a wiped log leaves a shorter chain that is
    valid in itself, but not the head's."""
    with reading(engine).connect() as conn:
        row = conn.execute(text("SELECT seq, entry_hash FROM audit_head WHERE id = 1")).first()
    if row is None:
        return "the log's head row is missing: it was deleted"
    seq, digest = int(row[0]), str(row[1])
    if n == 0 and seq > 0:
        return f"the log is empty, but its head says it held {seq:,} entries: it was wiped"
    if seq != n or digest != head:
        return (
            f"the head row says the log holds {seq:,} entries ending in {digest[:16]}…, but "
            f"the chain holds {n:,} ending in {head[:16]}…: entries were removed or the head "
            "was edited"
        )
    return None


def _against(
    cp: Checkpoint, public: Ed25519PublicKey | None, n: int, canon: list[bytes], brk: Break | None
) -> str | None:
    if public is not None and not signature_ok(cp, public):
        return "the checkpoint's signature does not verify with the public key"
    if public is not None and cp.key_id != key_id(public):
        return "the checkpoint was signed with another key"
    if brk is None and n < cp.size:
        return f"the log has {n} entries but the checkpoint covers {cp.size}: its tail was removed"
    if n >= cp.size and merkle_root(canon[: cp.size]) != cp.root:
        return (
            f"the first {cp.size} entries do not give the checkpoint's root: history was rewritten"
        )
    return None


def load_or_create_key(directory: Path) -> Ed25519PrivateKey:
    """The log's signing key, created (mode 0600) with its public half on first use."""
    path = directory / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise HabeasError(f"{path}: not an Ed25519 private key")
        return key
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    (directory / PUBLIC_FILE).write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise HabeasError(f"{path}: cannot read a public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise HabeasError(f"{path}: not an Ed25519 public key")
    return key


def make_checkpoint(
    engine: Engine, key: Ed25519PrivateKey, now: datetime | None = None
) -> Checkpoint:
    """Sign the log as it stands: size, Merkle root, chain head, time."""
    n, head, brk, canon = _walk(engine, keep=True)
    if brk is not None:
        raise HabeasError(f"the log is broken at entry {brk.seq} ({brk.reason}); not signing it")
    at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return sign(Checkpoint(n, merkle_root(canon[:n]), head, at, ""), key)
