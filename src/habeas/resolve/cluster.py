"""From scored pairs to persons: clustering with reviewers' decisions, and stable ids.

Pure functions over plain data. Reviewers' "same" decisions join records whatever the
model says; "different" decisions and unmerges are cannot-link constraints: a cluster
that would hold both sides is rebuilt greedily, strongest links first, refusing any
link that would join the two sides.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class CannotLink:
    """Records on side ``a`` must never share a person with records on side ``b``."""

    key: str
    a: frozenset[str]
    b: frozenset[str]


NUMBER_KINDS = ("a_number", "ssn", "itin", "fbi_number")
"""Identifiers a person has one of: two values that are not one number mistyped mean two
people (a person may hold an ITIN and a later SSN: they are different kinds)."""


def number_kinds(
    a_number: str | None, taxpayer_id: str | None, fbi: str | None
) -> set[tuple[str, str]]:
    """The (kind, value) identifiers of one prepared record."""
    out: set[tuple[str, str]] = set()
    if a_number:
        out.add(("a_number", a_number))
    if taxpayer_id:
        out.add(("itin" if taxpayer_id.startswith("9") else "ssn", taxpayer_id))
    if fbi:
        out.add(("fbi_number", fbi))
    return out


def osa_distance(a: str, b: str) -> int:
    """Edit distance counting a transposition of neighbours as one edit."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def numbers_conflict(mine: set[tuple[str, str]], theirs: set[tuple[str, str]]) -> str | None:
    """The first pair of identifiers that cannot be one person's, as text, or None.

    A keyed-in number one digit or one transposition off is the same number mistyped;
    FBI numbers are compared exactly.
    """
    for kind, value in sorted(mine):
        for other_kind, other in sorted(theirs):
            if kind != other_kind or value == other:
                continue
            if kind == "fbi_number" or osa_distance(value, other) > 1:
                return f"{kind} {min(value, other)} vs {max(value, other)}"
    return None


def components(ids: Sequence[str], left: Sequence[str], right: Sequence[str]) -> dict[str, int]:
    """Connected components of the graph whose edges are ``left[i]``–``right[i]``."""
    index = {rid: i for i, rid in enumerate(ids)}
    rows = np.fromiter((index[x] for x in left), dtype=np.int64, count=len(left))
    cols = np.fromiter((index[x] for x in right), dtype=np.int64, count=len(right))
    labels = label_components(len(ids), rows, cols)
    return {rid: int(labels[i]) for i, rid in enumerate(ids)}


class _Groups:
    """Union-find that refuses unions breaking a cannot-link constraint."""

    def __init__(self, ids: Iterable[str], constraints: Sequence[CannotLink]) -> None:
        self.parent: dict[str, str] = {i: i for i in ids}
        self.sides: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for c in constraints:
            for rid in c.a:
                if rid in self.parent:
                    self.sides[rid].add((c.key, "a"))
            for rid in c.b:
                if rid in self.parent:
                    self.sides[rid].add((c.key, "b"))

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def conflict(self, x: str, y: str) -> bool:
        sx, sy = self.sides.get(self.find(x), set()), self.sides.get(self.find(y), set())
        return any((key, "b" if side == "a" else "a") in sy for key, side in sx)

    def union(self, x: str, y: str, force: bool = False) -> bool:
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return True
        if not force and self.conflict(rx, ry):
            return False
        self.parent[ry] = rx
        if ry in self.sides:
            self.sides[rx] |= self.sides.pop(ry)
        return True


def cluster(
    ids: Sequence[str],
    edges: Sequence[tuple[str, str, float]],
    same: Sequence[tuple[str, str]] = (),
    constraints: Sequence[CannotLink] = (),
) -> dict[str, int]:
    """Record id → cluster number, from model edges, must-links and cannot-links.

    ``edges`` are the pairs above the clustering threshold with their probability.
    """
    left = [e[0] for e in edges] + [s[0] for s in same]
    right = [e[1] for e in edges] + [s[1] for s in same]
    labels = components(ids, left, right)
    if not constraints:
        return labels
    members: dict[int, list[str]] = defaultdict(list)
    for rid, lab in labels.items():
        members[lab].append(rid)
    split: set[int] = set()
    for c in constraints:
        a_labels = {labels[r] for r in c.a if r in labels}
        b_labels = {labels[r] for r in c.b if r in labels}
        split |= a_labels & b_labels
    if not split:
        return labels
    next_label = max(labels.values(), default=-1) + 1
    for lab in sorted(split):
        for part in repair(members[lab], edges, same, constraints):
            for rid in part:
                labels[rid] = next_label
            next_label += 1
    return labels


def new_person_id(records: Iterable[str]) -> str:
    """A person id derived from the smallest record id of the cluster (same data, same id)."""
    first = min(records)
    return "P" + hashlib.sha256(first.encode()).hexdigest()[:12].upper()


def assign_person_ids(labels: dict[str, int], previous: dict[str, str]) -> dict[str, str]:
    """Record id → person id, keeping earlier ids wherever their cluster survives.

    Each earlier person id goes to the new cluster holding most of its records (ties to
    the cluster with the smallest record id); a cluster inheriting no id gets a new one.
    """
    members: dict[int, list[str]] = defaultdict(list)
    for rid, lab in labels.items():
        members[lab].append(rid)
    claims: list[tuple[int, str, str, int]] = []  # (-count, first record, old id, label)
    for lab, recs in members.items():
        counts = Counter(previous[r] for r in recs if r in previous)
        for old, n in counts.items():
            claims.append((-n, min(recs), old, lab))
    claims.sort()
    taken_ids: set[str] = set()
    label_id: dict[int, str] = {}
    for _, _, old, lab in claims:
        if old in taken_ids or lab in label_id:
            continue
        label_id[lab] = old
        taken_ids.add(old)
    out: dict[str, str] = {}
    for lab, recs in members.items():
        pid = label_id.get(lab)
        if pid is None:
            pid = new_person_id(recs)
            salt = 0
            while pid in taken_ids:  # the smallest record once named a cluster that lives on
                salt += 1
                seed = f"{salt}|" + "|".join(sorted(recs))
                pid = "P" + hashlib.sha256(seed.encode()).hexdigest()[:12].upper()
            taken_ids.add(pid)
        for r in recs:
            out[r] = pid
    return out


def label_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component label of each of ``n`` nodes numbered 0..n-1, given edge endpoint arrays."""
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def repair(
    members: Sequence[str],
    edges: Sequence[tuple[str, str, float]],
    same: Sequence[tuple[str, str]],
    constraints: Sequence[CannotLink],
) -> list[list[str]]:
    """Split one component that breaks a cannot-link: greedy, reviewers' joins first,
    then the model's links strongest first, refusing any link that joins the two sides."""
    inside = set(members)
    uf = _Groups(members, constraints)
    for x, y in same:
        if x in inside and y in inside:
            uf.union(x, y)
    for x, y, _ in sorted(
        (e for e in edges if e[0] in inside and e[1] in inside), key=lambda e: (-e[2], e[0], e[1])
    ):
        uf.union(x, y)
    groups: dict[str, list[str]] = {}
    for rid in sorted(members):
        groups.setdefault(uf.find(rid), []).append(rid)
    return list(groups.values())
