"""Build the index tables of a full run inside the resolver's own DuckDB connection.

Everything set-based stays in SQL; in Python run only the graph steps: connected
components over integer ids (scipy), the repair of components that break a reviewer's
cannot-link, the split of clusters holding two people's numbers, and the attachment of
small clusters to the person their links point into. The results are tables the caller
copies into the store.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from habeas.resolve.cluster import (
    CannotLink,
    label_components,
    number_kinds,
    numbers_conflict,
    repair,
)
from habeas.resolve.index import flags_sql
from habeas.resolve.review import Constraints


def _edges(work: duckdb.DuckDBPyConnection, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    got = work.execute(
        """SELECT l.idx AS a, r.idx AS b FROM scored s
           JOIN ids l ON l.unique_id = s.unique_id_l JOIN ids r ON r.unique_id = s.unique_id_r
           WHERE s.match_probability >= ?
           UNION ALL
           SELECT l.idx, r.idx FROM same_pairs p
           JOIN ids l ON l.unique_id = p.a JOIN ids r ON r.unique_id = p.b""",
        [threshold],
    ).fetchnumpy()
    return np.asarray(got["a"], dtype=np.int64), np.asarray(got["b"], dtype=np.int64)


def cluster_records(work: duckdb.DuckDBPyConnection, rules: Constraints, threshold: float) -> None:
    """Create work table ``clusters(unique_id, label)`` from ``scored`` and the decisions:
    components at ``threshold``, reviewers' constraints, conflict splits, attachments."""
    work.execute(
        """CREATE OR REPLACE TABLE ids AS SELECT unique_id,
             (row_number() OVER (ORDER BY unique_id) - 1)::BIGINT AS idx FROM resolve_input"""
    )
    same = pa.table(  # noqa: F841 - read by DuckDB
        {"a": [a for a, _ in rules.same], "b": [b for _, b in rules.same]},
        schema=pa.schema([("a", pa.string()), ("b", pa.string())]),
    )
    work.execute("CREATE OR REPLACE TABLE same_pairs AS SELECT * FROM same")
    n = int(work.execute("SELECT count(*) FROM ids").fetchall()[0][0])
    left, right = _edges(work, threshold)
    labels = label_components(n, left, right)
    ids = work.execute("SELECT unique_id FROM ids ORDER BY idx").fetchnumpy()["unique_id"]
    id_list = list(ids)
    if rules.cannot:
        _repair_constraints(work, rules, labels, id_list, threshold)
    _split_conflicts(work, rules, labels, id_list, threshold)
    _attach_small(work, rules, labels, id_list)
    clusters = pa.table({"unique_id": pa.array(ids, pa.string()), "label": labels})  # noqa: F841
    work.execute("CREATE OR REPLACE TABLE clusters AS SELECT * FROM clusters")


CONFLICTS_SQL = """
WITH v AS (
  SELECT c.label, r.unique_id, 'a_number' AS kind, r.a_number AS val
    FROM labelled c JOIN resolve_input r USING (unique_id) WHERE r.a_number IS NOT NULL
  UNION ALL
  SELECT c.label, r.unique_id,
         CASE WHEN starts_with(r.taxpayer_id, '9') THEN 'itin' ELSE 'ssn' END, r.taxpayer_id
    FROM labelled c JOIN resolve_input r USING (unique_id) WHERE r.taxpayer_id IS NOT NULL
  UNION ALL
  SELECT c.label, r.unique_id, 'fbi_number', r.fbi_number
    FROM labelled c JOIN resolve_input r USING (unique_id) WHERE r.fbi_number IS NOT NULL
),
d AS (SELECT label, kind, val, list_sort(list(unique_id)) AS recs FROM v GROUP BY ALL),
multi AS (SELECT label, kind FROM d GROUP BY ALL HAVING count(*) > 1)
SELECT a.label, a.kind, a.val, b.val, a.recs, b.recs
FROM d a JOIN d b ON a.label = b.label AND a.kind = b.kind AND a.val < b.val
WHERE (a.label, a.kind) IN (SELECT (label, kind) FROM multi)
  -- a keyed-in number one digit or transposition off is the same number mistyped
  AND (a.kind = 'fbi_number' OR damerau_levenshtein(a.val, b.val) > 1)
ORDER BY a.label, a.kind, a.val, b.val
"""
"""Pairs of one person's identifier values that cannot both be theirs: two A-numbers, two
SSNs, two ITINs or two FBI numbers that are not one keyed-in number mistyped."""


def _split_conflicts(
    work: duckdb.DuckDBPyConnection,
    rules: Constraints,
    labels: np.ndarray,
    ids: list[str],
    threshold: float,
) -> None:
    """Split each cluster holding two identifiers that cannot be one person's.

    Connected components join two people through one bad link; a cluster whose records
    carry conflicting A-numbers, SSNs, ITINs or FBI numbers is rebuilt strongest links
    first, refusing any link that would put the two numbers in one person. Each split is
    written to work table ``splits`` with the conflict that caused it.
    """
    labelled = pa.table({"unique_id": pa.array(ids, pa.string()), "label": labels})  # noqa: F841
    work.execute("CREATE OR REPLACE TABLE labelled AS SELECT * FROM labelled")
    found: dict[int, list[CannotLink]] = {}
    for label, kind, va, vb, ra, rb in work.execute(CONFLICTS_SQL).fetchall():
        found.setdefault(int(label), []).append(
            CannotLink(f"{kind} {va} vs {vb}", frozenset(ra), frozenset(rb))
        )
    split_rows: list[tuple[int, list[str], str]] = []
    members: dict[int, list[str]] = {}
    position: dict[str, int] = {}
    edges: dict[int, list[tuple[str, str, float]]] = {}
    if found:  # every conflicting cluster's members and inner links, in two queries
        wanted = pa.table({"label": pa.array(sorted(found), pa.int64())})  # noqa: F841
        work.execute(
            "CREATE OR REPLACE TABLE split_members AS SELECT l.unique_id, l.label, i.idx "
            "FROM labelled l JOIN wanted USING (label) JOIN ids i USING (unique_id)"
        )
        for label, rid, idx in work.execute(
            "SELECT label, unique_id, idx FROM split_members"
        ).fetchall():
            members.setdefault(int(label), []).append(rid)
            position[rid] = int(idx)
        for label, a, b, prob in work.execute(
            """SELECT l.label, s.unique_id_l, s.unique_id_r, s.match_probability FROM scored s
               JOIN split_members l ON l.unique_id = s.unique_id_l
               JOIN split_members r ON r.unique_id = s.unique_id_r AND r.label = l.label
               WHERE s.match_probability >= ?""",
            [threshold],
        ).fetchall():
            edges.setdefault(int(label), []).append((a, b, float(prob)))
        work.execute("DROP TABLE split_members")
    next_label = int(labels.max()) + 1 if len(labels) else 0
    for label, conflicts in sorted(found.items()):
        parts = repair(
            sorted(members[label]), edges.get(label, []), rules.same, [*rules.cannot, *conflicts]
        )
        why = "; ".join(sorted({c.key for c in conflicts}))
        for part in parts:
            for rid in part:
                labels[position[rid]] = next_label
            split_rows.append((label, sorted(part), why))
            next_label += 1
    splits = pa.table(  # noqa: F841 - read by DuckDB
        {
            "origin": pa.array([o for o, _, _ in split_rows], pa.int64()),
            "records": pa.array([r for _, r, _ in split_rows], pa.list_(pa.string())),
            "reason": pa.array([w for _, _, w in split_rows], pa.string()),
        }
    )
    work.execute("CREATE OR REPLACE TABLE splits AS SELECT * FROM splits")
    work.execute("DROP TABLE labelled")


ATTACH_FLOOR = 0.8
"""A group of records (often one) joins a person at least as large when it has as many
links at or above this probability into that person as it has records."""
ATTACH_ROUNDS = 3
NAMES_MEET = """(a.given_canon = b.given_canon OR a.given_dm = b.given_dm
    OR a.family_dm = b.family_dm OR a.family_sk = b.family_sk
    OR array_length(array_intersect(a.name_tokens, b.name_tokens)) >= 1)"""
"""An attachment needs some name in common: a link made of a shared phone and birth date
with no name agreeing (a data broker's merged profile) is for a reviewer."""


def _attach_small(
    work: duckdb.DuckDBPyConnection, rules: Constraints, labels: np.ndarray, ids: list[str]
) -> None:
    """Join each small cluster to the larger person its links point into.

    One pairwise link under the threshold says little; a record (or a group of records)
    whose every member has a link of at least ``ATTACH_FLOOR`` into the same person, at
    least as large, is that person's unless their numbers conflict or a reviewer keeps
    them apart. The person with the largest sum of those links wins; a few rounds let a
    person grow by groups that now point into it. Such links are marked ``attached``.
    """
    labelled = pa.table({"unique_id": pa.array(ids, pa.string()), "label": labels})  # noqa: F841
    work.execute("CREATE OR REPLACE TABLE labelled AS SELECT * FROM labelled")
    cross = work.execute(
        f"""SELECT s.unique_id_l, s.unique_id_r, s.match_probability FROM scored s
            JOIN labelled l ON l.unique_id = s.unique_id_l
            JOIN labelled r ON r.unique_id = s.unique_id_r
            JOIN resolve_input a ON a.unique_id = s.unique_id_l
            JOIN resolve_input b ON b.unique_id = s.unique_id_r
            WHERE s.match_probability >= ? AND l.label <> r.label AND {NAMES_MEET}""",
        [ATTACH_FLOOR],
    ).fetchall()
    if not cross:
        work.execute("DROP TABLE labelled")
        return
    touched = sorted({r for a, b, _ in cross for r in (a, b)})
    wanted = pa.table({"unique_id": pa.array(touched, pa.string())})  # noqa: F841
    work.execute(
        """CREATE OR REPLACE TABLE attach_members AS
           SELECT l.unique_id, l.label, i.idx, r.a_number, r.taxpayer_id, r.fbi_number
           FROM labelled l JOIN ids i USING (unique_id) JOIN resolve_input r USING (unique_id)
           WHERE l.label IN (SELECT l2.label FROM labelled l2 JOIN wanted USING (unique_id))"""
    )
    label_of: dict[str, int] = {}
    position: dict[str, int] = {}
    numbers_of: dict[str, set[tuple[str, str]]] = {}
    for rid, lab, idx, a_num, tax, fbi in work.execute("SELECT * FROM attach_members").fetchall():
        label_of[rid] = int(lab)
        position[rid] = int(idx)
        if a_num or tax or fbi:
            numbers_of[rid] = number_kinds(a_num, tax, fbi)
    work.execute("DROP TABLE attach_members")
    work.execute("DROP TABLE labelled")
    members: dict[int, set[str]] = {}
    for rid, lab in label_of.items():
        members.setdefault(lab, set()).add(rid)
    numbers = {
        lab: set().union(*(numbers_of.get(r, set()) for r in recs)) for lab, recs in members.items()
    }
    for _ in range(ATTACH_ROUNDS):
        evidence: dict[int, dict[int, list[float]]] = {}
        for a, b, p in cross:
            la, lb = label_of[a], label_of[b]
            if la != lb:
                evidence.setdefault(la, {}).setdefault(lb, []).append(p)
                evidence.setdefault(lb, {}).setdefault(la, []).append(p)
        moves: list[tuple[int, int]] = []
        for small, into in sorted(evidence.items()):
            size = len(members[small])
            best: tuple[float, int] | None = None
            for big, probs in sorted(into.items()):
                if len(members[big]) < size or (len(members[big]) == size and big < small):
                    continue  # the smaller joins the larger (ties: the later label moves)
                if len(probs) < size or numbers_conflict(numbers[small], numbers[big]):
                    continue
                if _kept_apart(rules, members[small], members[big]):
                    continue
                if best is None or sum(probs) > best[0]:
                    best = (sum(probs), big)
            if best is not None:
                moves.append((small, best[1]))
        moved = False
        for small, big in moves:
            if small not in members or big not in members or small == big:
                continue  # already moved this round
            if numbers_conflict(numbers[small], numbers[big]):
                continue
            for rid in members[small]:
                label_of[rid] = big
            members[big] |= members.pop(small)
            numbers[big] |= numbers.pop(small)
            moved = True
        if not moved:
            break
    for rid, lab in label_of.items():
        labels[position[rid]] = lab


def _kept_apart(rules: Constraints, one: set[str], other: set[str]) -> bool:
    return any((c.a & one and c.b & other) or (c.b & one and c.a & other) for c in rules.cannot)


def _inner_edges(
    work: duckdb.DuckDBPyConnection, members: list[str], threshold: float
) -> list[tuple[str, str, float]]:
    return [
        (a, b, float(p))
        for a, b, p in work.execute(
            """SELECT unique_id_l, unique_id_r, match_probability FROM scored
               WHERE match_probability >= ? AND unique_id_l IN (SELECT unnest(?))
                 AND unique_id_r IN (SELECT unnest(?))""",
            [threshold, members, members],
        ).fetchall()
    ]


def _repair_constraints(
    work: duckdb.DuckDBPyConnection,
    rules: Constraints,
    labels: np.ndarray,
    ids: list[str],
    threshold: float,
) -> None:
    index = {rid: i for i, rid in enumerate(ids)}
    broken: set[int] = set()
    for c in rules.cannot:
        a = {int(labels[index[r]]) for r in c.a if r in index}
        b = {int(labels[index[r]]) for r in c.b if r in index}
        broken |= a & b
    next_label = int(labels.max()) + 1 if len(labels) else 0
    for lab in sorted(broken):
        members = [ids[i] for i in np.flatnonzero(labels == lab)]
        edges = _inner_edges(work, members, threshold)
        for part in repair(members, edges, rules.same, rules.cannot):
            for rid in part:
                labels[index[rid]] = next_label
            next_label += 1


def assign_ids(work: duckdb.DuckDBPyConnection) -> None:
    """Create work table ``mapping(record_id, person_id)`` from ``clusters`` and ``previous``.

    Each earlier person id goes to the cluster holding most of its records (ties to the
    cluster with the smallest record id); each cluster keeps at most one earlier id, the
    one with most records there; the rest get ids derived from their smallest record.
    """
    work.execute(
        """CREATE OR REPLACE TABLE claims AS
           WITH c AS (SELECT c.label, p.person_id AS old, count(*) AS n
                      FROM clusters c JOIN previous p ON p.record_id = c.unique_id
                      GROUP BY ALL),
           firsts AS (SELECT label, min(unique_id) AS first FROM clusters GROUP BY label),
           best_for_old AS (
             SELECT c.*, f.first, row_number() OVER (
               PARTITION BY old ORDER BY n DESC, f.first) AS k
             FROM c JOIN firsts f USING (label)),
           best_for_label AS (
             SELECT *, row_number() OVER (PARTITION BY label ORDER BY n DESC, old) AS k2
             FROM best_for_old WHERE k = 1)
           SELECT label, old FROM best_for_label WHERE k2 = 1"""
    )
    work.execute(
        """CREATE OR REPLACE TABLE label_ids AS
           SELECT f.label, coalesce(c.old,
                    'P' || upper(substr(sha256(f.first), 1, 12))) AS person_id,
                  c.old IS NOT NULL AS inherited, f.first
           FROM (SELECT label, min(unique_id) AS first FROM clusters GROUP BY label) f
           LEFT JOIN claims c USING (label)"""
    )
    clashes = work.execute(
        """SELECT label FROM (
             SELECT label, inherited, count(*) OVER (PARTITION BY person_id) AS uses
             FROM label_ids) WHERE uses > 1 AND NOT inherited ORDER BY label"""
    ).fetchall()
    taken = {r[0] for r in work.execute("SELECT person_id FROM label_ids").fetchall()}
    for (label,) in clashes:  # a fresh id equal to one a surviving cluster kept
        members = sorted(
            r[0]
            for r in work.execute(
                "SELECT unique_id FROM clusters WHERE label = ?", [label]
            ).fetchall()
        )
        salt = 0
        pid = ""
        while not pid or pid in taken:
            salt += 1
            seed = f"{salt}|" + "|".join(members)
            pid = "P" + hashlib.sha256(seed.encode()).hexdigest()[:12].upper()
        taken.add(pid)
        work.execute("UPDATE label_ids SET person_id = ? WHERE label = ?", [pid, label])
    work.execute(
        """CREATE OR REPLACE TABLE mapping AS SELECT c.unique_id AS record_id, l.person_id
           FROM clusters c JOIN label_ids l USING (label)"""
    )


def derive_tables(
    work: duckdb.DuckDBPyConnection,
    run_id: str,
    threshold: float,
    review_low: float,
    now: datetime,
) -> None:
    """Create work tables new_person_records, new_persons, new_review_queue, new_flags."""
    work.execute(
        """CREATE OR REPLACE TABLE new_person_records AS
           WITH inside AS (
             SELECT s.unique_id_l AS a, s.unique_id_r AS b, s.match_probability AS p,
                    s.match_weight AS w
             FROM scored s JOIN mapping ml ON ml.record_id = s.unique_id_l
             JOIN mapping mr ON mr.record_id = s.unique_id_r
             WHERE ml.person_id = mr.person_id),
           ends AS (SELECT a AS rid, b AS other, p, w FROM inside
                    UNION ALL SELECT b, a, p, w FROM inside),
           best AS (SELECT rid, arg_max(other, p) AS other, max(p) AS p, arg_max(w, p) AS w
                    FROM ends GROUP BY rid),
           reviewed AS (SELECT a AS rid FROM same_pairs UNION SELECT b FROM same_pairs)
           SELECT m.record_id, m.person_id, r.source, b.other AS linked_via,
                  b.p AS match_probability, b.w AS match_weight,
                  CASE WHEN b.p >= ? THEN 'model'
                       WHEN v.rid IS NOT NULL THEN 'reviewer'
                       WHEN b.rid IS NULL THEN 'alone'
                       ELSE 'attached' END AS how,
                  ? AS run_id
           FROM mapping m JOIN resolve_input r ON r.unique_id = m.record_id
           LEFT JOIN best b ON b.rid = m.record_id
           LEFT JOIN reviewed v ON v.rid = m.record_id""",
        [threshold, run_id],
    )
    work.execute(
        """CREATE OR REPLACE TABLE new_splits AS
           WITH sp AS (SELECT origin, reason, unnest(records) AS record_id FROM splits),
           pp AS (SELECT sp.origin, sp.reason, m.person_id,
                         list_sort(list(sp.record_id)) AS records
                  FROM sp JOIN mapping m USING (record_id) GROUP BY ALL)
           SELECT a.person_id, a.reason,
                  list_sort(list(DISTINCT b.person_id)) AS kept_apart_from, ? AS run_id,
                  any_value(a.records) AS record_ids
           FROM pp a JOIN pp b ON a.origin = b.origin AND a.person_id <> b.person_id
           GROUP BY a.person_id, a.reason""",
        [run_id],
    )
    work.execute(
        """CREATE OR REPLACE TABLE new_persons AS
           SELECT person_id, count(*) AS records, list_sort(list_distinct(list(source))) AS sources,
                  ? AS run_id
           FROM new_person_records GROUP BY person_id""",
        [run_id],
    )
    work.execute(
        """CREATE OR REPLACE TABLE new_review_queue AS
           SELECT s.unique_id_l AS record_id_l, s.unique_id_r AS record_id_r,
                  ml.person_id AS person_l, mr.person_id AS person_r,
                  s.match_probability, s.match_weight, ? AS run_id
           FROM scored s JOIN mapping ml ON ml.record_id = s.unique_id_l
           JOIN mapping mr ON mr.record_id = s.unique_id_r
           WHERE ml.person_id <> mr.person_id AND s.match_probability >= ?
             AND NOT EXISTS (SELECT 1 FROM decided d
                             WHERE d.a = least(s.unique_id_l, s.unique_id_r)
                               AND d.b = greatest(s.unique_id_l, s.unique_id_r))
           -- one entry per pair of persons: its strongest link stands for the rest
           QUALIFY row_number() OVER (
             PARTITION BY least(ml.person_id, mr.person_id), greatest(ml.person_id, mr.person_id)
             ORDER BY s.match_probability DESC, s.unique_id_l, s.unique_id_r) = 1""",
        [run_id, review_low],
    )
    work.execute(
        f"""CREATE OR REPLACE TABLE new_flags AS
            WITH fresh AS ({flags_sql("mapping", "staged")})
            SELECT f.person_id, f.flag, f.detail, f.record_ids,
                   coalesce(o.status, 'open') AS status,
                   coalesce(o.raised_at, ?::TIMESTAMP) AS raised_at,
                   o.resolved_by, o.resolution, o.resolved_at
            FROM fresh f LEFT JOIN old_flags o
              ON o.person_id = f.person_id AND o.flag = f.flag AND o.record_ids = f.record_ids""",
        [now],
    )
    # a person a conflict split: the analyst sees whom it was kept apart from, and why
    work.execute(
        """INSERT INTO new_flags
           SELECT person_id, 'kept_apart',
                  'kept apart from ' || array_to_string(kept_apart_from, ', ') || ': ' || reason,
                  record_ids, 'open', ?::TIMESTAMP, NULL, NULL, NULL
           FROM new_splits""",
        [now],
    )
