"""The audit log's cryptography, as pure functions: canonical bytes, the hash chain, the
RFC 9162 Merkle tree, and signed checkpoints an outside witness can keep.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical
bytes, so editing, removing or reordering any entry breaks every hash after it. A
checkpoint signs the tree size, the Merkle root and the chain head at a moment; with
it, a truncated tail (which leaves a valid but shorter chain) is detected too.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64
"""The 'previous hash' of the first entry."""


@dataclass(frozen=True)
class Entry:
    """One audited access or change, as it is hashed."""

    seq: int
    at: str
    user: str
    role: str
    purpose: str
    action: str
    resources: tuple[str, ...]
    decision: str
    request_id: str
    detail: str = ""

    def canonical(self) -> bytes:
        """Deterministic bytes: sorted-key compact JSON, UTF-8."""
        return canonical_bytes(
            self.seq,
            self.at,
            self.user,
            self.role,
            self.purpose,
            self.action,
            resources_json(self.resources),
            self.decision,
            self.request_id,
            self.detail,
        )


def resources_json(resources: Iterable[str]) -> str:
    """The resource list as stored and hashed: compact JSON."""
    return json.dumps(list(resources), separators=(",", ":"), ensure_ascii=False)


_enc = json.encoder.encode_basestring


def canonical_bytes(
    seq: int,
    at: str,
    user: str,
    role: str,
    purpose: str,
    action: str,
    resources: str,
    decision: str,
    request_id: str,
    detail: str,
) -> bytes:
    """Sorted-key compact JSON of an entry, built directly (``resources`` already JSON).

    Equal to ``json.dumps(entry, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``; a test checks that for arbitrary text.
    """
    return (
        '{"action":'
        + _enc(action)
        + ',"at":'
        + _enc(at)
        + ',"decision":'
        + _enc(decision)
        + ',"detail":'
        + _enc(detail)
        + ',"purpose":'
        + _enc(purpose)
        + ',"request_id":'
        + _enc(request_id)
        + ',"resources":'
        + resources
        + ',"role":'
        + _enc(role)
        + ',"seq":'
        + str(seq)
        + ',"user":'
        + _enc(user)
        + "}"
    ).encode()


def entry_hash(prev_hash: str, entry: Entry) -> str:
    """SHA-256 over the previous hash (32 bytes) and the entry's canonical bytes."""
    return chain_hash(prev_hash, entry.canonical())


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """SHA-256 over the previous hash (32 bytes) and canonical bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first entry that does not fit the chain, and why."""

    seq: int
    position: int
    reason: str


def verify_chain(rows: Iterable[tuple[Entry, str, str]]) -> tuple[int, str, Break | None]:
    """Walk (entry, stored prev_hash, stored hash) rows in order; see ``verify_raw``."""
    return verify_raw((e.seq, e.canonical(), p, h) for e, p, h in rows)


def verify_raw(rows: Iterable[tuple[int, bytes, str, str]]) -> tuple[int, str, Break | None]:
    """Walk (seq, canonical bytes, stored prev_hash, stored hash) rows in order.

    Returns the number of entries that fit, the head hash, and the first break (None when
    every entry fits). Checks that sequence numbers run 1, 2, 3 … without a gap, that each
    entry names its predecessor's hash, and that its own hash is what its bytes give.
    """
    prev = GENESIS
    n = 0
    for position, (seq, canon, stored_prev, stored_hash) in enumerate(rows, start=1):
        if seq != position:
            why = "missing or reordered entries" if seq > position else "reordered entries"
            return n, prev, Break(seq, position, f"expected entry {position}, found {seq} ({why})")
        if stored_prev != prev:
            return n, prev, Break(seq, position, "does not name the previous entry's hash")
        if chain_hash(prev, canon) != stored_hash:
            return n, prev, Break(seq, position, "its contents do not match its hash (edited)")
        prev = stored_hash
        n += 1
    return n, prev, None


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> str:
    """RFC 9162 Merkle tree hash over the entries' canonical bytes (hex)."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = [_leaf(x) for x in leaves]
    while len(level) > 1:
        nxt = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])  # RFC 9162: an odd node is promoted, not duplicated
        level = nxt
    return level[0].hex()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: at ``time`` the log had ``size`` entries with these hashes."""

    size: int
    root: str
    head: str
    time: str
    key_id: str
    signature: str = ""

    def statement(self) -> bytes:
        """The bytes that are signed."""
        return f"habeas-audit-checkpoint\n{self.size}\n{self.root}\n{self.head}\n{self.time}\n".encode()  # noqa: E501

    def to_json(self) -> str:
        """The checkpoint as a JSON document for the witness to keep."""
        return json.dumps(self.__dict__, indent=2, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Checkpoint:
        """Read a checkpoint document; raises ValueError when a field is missing."""
        data = json.loads(text)
        return Checkpoint(
            size=int(data["size"]),
            root=str(data["root"]),
            head=str(data["head"]),
            time=str(data["time"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )


def key_id(public: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key."""
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(cp: Checkpoint, private: Ed25519PrivateKey) -> Checkpoint:
    """The checkpoint with its Ed25519 signature."""
    sig = base64.b64encode(private.sign(cp.statement())).decode()
    return Checkpoint(cp.size, cp.root, cp.head, cp.time, key_id(private.public_key()), sig)


def signature_ok(cp: Checkpoint, public: Ed25519PublicKey) -> bool:
    """Whether the checkpoint was signed by the holder of ``public``'s private key."""
    try:
        public.verify(base64.b64decode(cp.signature), cp.statement())
    except (InvalidSignature, ValueError):
        return False
    return True


class MerkleTree:
    """RFC 9162 Merkle tree over leaves' bytes, with inclusion proofs (audit paths).

    Subtree hashes are kept as they are computed, so many proofs over one tree cost one
    pass over the leaves. The root equals ``merkle_root`` of the same leaves."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self._leaves = [_leaf(x) for x in leaves]
        self._memo: dict[tuple[int, int], bytes] = {}

    def __len__(self) -> int:
        return len(self._leaves)

    def _hash(self, lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return self._leaves[lo]
        key = (lo, hi)
        hit = self._memo.get(key)
        if hit is None:
            k = _split(hi - lo)
            hit = _node(self._hash(lo, lo + k), self._hash(lo + k, hi))
            self._memo[key] = hit
        return hit

    def root(self) -> str:
        """The tree's root hash (hex)."""
        if not self._leaves:
            return hashlib.sha256(b"").hexdigest()
        return self._hash(0, len(self._leaves)).hex()

    def proof(self, index: int) -> list[str]:
        """The audit path of leaf ``index`` (0-based), leaf to root (hex hashes)."""
        path: list[str] = []
        lo, hi, m = 0, len(self._leaves), index
        stack = []
        while hi - lo > 1:
            k = _split(hi - lo)
            if m < k:
                stack.append(self._hash(lo + k, hi))
                hi = lo + k
            else:
                stack.append(self._hash(lo, lo + k))
                lo, m = lo + k, m - k
        path = [h.hex() for h in reversed(stack)]
        return path


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def inclusion_ok(leaf: bytes, index: int, size: int, path: Sequence[str], root: str) -> bool:
    """RFC 9162 section 2.1.3.2: whether ``leaf`` is entry ``index`` (0-based) of the tree of
    ``size`` leaves whose root is ``root``, by its audit path."""
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = _leaf(leaf)
    for p in path:
        h = bytes.fromhex(p)
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(h, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, h)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r.hex() == root
