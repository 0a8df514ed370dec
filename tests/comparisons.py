"""Test helper: which level of a Splink comparison a pair of records falls in."""

from __future__ import annotations

from typing import Any

import duckdb


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]::VARCHAR[]"
    if isinstance(value, str) and value.startswith("DATE "):
        return value
    return "'" + str(value).replace("'", "''") + "'"


def level_of(comparison: Any, left: dict[str, Any], right: dict[str, Any]) -> str:
    """The chart label of the first level of ``comparison`` whose condition the pair meets.

    ``left`` and ``right`` give the input columns (without ``_l``/``_r``) of the two records.
    """
    built = comparison.get_comparison("duckdb")
    columns = [f"{_literal(v)} AS {k}_l" for k, v in left.items()]
    columns += [f"{_literal(v)} AS {k}_r" for k, v in right.items()]
    con = duckdb.connect()
    for level in built.comparison_levels:
        if level.sql_condition.strip().upper() == "ELSE":
            return str(level.label_for_charts)
        [(met,)] = con.execute(
            f"SELECT ({level.sql_condition}) FROM (SELECT {', '.join(columns)})"
        ).fetchall()
        if met:
            return str(level.label_for_charts)
    raise AssertionError("no level took the pair")
