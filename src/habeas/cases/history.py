"""A case's history as a hash chain (pure): each stored event's canonical bytes, hashed
with its predecessor's hash, so that an inserted, edited, reordered or deleted event
shows. The audit entry that records a step names each event it stored with its hash
(``governance.audit.event_ref``), which ties the case chain into the audit log's
own: ``audit verify`` then finds an event the log never recorded, or one it recorded that is gone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

_enc = json.encoder.encode_basestring

GENESIS = "0" * 64
"""The 'previous hash' of a case's first event."""


@dataclass(frozen=True)
class StoredEvent:
    """One row of ``case_events`` as it is hashed."""

    case_id: int
    seq: int
    at: datetime
    kind: str
    actor: str
    role: str
    state_after: str
    payload: str
    prev_hash: str = ""
    event_hash: str = ""

    def canonical(self) -> bytes:
        """Deterministic bytes: sorted-key compact JSON, UTF-8 (the payload as stored),
        built directly; equal to ``json.dumps(..., sort_keys=True, separators=(",", ":"),
        ensure_ascii=False)`` of the same fields (a test checks it)."""
        return (
            '{"actor":'
            + _enc(self.actor)
            + ',"at":'
            + _enc(self.at.isoformat(timespec="microseconds"))
            + ',"case_id":'
            + str(int(self.case_id))
            + ',"kind":'
            + _enc(self.kind)
            + ',"payload":'
            + _enc(self.payload)
            + ',"role":'
            + _enc(self.role)
            + ',"seq":'
            + str(int(self.seq))
            + ',"state_after":'
            + _enc(self.state_after)
            + "}"
        ).encode()

    def hashed(self, prev: str, key: bytes | None) -> str:
        """HMAC-SHA256, keyed by the history key, over the previous event's hash (32
        bytes) and this event's bytes: whoever can write the store but does not hold the
        key cannot recompute it. (``key=None``: the unkeyed SHA-256 of stores before
        revision 0011, for their migration only.)"""
        msg = bytes.fromhex(prev) + self.canonical()
        if key is None:
            return hashlib.sha256(msg).hexdigest()
        return hmac.new(key, msg, hashlib.sha256).hexdigest()


def case_seal(
    key: bytes, case_id: int, state: str, head_hash: str, counsel: str | None = None
) -> str:
    """The case row's token: its state, its counsel and its last event's hash, sealed with
    the history key (a row whose state or counsel was edited alone, or whose last event
    was deleted, no longer carries its seal)."""
    msg = f"case\x00{int(case_id)}\x00{state}\x00{head_hash}\x00{counsel or ''}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]


def case_sealed(
    key: bytes, case_id: int, state: str, head_hash: str, counsel: str | None, token: str | None
) -> bool:
    """Whether a case row's token is the seal of its state, counsel and last event."""
    expected = case_seal(key, case_id, state, head_hash, counsel)
    return token is not None and hmac.compare_digest(token, expected)


def chain_problem(events: Iterable[StoredEvent], key: bytes | None) -> str | None:
    """Why one case's events (in ``seq`` order) do not form its chain under the history
    key, naming the first event that does not fit; None when every event fits."""
    prev, expected = GENESIS, 1
    for e in events:
        if e.seq != expected:
            return (
                f"case {e.case_id}: expected event {expected}, found {e.seq} (an event "
                "was deleted or inserted)"
            )
        if e.prev_hash != prev:
            return f"case {e.case_id}: event {e.seq} ({e.kind}) does not name its predecessor"
        if not hmac.compare_digest(e.hashed(prev, key), e.event_hash):
            return f"case {e.case_id}: event {e.seq} ({e.kind}) does not match its hash (edited)"
        prev, expected = e.event_hash, expected + 1
    return None
