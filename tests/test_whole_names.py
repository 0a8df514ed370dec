"""Whole names in one string, in either order, with compound surnames and particles."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from comparisons import level_of

from habeas.resolve.model import family_name, given_name
from habeas.resolve.normalize import prepare
from habeas.sources.ingest import ingest
from habeas.sources.registry import register
from habeas.sources.validate import split_name_sql
from habeas.store.staging import StagingStore


def _split(kind: str, name: str) -> tuple[str | None, str | None, str | None]:
    parts = split_name_sql(kind, "v")
    [row] = duckdb.execute(
        f"SELECT {parts['given_name']}, {parts['middle_name']}, {parts['family_name']} "
        "FROM (SELECT ?::VARCHAR AS v)",
        [name],
    ).fetchall()
    return row


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Lopez Garcia, Ana Maria", ("Ana", "Maria", "Lopez Garcia")),
        ("Ana Maria Lopez", ("Ana", "Maria", "Lopez")),
        ("Juan Carlos de la Cruz", ("Juan", "Carlos", "de la Cruz")),
        ("Ludwig van Beethoven", ("Ludwig", None, "van Beethoven")),
        ("van Gogh", (None, None, "van Gogh")),
        ("  Bo   Li ", ("Bo", None, "Li")),
        ("Ana", ("Ana", None, None)),
        ("de la Cruz, Juan", ("Juan", None, "de la Cruz")),
    ],
)
def test_auto_reads_a_comma_as_family_first_else_family_last(
    name: str, expected: tuple[str | None, ...]
) -> None:
    assert _split("auto", name) == expected


def test_family_first_keeps_particles_with_the_family_name() -> None:
    assert _split("family_given", "DE LA CRUZ JUAN CARLOS") == ("JUAN", "CARLOS", "DE LA CRUZ")
    assert _split("family_given", "NGUYEN VAN AN") == ("VAN", "AN", "NGUYEN")


def _records(tmp_path: Path, today: date, names: list[str]) -> duckdb.DuckDBPyConnection:
    decl = tmp_path / "broker.toml"
    decl.write_text(
        'name = "broker"\nagency = "A data broker"\nsystem = "people search"\n'
        'category = "commercial"\nlegal_authority = "8 U.S.C. 1103"\n'
        'purposes = ["identity_resolution"]\nretention_days = 30\nnatural_key = ["id"]\n'
        '[format]\nkind = "csv"\n[fields]\nid = { to = "reference" }\n'
        'name = { to = "full_name", split = "auto" }\n',
        encoding="utf-8",
    )
    st = StagingStore(tmp_path / "s.duckdb")
    assert register(st, decl, today).accepted
    data = tmp_path / "broker.csv"
    data.write_text(
        "id,name\n" + "\n".join(f'{i},"{n}"' for i, n in enumerate(names, 1)) + "\n",
        encoding="utf-8",
    )
    ingest(st, "broker", data, today)
    prepare(st.con, "records")
    return st.con


def test_names_in_either_order_meet_as_token_sets(tmp_path: Path, today: date) -> None:
    con = _records(
        tmp_path,
        today,
        ["Maria Castro Rodriguez", "Castro Rodriguez, Maria", "Rodriguez, Maria", "Castro, Maria"],
    )
    table = con.sql("SELECT * FROM resolve_input ORDER BY unique_id").to_arrow_table()
    inputs = {(r["given"], r["family"]): r for r in table.to_pylist()}
    whole = inputs[("maria", "rodriguez")]  # "Maria Castro Rodriguez": Castro read as middle
    compound = inputs[("maria", "castro rodriguez")]
    castro_only = inputs[("maria", "castro")]
    # the compound surname shares a part with the family name read from the whole name
    assert "compound surname" in level_of(family_name(), whole, compound)
    # a surname read as a middle name still meets the other record's family name
    assert "among the other's names" in level_of(family_name(), castro_only, whole)
    assert whole["name_tokens"] == ["castro", "maria", "rodriguez"]


def test_a_given_name_found_elsewhere_in_the_other_name() -> None:
    left = {"given": "luis", "family": "perez", "name_tokens": ["jose", "luis", "perez"]}
    right = {"given": "jose", "family": "perez", "name_tokens": ["jose", "luis", "perez"]}
    for side in (left, right):
        side.update(given_dm=None, family_dm=None, given_canon=side["given"], given_sk=None)
    assert "among the other's names" in level_of(given_name(), left, right)
    right["name_tokens"] = ["jose", "perez"]
    left["name_tokens"] = ["luis", "perez"]
    assert "among the other's names" not in level_of(given_name(), left, right)
