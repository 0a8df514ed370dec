"""The audit log in the operational store: append in the caller's transaction, verify,
and emit signed checkpoints.

An append locks the chain head row, so two transactions never chain onto the same
predecessor; the entry commits or rolls back with the change it records.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

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
from habeas.store.operational import is_sqlite, reading

KEY_FILE = "audit-signing-key.pem"
_COLUMNS = 'seq, at, "user", role, purpose, action, resources, decision, request_id, detail, '
_COLUMNS += "prev_hash, entry_hash"
_NAMES = (
    "seq",
    "at",
    "user",
    "role",
    "purpose",
    "action",
    "resources",
    "decision",
    "request_id",
    "detail",
    "prev",
    "hash",
)


def _statements(sqlite: bool) -> tuple[str, str, str]:
    """Head read, insert and head move, in the driver's own parameter style. SQLite needs no
    FOR UPDATE: its write transactions begin IMMEDIATE, holding the write lock."""
    if sqlite:
        mark = ":{}".format
        head = "SELECT seq, entry_hash FROM audit_head WHERE id = 1"
    else:
        mark = "%({})s".format
        head = "SELECT seq, entry_hash FROM audit_head WHERE id = 1 FOR UPDATE"
    values = ", ".join(mark(n) for n in _NAMES)
    insert = f"INSERT INTO audit_entries ({_COLUMNS}) VALUES ({values})"
    move = f"UPDATE audit_head SET seq = {mark('seq')}, entry_hash = {mark('hash')} WHERE id = 1"
    return head, insert, move


_SQL = {sqlite: _statements(sqlite) for sqlite in (True, False)}
"""The three statements on SQLite (True) and on PostgreSQL (False)."""
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
        "user": user,
        "role": role,
        "purpose": purpose,
        "action": action,
        "resources": list(resources),
        "decision": decision,
        "detail": detail,
        "request_id": request_id,
        "now": now,
    }
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
    head_sql, insert_sql, move_sql = _SQL[is_sqlite(conn)]
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
            "seq": entry.seq,
            "at": entry.at,
            "user": user,
            "role": role,
            "purpose": purpose,
            "action": action,
            "resources": resources_json(resources),
            "decision": decision,
            "request_id": entry.request_id,
            "detail": detail,
            "prev": prev,
            "hash": digest,
        },
    )
    cur.execute(move_sql, {"seq": entry.seq, "hash": digest})
    cur.close()
    return entry


Refs = dict[int, dict[int, tuple[str, int]]]
"""The case events the log's entries name: case → seq → (hash, the entry's seq)."""

RecordCheck = Callable[[Engine, Refs], tuple[int, str | None]]
"""A check of the records the log vouches for (case histories, sealed rows), given the
case events the entries named: how many events it read, and the first problem."""

_EVENT_REF = re.compile(r"case_event:(\d+)/(\d+)#([0-9a-f]{64})")


def event_ref(case_id: int, seq: int, digest: str) -> str:
    """How an audit entry names a stored case event: ``case_event:<case>/<seq>#<sha256>``."""
    return f"case_event:{case_id}/{seq}#{digest}"


def parse_event_refs(resources: Iterable[str]) -> list[tuple[int, int, str]]:
    """The (case, seq, hash) of every case event an audit entry's resources name."""
    out = []
    for r in resources:
        m = _EVENT_REF.fullmatch(r)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), m.group(3)))
    return out


def _rows(engine: Engine, refs: Refs | None = None) -> Iterator[tuple[int, bytes, str, str]]:
    """Every entry's sequence, canonical bytes and hashes, in order; with ``refs``, the
    case events each entry names are collected on the way."""
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
                for case, n, digest in parse_event_refs(json.loads(res)):
                    refs.setdefault(case, {})[n] = (digest, seq)
            yield seq, canon, prev, h


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
    engine: Engine,
    checkpoint: Checkpoint | None = None,
    public: Ed25519PublicKey | None = None,
    records: RecordCheck | None = None,
) -> Verification:
    """Recompute the chain in sequence order; check it against a checkpoint when given.

    A swapped pair shows as an entry not naming its predecessor's hash; a deleted one as
    a gap in the sequence; an edited one as a hash its bytes do not give. ``records``
    then checks what the log vouches for against the events the entries recorded (the
    application passes every store's check: ``habeas.app.audit_log.verify_store``).
    """
    refs: Refs = {}
    n, head, brk, canon = _walk(engine, keep=checkpoint is not None, refs=refs)
    problem = None
    beyond = None
    if checkpoint is not None:
        problem = _against(checkpoint, public, n, canon[:n], brk)
        beyond = max(0, n - checkpoint.size)
    events, history = records(engine, refs) if records is not None else (0, None)
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
