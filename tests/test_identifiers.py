"""Identifiers as they are really written, and columns that mix identifier kinds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from habeas.errors import DeclarationError
from habeas.sources.ingest import ingest
from habeas.sources.registry import register
from habeas.store.staging import StagingStore

HEAD = """
name = "cjis"
agency = "A state criminal history repository"
system = "rap sheets"
category = "criminal_justice"
legal_authority = "8 U.S.C. 1103"
purposes = ["identity_resolution"]
retention_days = 30
natural_key = ["id"]
[format]
kind = "csv"
[fields]
id = {{ to = "reference" }}
{fields}
"""


def _staged(tmp_path: Path, today: date, fields: str, header: str, rows: list[str]) -> StagingStore:
    decl = tmp_path / "cjis.toml"
    decl.write_text(HEAD.format(fields=fields), encoding="utf-8")
    st = StagingStore(tmp_path / "s.duckdb")
    reg = register(st, decl, today)
    assert reg.accepted, reg.refusals
    data = tmp_path / "cjis.csv"
    data.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest(st, "cjis", data, today)
    return st


@pytest.mark.parametrize(
    ("kind", "raw", "staged"),
    [
        ("a_number", "A-012-345-678", "012345678"),
        ("a_number", "A1234567", "001234567"),  # seven digits: an early A-number
        ("a_number", "AR-201912747", None),
        ("fbi_number", "123456AB7", "123456AB7"),
        ("fbi_number", "FBI 123-456-AB7", "123456AB7"),
        ("fbi_number", "1234567AB8", "1234567AB8"),
        ("fbi_number", "ABCDEFG", None),  # no digits: not a number
        ("ssn", "078-05-1120", None),  # the Woolworth wallet card
        ("ssn", "987-65-4325", None),  # reserved for advertising
        ("ssn", "123-45-6789", "123456789"),
        ("phone", "(212) 555-0187", "2125550187"),
        ("phone", "+1 212 555 0187", "2125550187"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("phone", "0044 20 7946 0958", "+442079460958"),
        ("phone", "(212) 155-0187", None),  # an exchange never starts with 1
        ("phone", "(292) 555-0187", None),  # area codes x9x are reserved
    ],
)
def test_identifier_shapes(tmp_path: Path, today: date, kind: str, raw: str, staged: str) -> None:
    st = _staged(tmp_path, today, f'val = {{ to = "{kind}" }}', "id,val", [f'1,"{raw}"'])
    [(value,)] = st.rows(f"SELECT {kind} FROM records")
    assert value == staged
    entries = st.rows("SELECT field, disposition FROM quarantine")
    # an unknown shape sets the value aside; the row is always kept
    assert entries == ([] if staged else [("val", "value set aside; record kept")])
    st.close()


def test_a_mixed_column_is_split_by_shape(tmp_path: Path, today: date) -> None:
    fields = 'misc = { to = "identifier", kinds = ["a_number", "fbi_number", "ssn"] }'
    rows = [
        "1,A012345678",  # an A-number
        "2,123456AB7",  # an FBI number
        "3,123-45-6789",  # an SSN
        "4,AR-201912747",  # another system's number: no kind fits
        "5,012345678",  # nine bare digits: an SSN, not an A-number without its A
        "6,",
    ]
    st = _staged(tmp_path, today, fields, "id,misc", rows)
    got = st.rows("SELECT reference, a_number, fbi_number, ssn FROM records ORDER BY 1")
    assert got == [
        ("1", "012345678", None, None),
        ("2", None, "123456AB7", None),
        ("3", None, None, "123456789"),
        ("4", None, None, None),
        ("5", None, None, "012345678"),
        ("6", None, None, None),
    ]
    [(row, value, rule, disposition)] = st.rows(
        "SELECT row_number, value, rule, disposition FROM quarantine"
    )
    assert (row, value, rule) == (4, "AR-201912747", "identifier")
    assert disposition == "value set aside; record kept"
    st.close()


def test_a_value_fitting_two_kinds_is_set_aside(tmp_path: Path, today: date) -> None:
    fields = 'misc = { to = "identifier", kinds = ["fbi_number", "passport_number"] }'
    st = _staged(tmp_path, today, fields, "id,misc", ["1,123456AB7"])
    assert st.rows("SELECT fbi_number, passport_number FROM records") == [(None, None)]
    assert st.rows("SELECT rule FROM quarantine") == [("identifier-ambiguous",)]
    st.close()


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ('misc = { to = "identifier" }', "two or more"),
        ('misc = { to = "identifier", kinds = ["a_number"] }', "two or more"),
        ('misc = { to = "identifier", kinds = ["a_number", "given_name"] }', "not identifiers"),
        ('misc = { to = "a_number", kinds = ["a_number", "ssn"] }', "kinds belong"),
        (
            'misc = { to = "identifier", kinds = ["a_number", "ssn"] }\nanum = { to = "a_number" }',
            "already mapped",
        ),
    ],
)
def test_mixed_declarations_are_checked(
    tmp_path: Path, today: date, fields: str, problem: str
) -> None:
    from habeas.sources.declaration import load_declaration

    decl = tmp_path / "cjis.toml"
    decl.write_text(HEAD.format(fields=fields), encoding="utf-8")
    with pytest.raises(DeclarationError) as err:
        load_declaration(decl)
    assert problem in str(err.value)
