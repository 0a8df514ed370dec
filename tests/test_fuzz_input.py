"""Fuzzing ingest and registration with Hypothesis: random bytes, random CSV and JSON Lines
structure, random declarations. Whatever comes in, the answer is a clear error (a
HabeasError, never a traceback), memory and time stay bounded, and every row read is
either staged or quarantined — none lost, none counted twice."""

from __future__ import annotations

import json
import resource
import string
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from habeas.errors import HabeasError
from habeas.sources.declaration import load_declaration, parse_declaration
from habeas.sources.ingest import ingest
from habeas.sources.registry import register
from habeas.store.staging import StagingStore

TODAY = date(2026, 10, 31)
DECLARATION = """
name = "fuzzed_{kind}"
agency = "Test agency (synthetic)"
system = "Fuzz"
category = "immigration"
legal_authority = "8 U.S.C. 1103(a)"
purposes = ["case_review"]
retention_days = 30
natural_key = ["id"]

[format]
kind = "{kind}"

[fields]
id = {{ to = "reference" }}
name = {{ to = "full_name", split = "auto" }}
dob = {{ to = "dob", date_format = ["%Y-%m-%d", "%Y"] }}
zip = {{ to = "zip" }}
lat = {{ to = "lat" }}
"""
COLUMNS = ["id", "name", "dob", "zip", "lat"]
FUZZ = settings(
    max_examples=60,
    deadline=20_000,  # per example: bounded time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

cell = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=',"\n\r\x00\x1b|;' + string.ascii_letters + string.digits, max_size=20),
    st.sampled_from(["1980-02-30", "1975", "NaN", "=HYPERLINK(1)", "12345", "", "\ufeff"]),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fuzz")
    for kind in ("csv", "jsonl"):
        (out / f"{kind}.toml").write_text(DECLARATION.format(kind=kind), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def store(folder: Path) -> StagingStore:
    s = StagingStore(folder / "staging.duckdb")
    for kind in ("csv", "jsonl"):
        assert register(s, folder / f"{kind}.toml", TODAY).accepted
    yield s
    s.close()


def _ingest_accounts_for_every_row(store: StagingStore, source: str, path: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        result = ingest(store, source, path, TODAY)
    except HabeasError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 512, f"ingest of {path.stat().st_size} bytes grew memory {grown_mib} MiB"
    if result.already_ingested:
        return
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    refused = store.scalar(
        "SELECT count(DISTINCT row_number) FROM quarantine WHERE batch_id = ? "
        "AND disposition = 'row refused'",
        [result.batch_id],
    )
    assert refused == result.rows_quarantined
    written = store.scalar("SELECT count(*) FROM records WHERE batch_id = ?", [result.batch_id])
    assert written == result.rows_new + result.rows_updated


@FUZZ
@given(data=st.binary(max_size=4000))
def test_random_bytes(store: StagingStore, folder: Path, data: bytes) -> None:
    for kind in ("csv", "jsonl"):
        path = folder / f"bytes.{kind}"
        path.write_bytes(data)
        _ingest_accounts_for_every_row(store, f"fuzzed_{kind}", path)


@FUZZ
@given(
    header=st.permutations(COLUMNS),
    rows=st.lists(st.lists(cell, min_size=0, max_size=7), max_size=25),
    delimiter=st.sampled_from([",", ",", ";", "|"]),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_random_csv(
    store: StagingStore,
    folder: Path,
    header: list[str],
    rows: list[list[str]],
    delimiter: str,
    ending: str,
) -> None:
    def quoted(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n\r;|') else v

    lines = [",".join(header)] + [delimiter.join(quoted(v) for v in r) for r in rows]
    path = folder / "random.csv"
    path.write_bytes(ending.join(lines).encode("utf-8", errors="surrogatepass"))
    _ingest_accounts_for_every_row(store, "fuzzed_csv", path)


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), cell),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(
    lines=st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from([*COLUMNS, "extra", "id.x"]), json_value, max_size=6),
            json_value,
            cell,
        ),
        max_size=25,
    )
)
def test_random_json_lines(store: StagingStore, folder: Path, lines: list[Any]) -> None:
    text = "\n".join(v if isinstance(v, str) else json.dumps(v, allow_nan=True) for v in lines)
    path = folder / "random.jsonl"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    _ingest_accounts_for_every_row(store, "fuzzed_jsonl", path)


toml_scalar = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.dates())
toml_value = st.recursive(
    toml_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
BASE: dict[str, Any] = tomllib.loads(DECLARATION.format(kind="csv"))


@FUZZ
@given(
    changes=st.dictionaries(
        st.sampled_from([*BASE, "tax", "agreement", "unknown"]), toml_value, max_size=4
    ),
    drop=st.sets(st.sampled_from(list(BASE)), max_size=3),
)
def test_random_declarations(changes: dict[str, Any], drop: set[str]) -> None:
    data = {k: v for k, v in BASE.items() if k not in drop} | changes
    try:
        parse_declaration(data, "fuzzed.toml")
    except HabeasError as exc:
        assert str(exc).startswith("fuzzed.toml")


@FUZZ
@given(text=st.text(max_size=400))
def test_random_declaration_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "random.toml"
    path.write_text(DECLARATION.format(kind="csv") + text, encoding="utf-8")
    try:
        load_declaration(path)
    except HabeasError as exc:
        assert str(path) in str(exc)
