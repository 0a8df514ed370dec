"""The vectorised identifier checks against reference implementations of the specifications.

Ingest validates every value in one DuckDB query, so the checks are SQL; python-stdnum and
phonenumbers (test dependencies) are the oracles they must agree with: SSNs and ITINs
exactly, phone numbers as a superset (every number the metadata calls valid is accepted;
the SQL checks the numbering plan's shape, not which area codes are assigned today).
"""

from __future__ import annotations

from datetime import date

import duckdb
import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.us import itin, ssn

from habeas.sources.declaration import FieldSpec
from habeas.sources.validate import value_and_checks
from habeas.store.canonical import CANONICAL_FIELDS


def _parsed(field: str, values: list[str]) -> list[str | None]:
    template, _ = value_and_checks(CANONICAL_FIELDS[field], FieldSpec(to=field), date(2026, 1, 1))
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    sql = template.replace("{v}", "v")
    return [r[0] for r in con.execute(f"SELECT {sql} FROM t ORDER BY i").fetchall()]


nine = st.text(alphabet="0123456789", min_size=9, max_size=9)
dashed = nine.map(lambda d: f"{d[:3]}-{d[3:5]}-{d[5:]}")
edges = st.sampled_from(
    [
        "078051120",
        "219099999",
        "457555462",
        "987654320",
        "987654329",
        "000123456",
        "666123456",
        "123004567",
        "123450000",
        "900701234",
        "912701234",
        "999999999",
    ]
)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.one_of(nine, dashed, edges), min_size=1, max_size=40))
def test_ssn_check_agrees_with_python_stdnum(values: list[str]) -> None:
    got = _parsed("ssn", values)
    for raw, parsed in zip(values, got, strict=True):
        assert (parsed is not None) == ssn.is_valid(raw), raw


@settings(max_examples=120, deadline=None)
@given(st.lists(st.one_of(nine.map(lambda d: "9" + d[1:]), dashed, edges), min_size=1, max_size=40))
def test_itin_check_agrees_with_python_stdnum(values: list[str]) -> None:
    """python-stdnum predates the IRS's 2011 expansion of ITIN groups to 50–65; the
    check follows the IRS there, and python-stdnum everywhere else."""
    got = _parsed("itin", values)
    for raw, parsed in zip(values, got, strict=True):
        digits = raw.replace("-", "")
        expanded = digits[0] == "9" and 50 <= int(digits[3:5]) <= 65
        expanded = expanded and not "987654320" <= digits <= "987654329"
        assert (parsed is not None) == (itin.is_valid(raw) or expanded), raw


ten = st.text(alphabet="0123456789", min_size=10, max_size=10)


@settings(max_examples=100, deadline=None)
@given(st.lists(ten, min_size=1, max_size=40))
def test_every_valid_north_american_number_is_accepted(values: list[str]) -> None:
    """The numbering plan's central office code is NXX (N = 2–9); some countries'
    metadata (the Dominican Republic's, for 809-000-…) is laxer than the plan, and the
    check follows the plan there."""
    written = [f"({v[:3]}) {v[3:6]}-{v[6:]}" for v in values]
    got = _parsed("phone", written)
    for raw, text, parsed in zip(values, written, got, strict=True):
        try:
            number = phonenumbers.parse(text, "US")
        except phonenumbers.NumberParseException:
            continue  # "(011) …" reads as the international prefix: no number to compare
        if phonenumbers.is_valid_number(number) and raw[3] not in "01":
            assert parsed == raw, text


def test_international_numbers_keep_their_country_code() -> None:
    examples = ["+44 20 7946 0958", "+52 55 1234 5678", "+33 1 42 68 53 00"]
    got = _parsed("phone", examples)
    for text, parsed in zip(examples, got, strict=True):
        number = phonenumbers.parse(text, None)
        assert phonenumbers.is_valid_number(number)
        assert parsed == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
