"""Human review: decisions on pairs, unmerges, and the constraints they put on clustering.

A decision is never deleted. The latest decision on a pair is the one in force; an
unmerge can itself be undone, and the undo is another recorded decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import duckdb

from habeas.errors import HabeasError
from habeas.resolve.cluster import CannotLink
from habeas.resolve.index import last_run
from habeas.sources.dates import date_text_sql

Decision = Literal["same", "different", "unsure"]
DECISIONS: tuple[str, ...] = ("same", "different", "unsure")


@dataclass(frozen=True)
class Constraints:
    """Reviewers' decisions in force: must-link pairs and cannot-link groups."""

    same: list[tuple[str, str]] = field(default_factory=list)
    cannot: list[CannotLink] = field(default_factory=list)


@dataclass(frozen=True)
class Recorded:
    """A recorded decision and any warnings it raised."""

    decision_id: int
    warnings: list[str]


def _check_reason(reviewer: str, reason: str) -> None:
    if not reviewer.strip():
        raise HabeasError("a review decision needs the reviewer's name")
    if len(reason.strip()) < 5:
        raise HabeasError("a review decision needs a reason (at least a few words)")


def constraints(con: duckdb.DuckDBPyConnection) -> Constraints:
    """The decisions in force: the latest per pair, and every unmerge not undone."""
    rows = con.execute(
        """SELECT record_id_l, record_id_r, decision FROM (
             SELECT *, row_number() OVER (
               PARTITION BY least(record_id_l, record_id_r), greatest(record_id_l, record_id_r)
               ORDER BY decision_id DESC) AS k
             FROM review_decisions WHERE kind = 'pair')
           WHERE k = 1 ORDER BY record_id_l, record_id_r"""
    ).fetchall()
    same = [(a, b) for a, b, d in rows if d == "same"]
    cannot = [
        CannotLink(f"pair:{a}:{b}", frozenset([a]), frozenset([b]))
        for a, b, d in rows
        if d == "different"
    ]
    for did, side_a, side_b in con.execute(
        """SELECT decision_id, side_a, side_b FROM review_decisions
           WHERE kind = 'unmerge' AND undone_by IS NULL ORDER BY decision_id"""
    ).fetchall():
        cannot.append(CannotLink(f"unmerge:{did}", frozenset(side_a), frozenset(side_b)))
    return Constraints(same, cannot)


def _person_of(con: duckdb.DuckDBPyConnection, record_id: str) -> str | None:
    rows = con.execute(
        "SELECT person_id FROM person_records WHERE record_id = ?", [record_id]
    ).fetchall()
    return rows[0][0] if rows else None


def _known(con: duckdb.DuckDBPyConnection, record_id: str) -> None:
    if not con.execute("SELECT 1 FROM records WHERE record_id = ?", [record_id]).fetchall():
        raise HabeasError(f"no staged record with id {record_id}")


def decide(
    con: duckdb.DuckDBPyConnection,
    left: str,
    right: str,
    decision: str,
    reviewer: str,
    reason: str,
    now: datetime,
) -> Recorded:
    """Record a reviewer's decision on a pair; it overrides the model from the next run.

    Warns when a "same" decision contradicts a "different" decision or an unmerge in force.
    """
    if decision not in DECISIONS:
        raise HabeasError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if left == right:
        raise HabeasError("a pair needs two different records")
    _check_reason(reviewer, reason)
    _known(con, left)
    _known(con, right)
    warnings: list[str] = []
    if decision == "same":
        for c in constraints(con).cannot:
            if (left in c.a and right in c.b) or (left in c.b and right in c.a):
                warnings.append(
                    f"this merge conflicts with an earlier decision ({c.key}) that keeps "
                    f"{left} and {right} apart; the newer decision on this pair is in force"
                )
        pl, pr = _person_of(con, left), _person_of(con, right)
        if pl is not None and pr is not None and pl != pr:
            cannot = [c for c in constraints(con).cannot if c.key.startswith("unmerge:")]
            members = {
                r
                for (r,) in con.execute(
                    "SELECT record_id FROM person_records WHERE person_id IN (?, ?)", [pl, pr]
                ).fetchall()
            }
            for c in cannot:
                if c.a & members and c.b & members:
                    warnings.append(
                        f"merging {pl} and {pr} would undo {c.key}: its records stay apart "
                        "unless that unmerge is undone"
                    )
    con.execute(
        """INSERT INTO review_decisions (kind, record_id_l, record_id_r, decision, reviewer,
             reason, decided_at) VALUES ('pair', ?, ?, ?, ?, ?, ?)""",
        [min(left, right), max(left, right), decision, reviewer, reason, now],
    )
    did = int(con.execute("SELECT max(decision_id) FROM review_decisions").fetchall()[0][0])
    return Recorded(did, warnings)


def unmerge(
    con: duckdb.DuckDBPyConnection,
    person_id: str,
    record_ids: list[str],
    reviewer: str,
    reason: str,
    now: datetime,
) -> Recorded:
    """Split records off a person: they may never again share a person with the rest."""
    _check_reason(reviewer, reason)
    members = sorted(
        r
        for (r,) in con.execute(
            "SELECT record_id FROM person_records WHERE person_id = ?", [person_id]
        ).fetchall()
    )
    if not members:
        raise HabeasError(f"no person with id {person_id}")
    outside = sorted(set(record_ids) - set(members))
    if outside:
        raise HabeasError(f"record {outside[0]} is not one of {person_id}'s records")
    rest = sorted(set(members) - set(record_ids))
    if not record_ids or not rest:
        raise HabeasError("an unmerge must leave records on both sides")
    con.execute(
        """INSERT INTO review_decisions (kind, side_a, side_b, decision, reviewer, reason,
             decided_at) VALUES ('unmerge', ?, ?, 'different', ?, ?, ?)""",
        [sorted(record_ids), rest, reviewer, reason, now],
    )
    did = int(con.execute("SELECT max(decision_id) FROM review_decisions").fetchall()[0][0])
    return Recorded(did, [])


def undo_unmerge(
    con: duckdb.DuckDBPyConnection, decision_id: int, reviewer: str, reason: str, now: datetime
) -> Recorded:
    """Withdraw an unmerge; the undo is recorded and points back at it."""
    _check_reason(reviewer, reason)
    rows = con.execute(
        "SELECT undone_by FROM review_decisions WHERE decision_id = ? AND kind = 'unmerge'",
        [decision_id],
    ).fetchall()
    if not rows:
        raise HabeasError(f"no unmerge with decision id {decision_id}")
    if rows[0][0] is not None:
        raise HabeasError(f"unmerge {decision_id} was already undone by decision {rows[0][0]}")
    con.execute(
        """INSERT INTO review_decisions (kind, decision, reviewer, reason, decided_at)
           VALUES ('undo', 'undo unmerge ' || ?, ?, ?, ?)""",
        [str(decision_id), reviewer, reason, now],
    )
    did = int(con.execute("SELECT max(decision_id) FROM review_decisions").fetchall()[0][0])
    con.execute(
        "UPDATE review_decisions SET undone_by = ? WHERE decision_id = ?", [did, decision_id]
    )
    return Recorded(did, [])


def prioritized_sql(threshold: float) -> str:
    """The review queue of the staging store with each pair's priority and why.

    A decision is worth most where it changes most: a pair near the clustering threshold
    (where the model is least sure which side it falls), joining two persons of many
    records (a merge or a split moves every pair between them), and touching a person a
    conflict split (the model already chained two people there). Priority is
    ``closeness × ln(1 + records_l × records_r) × (2 if split)``, closeness being
    ``1 − |p − threshold| / threshold``.
    """
    t = float(threshold)
    return f"""
    WITH split AS (SELECT DISTINCT person_id FROM person_splits),
    q AS (SELECT record_id_l, record_id_r, any_value(person_l) AS person_l,
                 any_value(person_r) AS person_r, max(match_probability) AS match_probability,
                 max(match_weight) AS match_weight
          FROM review_queue GROUP BY record_id_l, record_id_r)
    SELECT q.*, coalesce(pl.records, 1) AS records_l, coalesce(pr.records, 1) AS records_r,
           (sl.person_id IS NOT NULL OR sr.person_id IS NOT NULL) AS split,
           round((1 - abs(q.match_probability - {t}) / {t})
                 * ln(1 + coalesce(pl.records, 1) * coalesce(pr.records, 1))
                 * CASE WHEN sl.person_id IS NOT NULL OR sr.person_id IS NOT NULL
                        THEN 2 ELSE 1 END, 4) AS priority,
           printf('p %.3f against a threshold of {t:g}; would join %d and %d records',
                  q.match_probability, coalesce(pl.records, 1), coalesce(pr.records, 1))
             || CASE WHEN sl.person_id IS NOT NULL OR sr.person_id IS NOT NULL
                     THEN '; a person a conflict split' ELSE '' END AS why
    FROM q LEFT JOIN persons pl ON pl.person_id = q.person_l
    LEFT JOIN persons pr ON pr.person_id = q.person_r
    LEFT JOIN split sl ON sl.person_id = q.person_l
    LEFT JOIN split sr ON sr.person_id = q.person_r
    """


def queue(
    con: duckdb.DuckDBPyConnection, limit: int = 20, sources: list[str] | None = None
) -> tuple[int, list[dict[str, object]]]:
    """The review queue, the decisions that would change most first (``prioritized_sql``,
    at the last run's clustering threshold), and its size. ``sources`` keeps only pairs
    whose two records come from those sources.
    """
    run = last_run(con)
    if run is None:
        return 0, []
    threshold = run[1]
    keep = ""
    params: dict[str, object] = {}
    if sources is not None:
        keep = "WHERE l.source IN (SELECT unnest($s)) AND r.source IN (SELECT unnest($s))"
        params = {"s": sources}
    base = f"""FROM ({prioritized_sql(threshold)}) q JOIN records l ON l.record_id = q.record_id_l
              JOIN records r ON r.record_id = q.record_id_r"""
    total = int(con.execute(f"SELECT count(*) {base} {keep}", params).fetchall()[0][0])
    rel = con.sql(
        f"""SELECT q.record_id_l, q.record_id_r, q.person_l, q.person_r, q.match_probability,
                   q.match_weight, q.priority, q.why, l.source AS source_l, r.source AS source_r,
                   concat_ws(' ', l.given_name, l.family_name) AS name_l,
                   concat_ws(' ', r.given_name, r.family_name) AS name_r,
                   {date_text_sql("l.dob", "coalesce(l.dob_precision, 'day')")} AS dob_l,
                   {date_text_sql("r.dob", "coalesce(r.dob_precision, 'day')")} AS dob_r
            {base} {keep}
            ORDER BY q.priority DESC, q.record_id_l, q.record_id_r
            LIMIT {int(limit)}""",
        params=params,
    )
    return total, rel.to_arrow_table().to_pylist()
