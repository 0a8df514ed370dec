"""Partial dates: parsed with their precision, stored with it, compared by it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from comparisons import level_of

from habeas.errors import DeclarationError
from habeas.resolve.index import flags_sql
from habeas.resolve.model import date_of_birth
from habeas.sources.dates import format_precision, numeric_shape
from habeas.sources.declaration import parse_declaration
from habeas.sources.ingest import ingest
from habeas.sources.registry import register
from habeas.store.staging import RECORD_COLUMNS, StagingStore


@pytest.mark.parametrize(
    ("fmt", "precision"),
    [
        ("%Y-%m-%d", "day"),
        ("%d/%m/%Y", "day"),
        ("%Y%j", "day"),
        ("%Y-%m", "month"),
        ("%m/%Y", "month"),
        ("%b %Y", "month"),
        ("%Y", "year"),
        ("%y", "year"),
        ("%m/%d", None),
    ],
)
def test_a_format_has_the_precision_its_directives_give(fmt: str, precision: str) -> None:
    assert format_precision(fmt) == precision


def test_only_numeric_whole_date_formats_have_a_shape() -> None:
    shape = numeric_shape("%d.%m.%Y")
    assert shape is not None and (shape.year, shape.month, shape.day) == (3, 2, 1)
    assert shape.regex == r"^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$"
    assert numeric_shape("%d %b %Y") is None  # a month name: no placeholder to read
    assert numeric_shape("%Y-%m") is None  # not a whole date


DECL = """
name = "broker"
agency = "A commercial data broker"
system = "people search"
category = "commercial"
legal_authority = "8 U.S.C. 1103"
purposes = ["identity_resolution"]
retention_days = 30
natural_key = ["id"]
[format]
kind = "csv"
[fields]
id = {{ to = "reference" }}
name = {{ to = "full_name" }}
born = {{ to = "dob", date_format = {formats} }}
"""


def _ingest(tmp_path: Path, today: date, formats: str, values: list[str]) -> StagingStore:
    decl = tmp_path / "broker.toml"
    decl.write_text(DECL.format(formats=formats), encoding="utf-8")
    st = StagingStore(tmp_path / "s.duckdb")
    assert register(st, decl, today).accepted
    data = tmp_path / "broker.csv"
    rows = [f"{i},Person {i},{v}" for i, v in enumerate(values, start=1)]
    data.write_text("id,name,born\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest(st, "broker", data, today)
    return st


def test_dates_are_staged_with_their_precision(tmp_path: Path, today: date) -> None:
    values = [
        "1950-05-03",  # whole
        "1950",  # a listed year-only format
        "05/1950",  # a listed month format
        "1950-00-00",  # placeholders: the year only
        "1950-05-00",  # placeholder day: the month
        "1962-81-01",  # an impossible month: narrowed to the year, raw text kept
        "not known",  # not a date: set aside
    ]
    st = _ingest(tmp_path, today, '["%Y-%m-%d", "%Y", "%m/%Y"]', values)
    got = st.rows("SELECT reference, dob, dob_precision FROM records ORDER BY row_number")
    assert got == [
        ("1", date(1950, 5, 3), "day"),
        ("2", date(1950, 1, 1), "year"),
        ("3", date(1950, 5, 1), "month"),
        ("4", date(1950, 1, 1), "year"),
        ("5", date(1950, 5, 1), "month"),
        ("6", date(1962, 1, 1), "year"),
        ("7", None, None),
    ]
    q = st.rows("SELECT row_number, value, rule, disposition FROM quarantine ORDER BY 1")
    assert q == [
        (6, "1962-81-01", "date-partial", "value set aside; record kept"),
        (7, "not known", "date", "value set aside; record kept"),
    ]
    st.close()


def test_partial_formats_apply_only_when_listed(tmp_path: Path, today: date) -> None:
    st = _ingest(tmp_path, today, '"%Y-%m-%d"', ["1950", "1950-05-03"])
    assert st.rows("SELECT reference, dob_precision FROM records ORDER BY 1") == [
        ("1", None),
        ("2", "day"),
    ]
    assert st.rows("SELECT value, rule FROM quarantine") == [("1950", "date")]
    st.close()


def test_an_event_date_must_be_whole() -> None:
    data = {
        "name": "court",
        "agency": "EOIR",
        "system": "CASE",
        "category": "immigration_court",
        "legal_authority": "8 U.S.C. 1229a",
        "purposes": ["case_review"],
        "retention_days": 30,
        "natural_key": ["id"],
        "format": {"kind": "csv"},
        "fields": {
            "id": {"to": "reference"},
            "ordered": {"to": "order_date", "date_format": ["%Y-%m-%d", "%Y"]},
            "seen": {"to": "address_date", "date_format": "%d/%m"},
        },
    }
    with pytest.raises(DeclarationError) as err:
        parse_declaration(data, "court.toml")
    text = str(err.value)
    assert "fields.ordered.date_format" in text and "gives only the year" in text
    assert "fields.seen.date_format" in text and "names no year" in text


def _level(left: str | None, right: str | None) -> str:
    """The label of the birth-date comparison level a pair falls in."""

    def cols(text: str | None) -> dict[str, str | None]:
        day = None if text is None else (text + "-01-01")[:10] if len(text) < 10 else text
        return {"dob_str": text, "dob": None if day is None else f"DATE '{day}'"}

    return level_of(date_of_birth(), cols(left), cols(right))


def test_birth_dates_are_compared_at_their_precision() -> None:
    assert _level("1950", "1950-05-03") == "same year (one date known only to the year)"
    assert "same year and month" in _level("1950-05", "1950-05-03")
    assert "same year (one" in _level("1950-05", "1950-06-03")
    assert "within a year" in _level("1950", "1951-01-01")
    assert "years apart" in _level("1950", "1960-01-01")
    # two year-only dates are never an exact match of whole dates
    assert "Exact" not in _level("1950", "1950") and "same year" in _level("1950", "1950")
    assert "Exact" in _level("1950-05-03", "1950-05-03")
    assert "swapped" in _level("1950-05-03", "1950-03-05")
    assert _level(None, "1950") == "dob_str is NULL"


def test_a_year_does_not_conflict_with_a_day_in_it() -> None:
    con = duckdb.connect()
    cols = ", ".join(f"{n} {t}" for n, t in RECORD_COLUMNS)
    con.execute(f"CREATE TABLE records ({cols})")
    con.execute("CREATE TABLE mapping (record_id VARCHAR, person_id VARCHAR)")
    rows = [
        ("r1", "P", "1950-01-01", "year"),
        ("r2", "P", "1950-05-03", "day"),
        ("r3", "Q", "1950-05-01", "month"),
        ("r4", "Q", "1950-06-01", "day"),
    ]
    for rid, pid, dob, precision in rows:
        con.execute(
            "INSERT INTO records (record_id, dob, dob_precision) VALUES (?, ?, ?)",
            [rid, dob, precision],
        )
        con.execute("INSERT INTO mapping VALUES (?, ?)", [rid, pid])
    flags = {(p, f): d for p, f, d, _ in con.execute(flags_sql("mapping")).fetchall()}
    assert ("P", "conflict") not in flags
    assert flags[("Q", "conflict")] == "dob: 1950-05 vs 1950-06-01"
