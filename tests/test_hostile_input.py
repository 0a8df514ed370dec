"""Hostile and careless input to ingest and registration: every one answered with an error
that names the file, row or field (or a refusal), never a traceback, a hang or a leak."""

from __future__ import annotations

import gzip
import os
import threading
from datetime import date
from pathlib import Path

import pytest

from habeas.errors import DeclarationError, IngestError
from habeas.sources.declaration import load_declaration
from habeas.sources.ingest import ingest
from habeas.sources.registry import evaluate, register
from habeas.sources.rules import legal_basis_refusals, legal_basis_warnings
from habeas.store.staging import StagingStore

SOURCE_TOML = """
name = "tips_json"
agency = "Test agency (synthetic)"
system = "Test system"
category = "immigration"
legal_authority = "8 U.S.C. 1103(a)"
purposes = ["case_review"]
retention_days = 365
natural_key = ["id"]
{extra}
[format]
kind = "{kind}"

[fields]
id = {{ to = "reference" }}
name = {{ to = "full_name" }}
lat = {{ to = "lat" }}
"""


def source(tmp_path: Path, kind: str = "jsonl", extra: str = "") -> Path:
    path = tmp_path / "tips.toml"
    path.write_text(SOURCE_TOML.format(kind=kind, extra=extra), encoding="utf-8")
    return path


def ssa(store: StagingStore, world_copy: Path, today: date) -> Path:
    reg = register(store, world_copy / "ssa_numident.toml", today)
    assert reg.accepted, reg.refusals
    return world_copy / "ssa_numident.csv"


def lines(path: Path, n: int = 12) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:n]


def quarantined(store: StagingStore) -> list[tuple[object, ...]]:
    return store.rows(
        "SELECT row_number, field, rule, value, disposition FROM quarantine ORDER BY ALL"
    )


def test_cr_only_line_endings_are_read_as_lines(
    store: StagingStore, world_copy: Path, today: date
) -> None:
    path = ssa(store, world_copy, today)
    path.write_bytes(b"\r".join(lines(path)))
    result = ingest(store, "ssa_numident", path, today)
    assert result.rows_read == 11 and result.rows_accepted == 11


@pytest.mark.parametrize(
    ("wrap", "named"),
    [
        (gzip.compress, "gzip-compressed"),
        (lambda b: b.decode().encode("utf-16"), "UTF-16"),
        (lambda b: b.decode().encode("utf-16-le"), "UTF-16"),
        (lambda b: b.decode().encode("utf-32"), "UTF-32"),
    ],
)
def test_a_file_that_is_not_text_is_named_for_what_it_is(
    store: StagingStore, world_copy: Path, today: date, wrap: object, named: str
) -> None:
    path = ssa(store, world_copy, today)
    path.write_bytes(wrap(b"\n".join(lines(path))))  # type: ignore[operator]
    with pytest.raises(IngestError, match=named):
        ingest(store, "ssa_numident", path, today)


def test_a_short_row_with_a_bad_byte_is_quarantined_and_the_rest_kept(
    store: StagingStore, world_copy: Path, today: date
) -> None:
    path = ssa(store, world_copy, today)
    rows = lines(path)
    path.write_bytes(b"\n".join([*rows[:5], b'"1\xff23","A"', *rows[5:]]))
    result = ingest(store, "ssa_numident", path, today)
    assert result.rows_accepted == 11 and result.rows_quarantined == 1
    [(row, _, rule, _, _)] = quarantined(store)
    assert (row, rule) == (5, "structure")


def test_a_header_followed_by_binary_garbage_quarantines_the_garbage(
    store: StagingStore, world_copy: Path, today: date
) -> None:
    path = ssa(store, world_copy, today)
    path.write_bytes(lines(path)[0] + b"\n" + bytes(range(256)) * 40)
    result = ingest(store, "ssa_numident", path, today)
    assert result.rows_accepted == 0 and result.rows_quarantined == result.rows_read > 0


def test_nul_and_escape_inside_values_are_set_aside_and_inside_keys_refuse_the_row(
    store: StagingStore, world_copy: Path, today: date
) -> None:
    path = ssa(store, world_copy, today)
    rows = lines(path)
    rows[2] = rows[2].replace(b'"M"', b'"M\x00"').replace(b'"F"', b'"F\x00"')
    rows[3] = rows[3].replace(b'","', b'\x1b[2J","', 1)  # in the SSN, the natural key
    path.write_bytes(b"\n".join(rows))
    result = ingest(store, "ssa_numident", path, today)
    entries = {(r[0], r[2], r[4]) for r in quarantined(store)}
    assert (2, "control-character", "value set aside; record kept") in entries
    assert (3, "control-character", "row refused") in entries
    assert result.rows_accepted == 10
    assert not store.scalar("SELECT count(*) FROM records WHERE contains(sex, chr(0))")


def test_json_arrays_objects_and_nan_are_not_values(tmp_path: Path, today: date) -> None:
    decl = source(tmp_path)
    data = tmp_path / "tips.jsonl"
    data.write_text(
        '{"id": ["a", "b"], "name": "Ann Lee", "lat": 1}\n'
        '{"id": "k2", "name": {"x": 1}, "lat": 2}\n'
        '{"id": "k3", "name": "Bo Li", "lat": NaN}\n'
        '{"id": "k4", "name": "Cy Ng", "lat": "nan"}\n'
        '{"id": "k5", "name": "Di Wu", "lat": 45.5}\n',
        encoding="utf-8",
    )
    with StagingStore(tmp_path / "s.duckdb") as st:
        assert register(st, decl, today).accepted
        result = ingest(st, "tips_json", data, today)
        entries = {(r[0], r[2]) for r in quarantined(st)}
        assert (1, "json-value") in entries  # the natural key: the row is refused
        assert (2, "json-value") in entries and (3, "json-value") in entries
        assert (4, "float") in entries
        assert result.rows_accepted == 4
        assert st.rows("SELECT lat FROM records WHERE source_key = 'k5'") == [(45.5,)]
        assert st.scalar("SELECT count(*) FROM records WHERE isnan(lat)") == 0


def test_a_huge_json_line_is_refused_as_a_row_not_parsed(tmp_path: Path, today: date) -> None:
    decl = source(tmp_path)
    data = tmp_path / "tips.jsonl"
    big = '{"id": "k1", "name": "' + "x" * (3 * 1024**2) + '"}'
    data.write_text(big + '\n{"id": "k2", "name": "Bo Li"}\n', encoding="utf-8")
    with StagingStore(tmp_path / "s.duckdb") as st:
        assert register(st, decl, today).accepted
        result = ingest(st, "tips_json", data, today)
        [(row, _, rule, value, _)] = quarantined(st)
        assert (row, rule) == (1, "structure") and len(str(value)) <= 201
        assert result.rows_accepted == 1


def test_devices_fifos_and_directories_are_refused_without_reading(
    store: StagingStore, world_copy: Path, today: date, tmp_path: Path
) -> None:
    ssa(store, world_copy, today)
    with pytest.raises(IngestError, match="system file"):
        ingest(store, "ssa_numident", Path("/dev/zero"), today)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    done: list[BaseException] = []

    def attempt() -> None:
        try:
            ingest(store, "ssa_numident", fifo, today)
        except IngestError as exc:
            done.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert done and "not a regular file" in str(done[0])
    with pytest.raises(IngestError, match="is a directory"):
        ingest(store, "ssa_numident", tmp_path, today)


def test_a_file_that_is_not_a_csv_header_is_shown_only_as_escaped_bytes(
    store: StagingStore, world_copy: Path, today: date, tmp_path: Path
) -> None:
    ssa(store, world_copy, today)
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$saltsalt$hashhashhashhash:19000:0:99999:7:::\n", encoding="utf-8")
    link = tmp_path / "feed.csv"
    link.symlink_to(secret)
    with pytest.raises(IngestError) as exc:
        ingest(store, "ssa_numident", link, today)
    assert "hashhash" not in str(exc.value) and "none of the columns" in str(exc.value)


def _with_tax_request(world_copy: Path, request: str) -> Path:
    path = world_copy / "irs_returns.toml"
    text = path.read_text(encoding="utf-8")
    lines_ = [
        f'request_file = "{request}"' if ln.startswith("request_file") else ln
        for ln in text.splitlines()
    ]
    path.write_text("\n".join(lines_) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("request_file", "named"),
    [
        ("/dev/zero", "system file"),
        (".", "is a directory"),
        ("../../../../../../etc/hostname", "outside"),
    ],
)
def test_a_request_file_must_be_a_regular_file_in_the_declarations_folder(
    world_copy: Path, today: date, request_file: str, named: str
) -> None:
    path = _with_tax_request(world_copy, request_file)
    with pytest.raises(DeclarationError, match=named):
        evaluate(path, today)


def test_a_request_file_linked_to_a_secret_is_refused(
    world_copy: Path, today: date, tmp_path: Path
) -> None:
    (world_copy / "req.csv").symlink_to("/etc/passwd")
    with pytest.raises(DeclarationError, match="outside") as exc:
        evaluate(_with_tax_request(world_copy, "req.csv"), today)
    assert "root:" not in str(exc.value)


def test_a_date_format_duckdb_cannot_read_is_refused_at_registration(
    world_copy: Path, today: date
) -> None:
    path = world_copy / "ssa_numident.toml"
    text = path.read_text(encoding="utf-8").replace('"%Y%m%d"', '"%Y%m%d %Q"', 1)
    assert "%Q" in text
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DeclarationError, match="date format DuckDB can read"):
        load_declaration(path)


def test_toml_nested_too_deep_is_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(DeclarationError, match=r"\(syntax\)"):
        load_declaration(path)


def test_a_declaration_from_a_device_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="system file"):
        load_declaration(Path("/dev/zero"))


@pytest.mark.parametrize(
    ("authority", "ok"),
    [
        ("§ 1", False),
        ("1 USC", False),
        ("99 U.S.C. 1", False),
        ("8 CFR", False),
        ("8 U.S.C. 1357(a); 8 CFR 287.5", True),
        ("8 U.S.C. § 1357", True),
        ("Pub. L. 104-208", True),
        ("110 Stat. 3009", True),
        ("8 CFR part 1003", True),
    ],
)
def test_a_legal_authority_must_be_a_real_citation(
    tmp_path: Path, today: date, authority: str, ok: bool
) -> None:
    path = source(tmp_path, "csv")
    path.write_text(
        path.read_text(encoding="utf-8").replace("8 U.S.C. 1103(a)", authority),
        encoding="utf-8",
    )
    rules = [r.rule for r in legal_basis_refusals(load_declaration(path), today)]
    assert ("legal-authority" not in rules) is ok


def test_a_legal_authority_of_a_megabyte_is_refused(tmp_path: Path) -> None:
    path = source(tmp_path, "csv")
    path.write_text(
        path.read_text(encoding="utf-8").replace("8 U.S.C. 1103(a)", "8 U.S.C. 1 " * 130_000),
        encoding="utf-8",
    )
    with pytest.raises(DeclarationError, match="legal_authority"):
        load_declaration(path)


def _benefit(tmp_path: Path, agency: str, category: str, end: str = "2027-06-30") -> Path:
    path = source(
        tmp_path,
        "csv",
        extra=f"""
[agreement]
kind = "computer_matching_agreement"
id = "CMA-9"
citation = "5 U.S.C. 552a(o)"
start = 2026-01-01
end = {end}
""",
    )
    text = path.read_text(encoding="utf-8")
    text = text.replace('"Test agency (synthetic)"', f'"{agency}"')
    text = text.replace('category = "immigration"', f'category = "{category}"')
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("agency", ["S.S.A.", "Soc. Sec. Admin.", "the SSA", "ssa"])
def test_a_benefit_agency_is_known_however_spelled(
    tmp_path: Path, today: date, agency: str
) -> None:
    decl = load_declaration(_benefit(tmp_path, agency, "commercial"))
    assert "benefit-program-category" in [r.rule for r in legal_basis_refusals(decl, today)]


def test_an_open_ended_agreement_is_refused_and_a_distant_one_warned(
    tmp_path: Path, today: date
) -> None:
    forever = load_declaration(_benefit(tmp_path, "S.S.A.", "benefit_program", "9999-12-31"))
    assert "agreement-term" in [r.rule for r in legal_basis_refusals(forever, today)]
    soon = load_declaration(_benefit(tmp_path, "S.S.A.", "benefit_program"))
    assert "agreement-term" not in [r.rule for r in legal_basis_refusals(soon, today)]
    assert legal_basis_warnings(soon, date(2020, 1, 1))
    assert not legal_basis_warnings(soon, today)
