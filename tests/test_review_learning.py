"""Review that teaches the model: the queue in order of what a decision would change, and
reviewers' decisions re-estimating the model's m probabilities."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pytest

from habeas.errors import HabeasError
from habeas.resolve.review import decide, prioritized_sql, queue
from habeas.resolve.run import MATCH_THRESHOLD, resolve
from habeas.store.staging import StagingStore
from habeas.synth.world import WorldSummary

NOW = datetime(2026, 11, 2, 10, 0)


def _m(model_json: str) -> dict[tuple[str, str], float]:
    model = json.loads(model_json)
    return {
        (c["output_column_name"], lv["label_for_charts"]): lv["m_probability"]
        for c in model["comparisons"]
        for lv in c["comparison_levels"]
        if not lv.get("is_null_level")
    }


def test_the_queue_puts_the_decisions_that_change_most_first(index: StagingStore) -> None:
    total, rows = queue(index.con, limit=500)
    assert total > 1 and rows
    priorities = [r["priority"] for r in rows]
    assert priorities == sorted(priorities, reverse=True)
    scored = index.rows(
        f"SELECT match_probability, records_l, records_r, split, priority, why "
        f"FROM ({prioritized_sql(MATCH_THRESHOLD)})"
    )
    import math

    for p, nl, nr, split, priority, why in scored:
        expected = (1 - abs(p - MATCH_THRESHOLD) / MATCH_THRESHOLD) * math.log(1 + nl * nr)
        assert priority == pytest.approx(expected * (2 if split else 1), abs=1e-3)
        assert f"would join {nl} and {nr} records" in why


def test_priority_grows_with_the_records_a_decision_moves() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE person_splits (person_id VARCHAR)")
    con.execute("INSERT INTO person_splits VALUES ('S')")
    con.execute("CREATE TABLE persons (person_id VARCHAR, records BIGINT)")
    con.execute("INSERT INTO persons VALUES ('A', 1), ('B', 1), ('C', 8), ('D', 9), ('S', 1)")
    con.execute(
        "CREATE TABLE review_queue AS SELECT * FROM (VALUES "
        "('a', 'b', 'A', 'B', 0.9, 3.0), ('c', 'd', 'C', 'D', 0.9, 3.0), "
        "('e', 'f', 'A', 'B', 0.55, 0.2), ('s', 'b', 'S', 'B', 0.9, 3.0)) "
        "t(record_id_l, record_id_r, person_l, person_r, match_probability, match_weight)"
    )
    got = dict(
        con.execute(f"SELECT record_id_l, priority FROM ({prioritized_sql(0.95)})").fetchall()
    )
    assert got["c"] > got["a"] > got["e"]  # many records beat few; near the threshold beats far
    # a person a conflict split counts double
    assert got["s"] == pytest.approx(2 * got["a"], abs=1e-3)


def test_reviewers_decisions_re_estimate_the_model(
    index: StagingStore, world: WorldSummary
) -> None:
    truth = dict(duckdb.sql(f"SELECT record_id, person_id FROM '{world.truth}'").fetchall())
    before = index.scalar("SELECT model_json FROM resolution_runs ORDER BY started_at DESC LIMIT 1")
    pairs = index.rows("SELECT record_id_l, record_id_r FROM review_queue")
    same = [(a, b) for a, b in pairs if truth.get(a) == truth.get(b)][:40]
    assert len(same) >= 5, "the small world leaves true matches to review"
    for a, b in same:
        decide(index.con, a, b, "same", "rev1", "one person on the paper file", NOW)
    result = resolve(index, NOW, learn=True)
    assert result.learned[0] == f"{len(same)} reviewers' decisions re-estimated the model"
    after = index.scalar("SELECT model_json FROM resolution_runs ORDER BY started_at DESC LIMIT 1")
    m_before, m_after = _m(before), _m(after)
    moved = {k for k in m_before if abs(m_before[k] - m_after[k]) >= 0.01}
    assert moved, "labels move some level's m"
    assert len(result.learned) == 1 + len(moved)
    for comparison in {c for c, _ in m_after}:  # still a distribution per comparison
        total = sum(v for (c, _), v in m_after.items() if c == comparison)
        assert total == pytest.approx(1.0, abs=0.02)
    mapping = dict(index.rows("SELECT record_id, person_id FROM person_records"))
    assert all(mapping[a] == mapping[b] for a, b in same)


def test_learning_needs_a_decision(index: StagingStore) -> None:
    with pytest.raises(HabeasError, match="nothing to learn"):
        resolve(index, NOW, learn=True)
