"""Declarations are validated on load; every error names the file, the key and the problem."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from habeas.errors import DeclarationError
from habeas.ids import record_id
from habeas.sources.declaration import load_declaration
from habeas.sources.ingest import record_id_sql
from habeas.store.staging import sql_literal

GOOD = """
name = "test_source"
agency = "Test agency"
system = "Test system"
category = "immigration"
legal_authority = "8 U.S.C. 1103(a)"
purposes = ["case_review"]
retention_days = 365
identifier_types = ["a_number"]
natural_key = ["ID"]

[format]
kind = "csv"

[fields]
ID = { to = "reference" }
ANUM = { to = "a_number" }
DOB = { to = "dob", date_format = "%m/%d/%Y" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "src.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    path = write(tmp_path, text)
    with pytest.raises(DeclarationError) as info:
        load_declaration(path)
    assert str(path) in str(info.value)
    return info.value.problems


def test_good_declaration_loads(tmp_path: Path) -> None:
    decl = load_declaration(write(tmp_path, GOOD))
    assert decl.name == "test_source"
    assert decl.fields["DOB"].formats() == ["%m/%d/%Y"]
    assert decl.mapped()["a_number"] == "ANUM"


def test_unknown_canonical_field_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('to = "reference"', 'to = "religion"'))
    assert found == [("fields.ID.to", "unknown canonical field 'religion'")]


def test_unknown_purpose_is_named(tmp_path: Path) -> None:
    [(key, problem)] = problems(tmp_path, GOOD.replace('["case_review"]', '["curiosity"]'))
    assert key == "purposes" and "curiosity" in problem


def test_missing_key_is_named(tmp_path: Path) -> None:
    [(key, problem)] = problems(tmp_path, GOOD.replace('agency = "Test agency"\n', ""))
    assert key == "agency" and "required" in problem.lower()


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    [(key, _)] = problems(
        tmp_path, GOOD.replace("retention_days = 365", "retention_days = 365\nsecret = 1")
    )
    assert key == "secret"


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    [(key, problem)] = problems(tmp_path, GOOD.replace('kind = "csv"', 'kind = "csv'))
    assert key == "(syntax)" and "line" in problem


def test_natural_key_must_be_an_allowed_field(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('natural_key = ["ID"]', 'natural_key = ["NOPE"]'))
    assert ("natural_key", "column 'NOPE' is not an allowed field") in found


def test_codes_must_map_to_canonical_codes(tmp_path: Path) -> None:
    text = GOOD + 'STATUS = { to = "immigration_status", codes = { X = "illegal" } }\n'
    [(key, problem)] = problems(tmp_path, text)
    assert key == "fields.STATUS.codes" and "illegal" in problem


def test_date_format_only_on_dates(tmp_path: Path) -> None:
    [(key, _)] = problems(
        tmp_path,
        GOOD.replace(
            'ANUM = { to = "a_number" }', 'ANUM = { to = "a_number", date_format = "%Y" }'
        ),
    )
    assert key == "fields.ANUM.date_format"


def test_declared_identifier_must_be_mapped(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('["a_number"]', '["a_number", "ssn"]'))
    assert ("identifier_types", "'ssn' is declared but no field maps to it") in found


def test_two_columns_cannot_fill_one_field(tmp_path: Path) -> None:
    [(key, problem)] = problems(tmp_path, GOOD + 'OTHER = { to = "a_number" }\n')
    assert key == "fields.OTHER.to" and "ANUM" in problem


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="no such file"):
        load_declaration(tmp_path / "absent.toml")


@given(st.text(min_size=1, max_size=20), st.lists(st.text(max_size=12), min_size=1, max_size=3))
def test_record_ids_agree_between_python_and_sql(source: str, key: list[str]) -> None:
    """The generator's ground truth and ingest must compute the same ids."""
    key_sql = "concat_ws(chr(31), " + ", ".join(sql_literal(k) for k in key) + ")"
    sql = f"SELECT {record_id_sql(source).replace('_key', key_sql)}"
    [(from_sql,)] = duckdb.sql(sql).fetchall()
    assert from_sql == record_id(source, *key)


def _sql_value(check_field: str, raw: str | None) -> object:
    from habeas.sources.declaration import FieldSpec
    from habeas.sources.validate import value_and_checks
    from habeas.store.canonical import CANONICAL_FIELDS

    spec = FieldSpec(to=check_field)
    value, _ = value_and_checks(CANONICAL_FIELDS[check_field], spec, date(2026, 11, 28))
    literal = "NULL" if raw is None else sql_literal(raw)
    [(out,)] = duckdb.sql(f"SELECT {value.replace('{v}', literal)}").fetchall()
    return out


def _reference_ssn(digits: str) -> bool:
    return (
        len(digits) == 9
        and digits.isdigit()
        and digits[:3] not in ("000", "666")
        and digits[0] != "9"
        and digits[3:5] != "00"
        and digits[5:] != "0000"
    )


@given(st.from_regex(r"[0-9]{3}-?[0-9]{2}-?[0-9]{4}", fullmatch=True))
def test_ssn_check_matches_the_issuing_rules(text: str) -> None:
    digits = text.replace("-", "")
    expected = digits if _reference_ssn(digits) else None
    assert _sql_value("ssn", text) == expected


@given(st.text(max_size=14))
def test_a_number_parser_accepts_only_a_numbers(text: str) -> None:
    out = _sql_value("a_number", text)
    if out is not None:
        assert isinstance(out, str) and len(out) == 9 and out.isdigit()
        assert out.lstrip("0") in "".join(ch for ch in text if ch.isdigit())


@given(st.integers(min_value=0, max_value=99_999))
def test_zip_keeps_five_digits(n: int) -> None:
    text = f"{n:05d}"
    assert _sql_value("zip", text) == text
    assert _sql_value("zip", text + "-1234") == text
    assert _sql_value("zip", text[:4]) is None
