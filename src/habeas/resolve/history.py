"""The person index's history, for persons with cases: what the index held about a person
(records, the links between them, flags, reviewers' decisions, the sources' authorities)
from one moment until the next change, append-only.

A publish replaces the index; a packet "as of" March must still show the links March
saw. So every publish, every reviewer's decision and every packet built on the live index
appends a row for the persons with cases whose index content changed (its SHA-256 differs
from their last row). Rows are canonical JSON, sealed with the history key: a row written
or edited outside habeas does not carry its seal, and a packet says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from habeas.store.keys import key_for
from habeas.store.models import (
    Case,
    IndexDecision,
    IndexFlag,
    IndexHistory,
    IndexRecord,
    IndexSource,
)

RECORD_FIELDS = (
    "record_id",
    "source",
    "source_version",
    "source_key",
    "key_kinds",
    "name",
    "dob",
    "a_number",
    "ssn",
    "passport_number",
    "street",
    "city",
    "state",
    "zip",
    "address_date",
    "linked_via",
    "match_probability",
    "match_weight",
    "how",
    "batch_id",
    "file_sha256",
    "row_number",
    "run_id",
)
"""What the history keeps of a published record (with its prepared ``features``)."""


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, compact, UTF-8 text (dates as ISO strings)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class IndexState:
    """A person's index content at a moment, and where it came from."""

    person_id: str
    valid_from: datetime | None
    reason: str
    run_id: str
    content: dict[str, Any]
    sha256: str
    sealed: bool
    """False when the row does not carry its seal (written or edited outside habeas)."""


def _seal(key: bytes, person_id: str, valid_from: datetime, sha: str) -> str:
    msg = f"index-history\x00{person_id}\x00{valid_from.isoformat()}\x00{sha}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def live_contents(conn: Connection, person_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The published index's content for each person (those with no record are left out)."""
    ids = sorted(set(person_ids))
    out: dict[str, dict[str, Any]] = {}
    if not ids:
        return out
    by_record: dict[str, str] = {}
    for part in _chunks(ids):
        records = IndexRecord.__table__
        for rec in conn.execute(select(records).where(records.c.person_id.in_(part))):
            row = {f: getattr(rec, f) for f in RECORD_FIELDS}
            row["features"] = json.loads(rec.features or "{}")
            person = out.setdefault(
                rec.person_id,
                {"run_id": rec.run_id, "records": [], "flags": [], "decisions": [], "sources": {}},
            )
            person["records"].append(row)
            by_record[rec.record_id] = rec.person_id
        flags = IndexFlag.__table__
        for flag in conn.execute(select(flags).where(flags.c.person_id.in_(part))):
            if flag.person_id in out:
                out[flag.person_id]["flags"].append(
                    {
                        "flag": flag.flag,
                        "detail": flag.detail,
                        "record_ids": json.loads(flag.record_ids),
                        "status": flag.status,
                        "raised_at": flag.raised_at,
                        "resolved_by": flag.resolved_by,
                        "resolution": flag.resolution,
                        "resolved_at": flag.resolved_at,
                    }
                )
    if by_record:
        for d in _decisions_on(conn, set(by_record)):
            for pid in sorted({by_record[r] for r in d["record_ids"] if r in by_record}):
                out[pid]["decisions"].append(d)
    names = {r["source"] for p in out.values() for r in p["records"]}
    sources = {
        s.name: {
            "agency": s.agency,
            "legal_authority": s.legal_authority,
            "purposes": json.loads(s.purposes),
            "version_purposes": json.loads(s.version_purposes or "{}"),
        }
        for s in conn.execute(
            select(IndexSource.__table__).where(IndexSource.name.in_(sorted(names)))
        )
    }
    for person in out.values():
        person["records"].sort(key=lambda r: (r["source"], r["source_key"], r["record_id"]))
        person["flags"].sort(key=lambda f: (f["flag"], canonical(f["record_ids"])))
        person["decisions"].sort(key=lambda d: d["decision_id"])
        person["sources"] = {
            n: sources[n] for n in sorted({r["source"] for r in person["records"]}) if n in sources
        }
    return json.loads(canonical(out))  # type: ignore[no-any-return]


def _decisions_on(conn: Connection, record_ids: set[str]) -> list[dict[str, Any]]:
    out = []
    table = IndexDecision.__table__
    for d in conn.execute(select(table).order_by(table.c.decision_id)):
        names = json.loads(d.record_ids)
        if record_ids & set(names):
            out.append(
                {
                    "decision_id": d.decision_id,
                    "kind": d.kind,
                    "decision": d.decision,
                    "record_ids": names,
                    "reviewer": d.reviewer,
                    "reason": d.reason,
                    "decided_at": d.decided_at,
                    "undone_by": d.undone_by,
                }
            )
    return out


def _chunks(ids: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def latest_hashes(conn: Connection, person_ids: Iterable[str]) -> dict[str, str]:
    """Each person's last history row's content hash."""
    out: dict[str, tuple[datetime, int, str]] = {}
    for part in _chunks(sorted(set(person_ids))):
        q = select(
            IndexHistory.person_id,
            IndexHistory.valid_from,
            IndexHistory.id,
            IndexHistory.content_sha256,
        ).where(IndexHistory.person_id.in_(part))
        for pid, at, id_, sha in conn.execute(q):
            if pid not in out or (at, id_) > out[pid][:2]:
                out[pid] = (at, id_, sha)
    return {p: v[2] for p, v in out.items()}


def record_changes(
    conn: Connection, person_ids: Iterable[str], now: datetime, reason: str, force: bool = False
) -> list[str]:
    """Append a history row for each person whose live index content differs from their
    last row (``force``: whatever their last row holds, as when it does not verify);
    returns the persons written."""
    contents = live_contents(conn, person_ids)
    last = latest_hashes(conn, contents)
    key = key_for(conn)
    rows = []
    for pid, content in sorted(contents.items()):
        text = canonical(content)
        sha = hashlib.sha256(text.encode()).hexdigest()
        if last.get(pid) == sha and not force:
            continue
        rows.append(
            {
                "person_id": pid,
                "valid_from": now,
                "reason": reason,
                "run_id": str(content.get("run_id", "")),
                "content": text,
                "content_sha256": sha,
                "seal": _seal(key, pid, now, sha),
            }
        )
    if rows:
        conn.execute(insert(IndexHistory), rows)
    return [str(r["person_id"]) for r in rows]


def persons_with_cases(conn: Connection) -> list[str]:
    """Every person some case is about."""
    return sorted(set(conn.execute(select(Case.person_id).distinct()).scalars()))


def record_after_publish(conn: Connection, now: datetime) -> int:
    """After a publish: the new index content of every person with a case whose content
    changed. Returns how many rows were written."""
    return len(record_changes(conn, persons_with_cases(conn), now, "publish"))


def state_as_of(conn: Connection, person_id: str, as_of: datetime) -> IndexState | None:
    """The person's index content as it stood at ``as_of`` (the last row from before it),
    or None when no row is that old."""
    table = IndexHistory.__table__
    q = (
        select(table)
        .where(table.c.person_id == person_id, table.c.valid_from <= as_of)
        .order_by(table.c.valid_from.desc(), table.c.id.desc())
        .limit(1)
    )
    h = conn.execute(q).first()
    if h is None:
        return None
    sha = hashlib.sha256(h.content.encode()).hexdigest()
    sealed = sha == h.content_sha256 and hmac.compare_digest(
        h.seal, _seal(key_for(conn), h.person_id, h.valid_from, h.content_sha256)
    )
    return IndexState(
        person_id=h.person_id,
        valid_from=h.valid_from,
        reason=h.reason,
        run_id=h.run_id,
        content=json.loads(h.content),
        sha256=h.content_sha256,
        sealed=sealed,
    )
