"""Field-level quarantine end to end: a bad secondary value never costs the record."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import duckdb

from habeas.pipeline import intake_directory
from habeas.resolve.run import resolve
from habeas.store.staging import StagingStore


def _citizen_with_other_records(world: Path) -> tuple[int, str, str]:
    """(row number, SSN, person id) of an SSA citizen whose person has other records."""
    truth = dict(
        duckdb.sql(
            f"SELECT source_key, person_id FROM '{world / 'truth.parquet'}' "
            "WHERE source = 'ssa_numident'"
        ).fetchall()
    )
    sizes = dict(
        duckdb.sql(
            f"SELECT person_id, count(*) FROM '{world / 'truth.parquet'}' GROUP BY 1"
        ).fetchall()
    )
    with (world / "ssa_numident.csv").open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=1):
            person = truth.get(row["SSN"])
            if row["CITIZENSHIP_CD"] == "A" and person and sizes[person] >= 3:
                return n, row["SSN"], person
    raise AssertionError("the world holds no SSA citizen with other records")


def test_a_citizen_indicator_survives_a_bad_birth_date_and_raises_its_flag(
    world_copy: Path, tmp_path: Path, today: date
) -> None:
    row_number, ssn, person = _citizen_with_other_records(world_copy)
    path = world_copy / "ssa_numident.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    rows[row_number][header.index("DOB")] = "1984O231"  # a letter O for a zero: not a date
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL).writerows(rows)

    with StagingStore(tmp_path / "staging.duckdb") as st:
        intake_directory(st, world_copy, today)
        [(field, value, disposition)] = st.rows(
            "SELECT field, value, disposition FROM quarantine "
            "WHERE source = 'ssa_numident' AND row_number = ?",
            [row_number],
        )
        assert (field, value) == ("DOB", "1984O231")
        assert disposition == "value set aside; record kept"
        [(record_id, dob, indicator)] = st.rows(
            "SELECT record_id, dob, citizenship_indicator FROM records "
            "WHERE source = 'ssa_numident' AND source_key = ?",
            [ssn],
        )
        assert dob is None and indicator == "us_citizen"

        resolve(st, datetime(2026, 11, 1, 12, 0))
        [(indexed_person,)] = st.rows(
            "SELECT person_id FROM person_records WHERE record_id = ?", [record_id]
        )
        flags = st.rows(
            "SELECT detail, record_ids FROM person_flags WHERE person_id = ? "
            "AND flag = 'citizenship'",
            [indexed_person],
        )
        assert flags, "the citizen indicator of the kept record raises the flag"
        assert any(record_id in ids and "citizen indicator" in d for d, ids in flags)
        # the record still joins its person's other records despite the missing date
        truth_ids = [
            r[0]
            for r in duckdb.sql(
                f"SELECT record_id FROM '{world_copy / 'truth.parquet'}' "
                f"WHERE person_id = '{person}'"
            ).fetchall()
        ]
        linked = st.scalar(
            "SELECT count(*) FROM person_records WHERE person_id = ? "
            "AND record_id IN (SELECT unnest(?))",
            [indexed_person, truth_ids],
        )
        assert linked >= 2
