"""Evaluate the stored index against a ground-truth file, and measure blocking recall.

A truth file (CSV or Parquet) maps records to true persons: either a ``record_id``
column, or ``source`` and ``source_key``; and a ``person_id`` (or ``cluster``) column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from habeas.errors import HabeasError
from habeas.resolve.evaluate import Scores, score_clusters
from habeas.resolve.index import last_run
from habeas.store.staging import StagingStore


@dataclass(frozen=True)
class Evaluation:
    """Cluster scores plus the share of true pairs the blocking rules ever compared."""

    scores: Scores
    blocking_recall: float
    truth_records: int
    unmatched_truth_records: int


def _reader(path: Path) -> str:
    suffix = path.suffix.lower()
    quoted = str(path).replace("'", "''")
    if suffix == ".parquet":
        return f"read_parquet('{quoted}')"
    if suffix == ".csv":
        return f"read_csv('{quoted}', all_varchar = true)"
    raise HabeasError(f"{path}: a truth file must be .csv or .parquet")


def load_truth(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Load ``path`` into temp table ``truth(record_id, true_id)``, keyed like the index."""
    if not path.is_file():
        raise HabeasError(f"{path}: no such truth file")
    try:
        cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_reader(path)}").fetchall()}
    except duckdb.Error as exc:
        raise HabeasError(f"{path}: cannot read it as a truth file ({exc})") from None
    truth_col = next((c for c in ("person_id", "cluster", "true_id") if c in cols), None)
    if truth_col is None:
        raise HabeasError(f"{path}: needs a person_id (or cluster) column; it has {sorted(cols)}")
    if "record_id" in cols:
        key = "t.record_id"
        join = ""
    elif {"source", "source_key"} <= cols:
        key = "r.record_id"
        join = "JOIN records r ON r.source = t.source AND r.source_key = t.source_key::VARCHAR"
    else:
        raise HabeasError(f"{path}: needs a record_id column, or source and source_key columns")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE truth AS
            SELECT DISTINCT {key} AS record_id, t.{truth_col}::VARCHAR AS true_id
            FROM {_reader(path)} t {join}"""
    )


def blocking_recall(con: duckdb.DuckDBPyConnection, rules: list[str]) -> float:
    """Share of true pairs (in temp table ``truth``) that at least one blocking rule reaches."""
    if not rules:
        return 0.0
    reached = " OR ".join(f"({r})" for r in rules)
    row = con.execute(
        f"""WITH pairs AS (
              SELECT a.record_id AS a, b.record_id AS b FROM truth a JOIN truth b
              ON a.true_id = b.true_id AND a.record_id < b.record_id)
            SELECT count(*), count(*) FILTER (WHERE {reached})
            FROM pairs p JOIN resolve_input l ON l.unique_id = p.a
            JOIN resolve_input r ON r.unique_id = p.b"""
    ).fetchall()[0]
    total, hit = int(row[0]), int(row[1])
    return hit / total if total else 1.0


def evaluate_index(store: StagingStore, truth_path: Path) -> Evaluation:
    """Score the stored clusters and the blocking rules of the last run against a truth file."""
    con = store.con
    run = last_run(con)
    if run is None:
        raise HabeasError("no index yet: run `habeas resolve` first")
    load_truth(con, truth_path)
    truth = dict(con.execute("SELECT record_id, true_id FROM truth").fetchall())
    predicted = dict(con.execute("SELECT record_id, person_id FROM person_records").fetchall())
    model = json.loads(run[0])
    rules = [b["blocking_rule"] for b in model["blocking_rules_to_generate_predictions"]]
    recall = blocking_recall(con, rules)
    unmatched = sum(1 for r in truth if r not in predicted)
    con.execute("DROP TABLE truth")
    return Evaluation(score_clusters(predicted, truth), recall, len(truth), unmatched)
