"""The match-weight waterfall of every link in a packet, computed in one comparison: the
prior, each comparison's level and weight (with its term-frequency adjustment), the
running sum after each bar, and the final weight the bars add up to."""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

from habeas.resolve.engine import quiet_splink
from habeas.resolve.explain import steps_of


class Pair(NamedTuple):
    """Two records a link joins (the record, the one it linked via)."""

    left: str
    right: str


def _log2_odds(p: float) -> float:
    return math.log2(p / (1 - p)) if 0 < p < 1 else 0.0


def _typed_rows(con: Any, name: str, schema: list[list[str]], rows: list[dict[str, Any]]) -> Any:
    cols = ", ".join(f'"{n}" {t}' for n, t in schema)
    con.execute(f"CREATE TABLE {name} ({cols})")
    names = [n for n, _ in schema]
    marks = ", ".join("?" for _ in names)
    con.executemany(
        f"INSERT INTO {name} VALUES ({marks})", [[r.get(n) for n in names] for r in rows]
    )
    return con.sql(f"SELECT * FROM {name}").to_arrow_table()


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _only(pairs: list[Pair]) -> str:
    """SQL on Splink's ``l`` and ``r``: just these pairs, not every left by every right."""
    return " OR ".join(
        f"(l.unique_id = {_quoted(p.left)} AND r.unique_id = {_quoted(p.right)})" for p in pairs
    )


def waterfalls(
    model_json: str,
    schema: list[list[str]],
    features: dict[str, dict[str, Any]],
    pairs: list[Pair],
) -> dict[Pair, dict[str, Any]]:
    """Each pair's waterfall with the published run's model (values rounded to 6 places,
    so a rebuild gives the same bytes)."""
    import duckdb
    from splink import DuckDBAPI
    from splink.internals.realtime import compare_records

    quiet_splink()
    model = json.loads(model_json)
    prior = _log2_odds(float(model["probability_two_random_records_match"]))
    lefts = sorted({p.left for p in pairs})
    rights = sorted({p.right for p in pairs})
    con = duckdb.connect()
    try:
        left_t = _typed_rows(con, "l_rows", schema, [features.get(r, {}) for r in lefts])
        right_t = _typed_rows(con, "r_rows", schema, [features.get(r, {}) for r in rights])
    finally:
        con.close()
    out = compare_records(left_t, right_t, model, DuckDBAPI(), join_condition=_only(pairs))
    rows = out.as_duckdbpyrelation().to_arrow_table().to_pylist()
    found = {(str(r["unique_id_l"]), str(r["unique_id_r"])): r for r in rows}
    result: dict[Pair, dict[str, Any]] = {}
    for p in pairs:
        r = found.get((p.left, p.right))
        if r is None:  # features without the record's id: nothing to compare
            continue
        running = prior
        bars = []
        for s in steps_of(model, r):
            running += s.weight + s.tf_adjustment
            bars.append(
                {
                    "comparison": s.comparison,
                    "level": s.level,
                    "values": s.values,
                    "weight": round(s.weight, 6),
                    "tf_adjustment": round(s.tf_adjustment, 6),
                    "cumulative": round(running, 6),
                }
            )
        result[p] = {
            "prior_weight": round(prior, 6),
            "bars": bars,
            "match_weight": round(float(r["match_weight"]), 6),
            "match_probability": round(float(r["match_probability"]), 6),
            "sum_of_bars": round(running, 6),
        }
    return result
