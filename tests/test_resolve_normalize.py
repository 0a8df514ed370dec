"""Name folding, tokens, phonetic and transliteration keys."""

from __future__ import annotations

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from habeas.resolve.nicknames import canonical_given
from habeas.resolve.normalize import fold, phonetic, prepare, skeleton, tokens


def test_fold_transliterates_and_strips() -> None:
    assert fold("García-López") == "garcia lopez"
    assert fold("Ньютон") == "niuton"
    assert fold("O'Brien") == "obrien"
    assert fold("  ") is None and fold(None) is None


@given(st.text(max_size=40))
def test_fold_is_idempotent_and_ascii(text: str) -> None:
    once = fold(text)
    if once is not None:
        assert once.isascii() and once == fold(once)
        assert "  " not in once


def test_compound_surname_tokens_drop_particles() -> None:
    assert tokens("garcia de la cruz") == ["garcia", "cruz"]
    assert tokens("van der berg") == ["berg"]


def test_transliteration_variants_share_a_skeleton() -> None:
    assert skeleton("shevchenko") == skeleton("schewtschenko") == skeleton("sevcenko")
    assert skeleton("kowalski") == skeleton("kovalsky")
    assert skeleton("smith") != skeleton("jones")


def test_phonetic_and_nicknames() -> None:
    assert phonetic("smith") == phonetic("smyth")
    assert canonical_given("bill") == "william"
    assert canonical_given("zorro") == "zorro"


def test_prepare_fills_keys_from_a_full_name_alone() -> None:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE staged AS SELECT * FROM (VALUES
           ('r1', 's', NULL, NULL, NULL, 'Jürgen Müller-Lüdenscheidt', DATE '1970-05-04'),
           ('r2', 's', 'Ana', NULL, 'García López', NULL, NULL))
           t(record_id, source, given_name, middle_name, family_name, full_name, dob)"""
    )
    for col in (
        "a_number",
        "ssn",
        "tin",
        "itin",
        "passport_number",
        "fbi_number",
        "license_number",
        "license_state",
        "phone",
        "national_id",
        "zip",
        "postal_code",
        "state",
        "region",
        "place_of_birth",
        "occupation",
        "sex",
        "dob_precision",
        "city",
    ):
        con.execute(f"ALTER TABLE staged ADD COLUMN {col} VARCHAR")
    con.execute("ALTER TABLE staged ADD COLUMN lat DOUBLE")
    con.execute("ALTER TABLE staged ADD COLUMN lon DOUBLE")
    assert prepare(con, "staged") == 2
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT unique_id, given, family, family_tokens, dob_str FROM resolve_input"
        ).fetchall()
    }
    assert rows["r1"] == ("jurgen", "ludenscheidt", ["ludenscheidt"], "1970-05-04")
    assert rows["r2"][:3] == ("ana", "garcia lopez", ["garcia", "lopez"])
