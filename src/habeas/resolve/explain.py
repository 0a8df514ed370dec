"""Why two records were linked or not: a waterfall of match weights that adds up.

The prior (how likely two records picked at random are one person) starts the sum;
each comparison adds the weight of the level the pair reached (with the term-frequency
adjustment for common names, shown apart); the total is the pair's match weight.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from habeas.errors import HabeasError
from habeas.resolve import engine as eng
from habeas.resolve.index import last_run
from habeas.store.staging import StagingStore


@dataclass(frozen=True)
class Step:
    """One bar of the waterfall."""

    comparison: str
    level: str
    values: str
    weight: float
    tf_adjustment: float


@dataclass(frozen=True)
class Explanation:
    """A pair's waterfall, its total, and what the index did with the pair."""

    left: str
    right: str
    prior_weight: float
    steps: list[Step]
    match_weight: float
    match_probability: float
    threshold: float
    person_left: str | None
    person_right: str | None
    decision: str | None

    @property
    def total(self) -> float:
        """Prior plus every step: equals ``match_weight`` up to rounding."""
        return self.prior_weight + sum(s.weight + s.tf_adjustment for s in self.steps)


def _log2(x: float | None) -> float:
    if x is None or x <= 0:
        return 0.0
    return math.log2(x)


def _level_label(comparison: dict[str, object], gamma: int) -> str:
    levels = comparison["comparison_levels"]
    assert isinstance(levels, list)
    if gamma == -1:
        return "a value is missing (no evidence either way)"
    non_null = [lv for lv in levels if not lv.get("is_null_level")]
    # Splink numbers non-null levels from the top down to 0 (the else level)
    index = len(non_null) - 1 - gamma
    return str(non_null[index].get("label_for_charts", f"level {gamma}"))


def _columns_for(comparison: dict[str, object]) -> list[str]:
    levels = comparison["comparison_levels"]
    assert isinstance(levels, list)
    text = " ".join(str(lv.get("sql_condition", "")) for lv in levels)
    return sorted(
        {
            c
            for c in (
                "given",
                "family",
                "dob_str",
                "a_number",
                "taxpayer_id",
                "passport",
                "fbi_number",
                "license",
                "national_id",
                "phone",
                "zip",
                "postal_code",
                "place_of_birth",
                "occupation",
                "sex",
            )
            if f"{c}_l" in text
        }
    )


def steps_of(model: dict[str, Any], result: dict[str, Any]) -> list[Step]:
    """The waterfall's bars from Splink's comparison of one pair."""
    steps: list[Step] = []
    for comp in model["comparisons"]:
        name = comp["output_column_name"]
        gamma = int(result.get(f"gamma_{name}", -1))
        cols = _columns_for(comp)
        values = "; ".join(
            f"{c}: {result.get(f'{c}_l')!s} | {result.get(f'{c}_r')!s}" for c in cols
        )
        steps.append(
            Step(
                comparison=name,
                level=_level_label(comp, gamma),
                values=values,
                weight=float(result.get(f"mw_{name}") or 0.0),
                tf_adjustment=float(result.get(f"mw_tf_adj_{name}") or 0.0),
            )
        )
    return steps


def explain_features(
    model_json: str,
    schema: list[list[str]],
    left: dict[str, Any],
    right: dict[str, Any],
    threshold: float,
) -> Explanation:
    """Explain a pair from the prepared values the published index keeps for each record
    (with their term frequencies), without the batch store: an in-memory DuckDB builds the
    two rows in the scored schema, and Splink compares them."""
    import duckdb

    model = json.loads(model_json)
    con = duckdb.connect()
    try:
        cols = ", ".join(f'"{n}" {t}' for n, t in schema)
        con.execute(f"CREATE TABLE pair ({cols})")
        names = [n for n, _ in schema]
        marks = ", ".join("?" for _ in names)
        for rec in (left, right):
            con.execute(f"INSERT INTO pair VALUES ({marks})", [rec.get(n) for n in names])
        result = eng.compare_tables(con, model_json, "pair")
    finally:
        con.close()
    prior = model["probability_two_random_records_match"]
    return Explanation(
        left=str(left.get("unique_id")),
        right=str(right.get("unique_id")),
        prior_weight=_log2(prior / (1 - prior)),
        steps=steps_of(model, result),
        match_weight=float(result["match_weight"]),
        match_probability=float(result["match_probability"]),
        threshold=float(threshold),
        person_left=None,
        person_right=None,
        decision=None,
    )


def explain_pair(store: StagingStore, left: str, right: str) -> Explanation:
    """Explain the pair with the model of the last resolution run."""
    con = store.con
    run = last_run(con)
    if run is None:
        raise HabeasError("no index yet: run `habeas resolve` first")
    model_json, threshold = run
    found = {
        r[0]
        for r in con.execute(
            "SELECT unique_id FROM resolve_input WHERE unique_id IN (?, ?)", [left, right]
        ).fetchall()
    }
    for rid in (left, right):
        if rid not in found:
            raise HabeasError(f"record {rid} is not in the index (not staged, or not resolved yet)")
    result = eng.compare_two(con, model_json, left, right)
    model = json.loads(model_json)
    prior = model["probability_two_random_records_match"]
    steps = steps_of(model, result)
    persons = dict(
        con.execute(
            "SELECT record_id, person_id FROM person_records WHERE record_id IN (?, ?)",
            [left, right],
        ).fetchall()
    )
    decision = con.execute(
        """SELECT decision || ' by ' || reviewer || ': ' || reason FROM review_decisions
           WHERE kind = 'pair' AND record_id_l = least(?, ?) AND record_id_r = greatest(?, ?)
           ORDER BY decision_id DESC LIMIT 1""",
        [left, right, left, right],
    ).fetchall()
    return Explanation(
        left=left,
        right=right,
        prior_weight=_log2(prior / (1 - prior)),
        steps=steps,
        match_weight=float(result["match_weight"]),
        match_probability=float(result["match_probability"]),
        threshold=float(threshold),
        person_left=persons.get(left),
        person_right=persons.get(right),
        decision=decision[0][0] if decision else None,
    )
