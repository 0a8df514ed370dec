"""The audit log as a packet cites it: who read or changed the person's data (refusals
included), the chain verified up to the packet's moment, a checkpoint over the log as it
stood then signed with the log's key, and an inclusion proof for every entry cited."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from habeas.governance.chain import (
    Checkpoint,
    MerkleTree,
    canonical_bytes,
    key_id,
    sign,
    verify_raw,
)
from habeas.store.models import AuditEntry

HOW_TO_VERIFY = (
    "Run `habeas packet verify DIR` on the folder as produced: it recomputes the SHA-256 of "
    "every file against manifest.json, checks manifest.sig and the certification's Ed25519 "
    "signature with the agency's published key, and compares the JSON embedded in the PDF "
    "with packet.json.",
    "Without habeas: the SHA-256 of packet.json must equal the certification's "
    "packet_sha256; the certification's signature verifies over its statement (the "
    "certification's fields other than signature, as sorted compact JSON) with the key "
    "whose id it names.",
    "Each access listed carries its audit entry's hash and an RFC 9162 inclusion proof: "
    "SHA-256(0x00 || canonical entry) combined along the proof gives the checkpoint's "
    "root, which the log's key signed (statement: 'habeas-audit-checkpoint', size, root, "
    "head, time, each on its own line).",
    "An outside witness's copy of a later checkpoint shows the log was not rewritten since: "
    "`habeas audit verify --witness DIR`.",
)
"""What the packet's integrity section tells a reader to do."""


def as_of_text(as_of: datetime) -> str:
    """The audit log's form of a moment (UTC, microseconds)."""
    aware = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def audit_integrity(
    session: Session,
    resources: list[str],
    cited_hashes: list[str],
    as_of: datetime,
    key: Ed25519PrivateKey,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The entries naming any of ``resources`` up to ``as_of`` (with their inclusion
    proofs), and the integrity section: the chain's verification, the signed checkpoint."""
    wanted = set(resources)
    until = as_of_text(as_of)
    rows = session.execute(
        select(
            AuditEntry.seq,
            AuditEntry.at,
            AuditEntry.user,
            AuditEntry.role,
            AuditEntry.purpose,
            AuditEntry.action,
            AuditEntry.resources,
            AuditEntry.decision,
            AuditEntry.request_id,
            AuditEntry.detail,
            AuditEntry.prev_hash,
            AuditEntry.entry_hash,
        )
        .where(AuditEntry.at <= until)
        .order_by(AuditEntry.seq)
    ).all()
    leaves: list[bytes] = []
    walk = []
    hits = []
    for row in rows:
        seq, at, user, role, purpose, action, res, decision, rid, detail, prev, digest = row
        canon = canonical_bytes(seq, at, user, role, purpose, action, res, decision, rid, detail)
        leaves.append(canon)
        walk.append((seq, canon, prev, digest))
        named = json.loads(res)
        if wanted.intersection(named):
            hits.append((len(leaves) - 1, row, named))
    fit, head, brk = verify_raw(walk)
    tree = MerkleTree(leaves)
    root = tree.root()
    cp = sign(Checkpoint(len(leaves), root, head, until, key_id(key.public_key())), key)
    accesses = [
        {
            "id": f"audit:{row[0]}",
            "seq": row[0],
            "at": row[1],
            "user": row[2],
            "role": row[3],
            "purpose": row[4],
            "action": row[5],
            "decision": row[7],
            "detail": row[9],
            "resources": [r for r in named if r in wanted],
            "entry_hash": row[11],
            "inclusion_proof": tree.proof(index),
        }
        for index, row, named in hits
    ]
    cited = set(cited_hashes)
    integrity = {
        "audit_chain": {
            "entries": len(leaves),
            "verified_entries": fit,
            "verified": brk is None,
            "first_break": None if brk is None else {"seq": brk.seq, "reason": brk.reason},
            "head": head,
        },
        "checkpoint": {
            "size": cp.size,
            "root": cp.root,
            "head": cp.head,
            "time": cp.time,
            "key_id": cp.key_id,
            "signature": cp.signature,
        },
        "case_events_cited": len(cited),
        "how_to_verify": list(HOW_TO_VERIFY),
    }
    return accesses, integrity
