"""Flags derived from a person's records: citizenship from each kind of signal, conflicts."""

from __future__ import annotations

import duckdb
import pytest

from habeas.resolve.index import flags_sql
from habeas.store.staging import RECORD_COLUMNS


def _flags(rows: list[dict[str, object]]) -> dict[tuple[str, str], tuple[str, list[str]]]:
    con = duckdb.connect()
    cols = ", ".join(f"{n} {t}" for n, t in RECORD_COLUMNS)
    con.execute(f"CREATE TABLE records ({cols})")
    con.execute("CREATE TABLE mapping (record_id VARCHAR, person_id VARCHAR)")
    for r in rows:
        fields = {k: v for k, v in r.items() if k != "person"}
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        con.execute(f"INSERT INTO records ({names}) VALUES ({marks})", list(fields.values()))
        con.execute("INSERT INTO mapping VALUES (?, ?)", [r["record_id"], r["person"]])
    out = con.execute(flags_sql("mapping")).fetchall()
    return {(p, f): (d, ids) for p, f, d, ids in out}


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("immigration_status", "naturalized", "naturalized"),
        ("citizenship_indicator", "us_citizen", "citizen indicator"),
        ("country_of_birth", "United States", "born in the United States"),
        ("passport_country", "USA", "U.S. passport"),
    ],
)
def test_each_citizenship_signal_flags_the_person(field: str, value: str, why: str) -> None:
    flags = _flags(
        [
            {"record_id": "r1", "person": "P", field: value},
            {"record_id": "r2", "person": "P", "given_name": "Ana"},
            {"record_id": "r3", "person": "Q", "given_name": "Bo"},
        ]
    )
    detail, ids = flags[("P", "citizenship")]
    assert why in detail
    assert ids == ["r1"]  # the record behind the flag, not the person's other records
    assert ("Q", "citizenship") not in flags


def test_a_noncitizen_record_raises_no_citizenship_flag() -> None:
    flags = _flags(
        [
            {"record_id": "r1", "person": "P", "citizenship_indicator": "noncitizen_authorized"},
            {"record_id": "r2", "person": "P", "country_of_birth": "Mexico"},
        ]
    )
    assert ("P", "citizenship") not in flags


def test_lawful_status_flag_names_the_status() -> None:
    flags = _flags([{"record_id": "r1", "person": "P", "immigration_status": "tps"}])
    assert flags[("P", "lawful_status")][0] == "status tps"


def test_conflicting_birth_dates_and_identifiers() -> None:
    flags = _flags(
        [
            {"record_id": "r1", "person": "P", "dob": "1980-01-02", "a_number": "012345678"},
            {"record_id": "r2", "person": "P", "dob": "1980-02-01", "a_number": "012345678"},
            {"record_id": "r3", "person": "P", "ssn": "123456789"},
            {"record_id": "r4", "person": "P", "ssn": "123456780"},
        ]
    )
    detail, ids = flags[("P", "conflict")]
    assert "dob: 1980-01-02 vs 1980-02-01" in detail
    assert "ssn: 123456780 vs 123456789" in detail
    assert "a_number" not in detail
    assert ids == ["r1", "r2", "r3", "r4"]


def test_agreeing_records_raise_no_conflict() -> None:
    flags = _flags(
        [
            {"record_id": "r1", "person": "P", "dob": "1980-01-02"},
            {"record_id": "r2", "person": "P", "dob": "1980-01-02"},
        ]
    )
    assert ("P", "conflict") not in flags
