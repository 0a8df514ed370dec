"""Ingestion: lineage, minimization, quarantine, idempotence and every kind of bad input."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from habeas.errors import IngestError, SourceRefused, UnknownSource
from habeas.pipeline import intake_directory
from habeas.sources.ingest import ingest
from habeas.sources.registry import register
from habeas.store.staging import StagingStore
from habeas.synth.world import WorldSummary


def registered(store: StagingStore, world_dir: Path, name: str, today: date) -> Path:
    reg = register(store, world_dir / f"{name}.toml", today)
    assert reg.accepted, reg.refusals
    return next(p for p in world_dir.glob(f"{name}.*") if p.suffix != ".toml")


def count(store: StagingStore, sql: str, *params: object) -> int:
    return int(store.scalar(sql, list(params)))


def test_whole_world_ingests_with_nothing_lost(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    report = intake_directory(store, world.out, today)
    assert {r.declaration.name for r in report.refused} == {"hud_tenants", "tipline_reports"}
    assert report.failures == {}
    truth = pq.read_table(world.truth).to_pylist()
    truth_ids = {t["record_id"]: t for t in truth}
    for result in report.results:
        # every row read is either staged or quarantined, never dropped
        staged = count(store, "SELECT count(*) FROM records WHERE source = ?", result.source)
        quarantined_rows = count(
            store,
            "SELECT count(DISTINCT row_number) FROM quarantine WHERE source = ? "
            "AND disposition = 'row refused'",
            result.source,
        )
        assert staged == result.rows_accepted
        assert staged + quarantined_rows == result.rows_read, result.source
    # staged ids are the ground truth's ids: deterministic from source + natural key
    ids = [r[0] for r in store.rows("SELECT record_id FROM records")]
    assert len(ids) == len(set(ids))
    assert all(i in truth_ids for i in ids)


def test_lineage_points_back_to_the_file_row(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    path = registered(store, world.out, "uscis_benefits", today)
    ingest(store, "uscis_benefits", path, today)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    sample = store.rows(
        "SELECT row_number, reference, family_name, file_sha256, batch_id, ingested_at, "
        "retain_until "
        "FROM records WHERE source = 'uscis_benefits' ORDER BY row_number DESC LIMIT 25"
    )
    assert sample
    for row_number, reference, family, sha, batch, at, retain in sample:
        assert rows[row_number - 1]["RECEIPT_NUMBER"] == reference
        assert rows[row_number - 1]["LAST_NAME"] == family
        assert sha == digest and batch.startswith("uscis_benefits-") and at is not None
        assert (retain - at.date()).days == 75 * 365


def test_minimization_drops_and_counts_fields(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    path = registered(store, world.out, "uscis_benefits", today)
    result = ingest(store, "uscis_benefits", path, today)
    with path.open(encoding="utf-8", newline="") as fh:
        n = sum(1 for _ in csv.DictReader(fh))
    assert result.dropped == {"ETHNICITY": n, "MARITAL_STATUS": n}
    stored = dict(store.rows("SELECT field, values_dropped FROM minimization"))
    assert stored == result.dropped
    columns = [
        r[0]
        for r in store.rows("SELECT column_name FROM duckdb_columns() WHERE table_name = 'records'")
    ]
    assert "ETHNICITY" not in columns and "ethnicity" not in columns
    # no dropped value survives in any text column of any staged record
    text_columns = [
        r[0]
        for r in store.rows(
            "SELECT column_name FROM duckdb_columns() "
            "WHERE table_name = 'records' AND data_type = 'VARCHAR'"
        )
    ]
    anywhere = " OR ".join(
        f"{c} IN ('Hispanic or Latino', 'Not Hispanic or Latino')" for c in text_columns
    )
    assert count(store, f"SELECT count(*) FROM records WHERE {anywhere}") == 0
    assert count(store, "SELECT count(*) FROM records") > 1000


def test_nested_json_fields_are_minimized(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    path = registered(store, world.out, "eoir_cases", today)
    result = ingest(store, "eoir_cases", path, today)
    objects = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            objects += isinstance(json.loads(line), dict)
        except json.JSONDecodeError:
            continue
    # the nested key respondent.language is not allowed: dropped from every JSON object
    assert result.dropped == {"respondent.language": objects}
    assert count(store, "SELECT count(*) FROM records WHERE a_number IS NOT NULL") == (
        result.rows_accepted
    )


def test_same_file_twice_changes_nothing(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    path = registered(store, world.out, "ssa_numident", today)
    first = ingest(store, "ssa_numident", path, today)
    before = store.rows("SELECT count(*), sum(hash(record_id, content_hash)) FROM records")
    quarantine_before = count(store, "SELECT count(*) FROM quarantine")
    second = ingest(store, "ssa_numident", path, today)
    assert not first.already_ingested and second.already_ingested
    assert second.batch_id == first.batch_id
    assert store.rows("SELECT count(*), sum(hash(record_id, content_hash)) FROM records") == before
    assert count(store, "SELECT count(*) FROM quarantine") == quarantine_before
    assert count(store, "SELECT count(*) FROM batches") == 1


def test_changed_row_updates_record_and_keeps_history(
    store: StagingStore, world_copy: Path, today: date
) -> None:
    path = registered(store, world_copy, "ssa_numident", today)
    ingest(store, "ssa_numident", path, today)
    lines = path.read_text(encoding="utf-8").split("\n")
    fields = lines[5].split(",")
    fields[3] = '"CHANGEDNAME"'
    lines[5] = ",".join(fields)
    path.write_text("\n".join(lines), encoding="utf-8")
    result = ingest(store, "ssa_numident", path, today)
    assert (result.rows_updated, result.rows_new) == (1, 0)
    assert result.rows_unchanged == result.rows_accepted - 1
    assert count(store, "SELECT count(*) FROM records WHERE family_name = 'CHANGEDNAME'") == 1
    assert count(store, "SELECT count(*) FROM record_history") == 1
    assert (
        count(store, "SELECT count(*) FROM records GROUP BY record_id ORDER BY 1 DESC LIMIT 1") == 1
    )


def test_rows_outside_the_tax_request_are_refused_and_counted(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    path = registered(store, world.out, "irs_returns", today)
    result = ingest(store, "irs_returns", path, today)
    refused = count(store, "SELECT count(*) FROM quarantine WHERE rule = 'tax-6103-request-scope'")
    assert refused > 0 and result.rows_accepted > 0
    # every staged tax row belongs to a person the request names with name and address
    with (world.out / "irs_request.csv").open(encoding="utf-8") as fh:
        requested = {
            (r["given_name"].upper(), r["family_name"].upper(), r["zip"])
            for r in csv.DictReader(fh)
            if r["street"] and r["zip"]
        }
    staged = store.rows("SELECT full_name, zip FROM records WHERE source = 'irs_returns'")
    keys = {(f"{g} {f}", z) for g, f, z in requested}
    assert all((name, z) in keys for name, z in staged)


def test_tax_request_without_any_addressed_person_is_refused(
    store: StagingStore, world_copy: Path, today: date
) -> None:
    request = world_copy / "irs_request.csv"
    rows = list(csv.DictReader(request.open(encoding="utf-8")))
    with request.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:
            writer.writerow({**r, "street": ""})
    reg = register(store, world_copy / "irs_returns.toml", today)
    assert [r.rule for r in reg.refusals] == ["tax-6103-request"]
    with pytest.raises(SourceRefused, match="tax-6103-request"):
        ingest(store, "irs_returns", world_copy / "irs_returns.jsonl", today)


def test_refused_source_cannot_be_ingested(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    reg = register(store, world.out / "hud_tenants.toml", today)
    assert not reg.accepted
    with pytest.raises(SourceRefused, match="MOU-HUD-DHS-2023-02 expired"):
        ingest(store, "hud_tenants", world.out / "hud_tenants.csv", today)
    assert count(store, "SELECT count(*) FROM records") == 0


def test_agreement_that_lapses_after_registration_stops_ingest(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    path = registered(store, world.out, "ssa_numident", today)
    with pytest.raises(SourceRefused, match="CMA-SSA-DHS-2025-07 expired"):
        ingest(store, "ssa_numident", path, date(2031, 1, 1))


def test_unknown_source(store: StagingStore, world: WorldSummary, today: date) -> None:
    with pytest.raises(UnknownSource, match="unknown source 'nope'"):
        ingest(store, "nope", world.files["uscis_benefits"], today)


def test_missing_file(
    store: StagingStore, world: WorldSummary, today: date, tmp_path: Path
) -> None:
    registered(store, world.out, "uscis_benefits", today)
    with pytest.raises(IngestError, match="no such file"):
        ingest(store, "uscis_benefits", tmp_path / "absent.csv", today)


def test_empty_file(store: StagingStore, world: WorldSummary, today: date, tmp_path: Path) -> None:
    registered(store, world.out, "uscis_benefits", today)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(IngestError, match="empty"):
        ingest(store, "uscis_benefits", empty, today)


def test_wrong_format_parquet_for_csv(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    registered(store, world.out, "uscis_benefits", today)
    with pytest.raises(IngestError, match=r"is a Parquet file.*declared as csv"):
        ingest(store, "uscis_benefits", world.files["cbp_crossings"], today)


def test_wrong_format_csv_for_parquet(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    registered(store, world.out, "cbp_crossings", today)
    with pytest.raises(IngestError, match="not a Parquet file"):
        ingest(store, "cbp_crossings", world.files["uscis_benefits"], today)


def test_file_of_another_source(store: StagingStore, world: WorldSummary, today: date) -> None:
    registered(store, world.out, "uscis_benefits", today)
    with pytest.raises(IngestError, match=r"header lacks column\(s\) \['RECEIPT_NUMBER'"):
        ingest(store, "uscis_benefits", world.files["clear_broker"], today)


def test_jsonl_for_csv(store: StagingStore, world: WorldSummary, today: date) -> None:
    registered(store, world.out, "uscis_benefits", today)
    with pytest.raises(IngestError, match="JSON Lines"):
        ingest(store, "uscis_benefits", world.files["eoir_cases"], today)


def test_non_utf8_csv_row_is_quarantined_others_kept(
    store: StagingStore, world_copy: Path, today: date
) -> None:
    path = registered(store, world_copy, "uscis_benefits", today)
    data = path.read_bytes().split(b"\n")
    data[3] = data[3].replace(b'"', b"", 0).replace(b",", b",Jos\xe9 ", 3)
    path.write_bytes(b"\n".join(data))
    result = ingest(store, "uscis_benefits", path, today)
    rows = store.rows(
        "SELECT row_number, rule, reason, value FROM quarantine WHERE rule = 'encoding'"
    )
    assert rows and all(r[0] == 3 for r in rows)
    assert "\\xE9" in rows[0][3]
    assert result.rows_accepted >= result.rows_read - 10


def test_malformed_json_line_in_the_middle(
    store: StagingStore, world_copy: Path, today: date
) -> None:
    path = registered(store, world_copy, "eoir_cases", today)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines = [line for line in lines if "BROKEN" not in line]
    lines.insert(10, '{"case_id": "EOIR-X", "alien_number": ')
    lines.insert(20, "[1, 2, 3]")
    lines.insert(30, '{"case_id": "EOIR-\xe9"')
    path.write_text("\n".join(lines), encoding="utf-8")
    result = ingest(store, "eoir_cases", path, today)
    rows = store.rows(
        "SELECT row_number, reason FROM quarantine WHERE rule = 'structure' ORDER BY 1"
    )
    assert rows == [
        (11, "malformed JSON line"),
        (21, "line is JSON but not an object"),
        (31, "malformed JSON line"),
    ]
    assert result.rows_read == len([line for line in lines if line.strip()])
    assert result.rows_accepted == result.rows_read - 3 - count(
        store, "SELECT count(DISTINCT row_number) FROM quarantine WHERE rule <> 'structure'"
    )


def test_non_utf8_json_line(store: StagingStore, world_copy: Path, today: date) -> None:
    path = registered(store, world_copy, "eoir_cases", today)
    raw = path.read_bytes().split(b"\n")
    raw[4] = raw[4].replace(b"EOIR-", b"EOIR-\xff", 1)
    path.write_bytes(b"\n".join(raw))
    ingest(store, "eoir_cases", path, today)
    assert store.rows("SELECT row_number, reason FROM quarantine WHERE row_number = 5") == [
        (5, "line holds bytes that are not UTF-8")
    ]


def test_ten_megabyte_field_is_quarantined_not_truncated(
    store: StagingStore, world_copy: Path, today: date
) -> None:
    path = registered(store, world_copy, "uscis_benefits", today)
    lines = path.read_text(encoding="utf-8").split("\n")
    fields = next(csv.reader([lines[2]]))
    fields[9] = "X" * (10 * 1024 * 1024)
    lines[2] = ",".join(f'"{f}"' for f in fields)
    path.write_text("\n".join(lines), encoding="utf-8")
    result = ingest(store, "uscis_benefits", path, today)
    [(row, field, _rule, value)] = store.rows(
        "SELECT row_number, field, rule, value FROM quarantine WHERE rule = 'length'"
    )
    assert (row, field) == (2, "STREET") and len(value) <= 201
    assert result.rows_accepted > 100


def test_short_csv_rows_are_quarantined_with_their_row_number(
    store: StagingStore, world_copy: Path, today: date
) -> None:
    path = registered(store, world_copy, "usms_warrants", today)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(4, "ONLY,THREE,FIELDS")
    path.write_text("\n".join(lines), encoding="utf-8")
    ingest(store, "usms_warrants", path, today)
    [(row, reason, value)] = store.rows(
        "SELECT row_number, reason, value FROM quarantine WHERE rule = 'structure'"
    )
    # the file and row number say where it is; its text is not kept (it holds the fields
    # minimization drops)
    assert row == 4 and "3 fields" in reason and value is None
    # the rows after it keep their own row numbers
    reference = lines[5].split(",")[0].strip('"')
    assert count(store, "SELECT row_number FROM records WHERE reference = ?", reference) == 5


def test_invalid_values_are_quarantined_with_field_and_reason(
    store: StagingStore, tmp_path: Path, today: date, world: WorldSummary
) -> None:
    registered(store, world.out, "ssa_numident", today)
    path = tmp_path / "ssa.csv"
    header = "SSN,NM_FIRST,NM_MIDDLE,NM_LAST,DOB,SEX,CITIZENSHIP_CD"
    rows = [
        "123-45-6789,ANA,,LOPEZ,19800101,F,A",  # fine
        "666-12-3456,BAD,,AREA,19800101,F,A",  # area 666 never issued
        "123-00-6789,BAD,,GROUP,19800101,F,A",  # group 00
        "123-45-6789,DUP,,KEY,19800101,F,A",  # duplicate natural key
        "234-56-7890,FUTURE,,BIRTH,20990101,M,B",  # born in the future
        "345-67-8901,ODD,,CODE,19800101,Q,Z",  # unknown codes
    ]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = ingest(store, "ssa_numident", path, today)
    # the SSN is the natural key: a bad one refuses the row; a bad secondary value is set
    # aside and its record kept with that field empty
    assert result.rows_accepted == 3
    assert result.rows_quarantined == 3
    assert result.values_set_aside == 3
    got = store.rows("SELECT row_number, field, rule, disposition FROM quarantine ORDER BY 1, 2, 3")
    kept, refused = "value set aside; record kept", "row refused"
    assert got == [
        (2, "SSN", "ssn", refused),
        (3, "SSN", "ssn", refused),
        (4, None, "duplicate-key", refused),
        (5, "DOB", "date-of-birth", kept),
        (6, "CITIZENSHIP_CD", "code", kept),
        (6, "SEX", "code", kept),
    ]
    staged = store.rows(
        "SELECT row_number, given_name, dob, sex, citizenship_indicator FROM records ORDER BY 1"
    )
    assert staged == [
        (1, "ANA", date(1980, 1, 1), "F", "us_citizen"),
        (5, "FUTURE", None, "M", "noncitizen_authorized"),
        (6, "ODD", date(1980, 1, 1), None, None),
    ]


def test_a_required_field_that_fails_refuses_its_row(
    store: StagingStore, tmp_path: Path, today: date
) -> None:
    decl = tmp_path / "feed.toml"
    decl.write_text(
        'name = "feed"\nagency = "Test Agency"\nsystem = "T"\ncategory = "commercial"\n'
        'legal_authority = "8 U.S.C. 1103"\npurposes = ["identity_resolution"]\n'
        'retention_days = 30\nnatural_key = ["id"]\n[format]\nkind = "csv"\n[fields]\n'
        'id = { to = "reference" }\nname = { to = "full_name" }\n'
        'born = { to = "dob", required = true }\nzip = { to = "zip" }\n',
        encoding="utf-8",
    )
    from habeas.sources.registry import register

    assert register(store, decl, today).accepted
    data = tmp_path / "feed.csv"
    data.write_text("id,name,born,zip\n1,Ana Lopez,13/01/1980,1234\n2,Bo Li,1981-02-03,1234\n")
    result = ingest(store, "feed", data, today)
    assert (result.rows_accepted, result.rows_quarantined, result.values_set_aside) == (1, 1, 1)
    got = store.rows("SELECT row_number, field, rule, disposition FROM quarantine ORDER BY 1, 2")
    assert got == [
        (1, "born", "date", "row refused"),
        (1, "zip", "zip", "row refused"),
        (2, "zip", "zip", "value set aside; record kept"),
    ]
    assert store.rows("SELECT full_name, zip FROM records") == [("Bo Li", None)]


def test_canonical_values_are_normalised(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    path = registered(store, world.out, "uscis_benefits", today)
    ingest(store, "uscis_benefits", path, today)
    bad = count(
        store, "SELECT count(*) FROM records WHERE NOT regexp_full_match(a_number, '[0-9]{9}')"
    )
    assert bad == 0
    statuses = {r[0] for r in store.rows("SELECT DISTINCT immigration_status FROM records")}
    assert statuses <= {
        "naturalized",
        "lpr",
        "nonimmigrant_visa",
        "tps",
        "daca",
        "asylum_pending",
        "none",
    }


def test_json_export_of_quarantine_reasons_is_readable(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    path = registered(store, world.out, "clear_broker", today)
    result = ingest(store, "clear_broker", path, today)
    assert result.set_aside, "the world carries some bad phone numbers and ZIP codes"
    assert not result.reasons, "a bad phone or ZIP code sets the value aside, not the row"
    assert all(":" in reason for reason in result.set_aside)
    json.dumps(dict(result.set_aside))


def test_a_dry_run_reports_everything_and_keeps_nothing(
    store: StagingStore, world: WorldSummary, today: date
) -> None:
    path = registered(store, world.out, "clear_broker", today)
    tables = ("records", "quarantine", "batches", "minimization")
    before = {t: count(store, f"SELECT count(*) FROM {t}") for t in tables}
    dry = ingest(store, "clear_broker", path, today, dry_run=True)
    assert dry.dry_run and dry.rows_read > 0 and dry.values_set_aside > 0
    assert {t: count(store, f"SELECT count(*) FROM {t}") for t in tables} == before
    assert 0 < dry.filled["phone"] <= dry.rows_accepted
    assert dry.filled["full_name"] == dry.rows_accepted
    real = ingest(store, "clear_broker", path, today)
    assert not real.dry_run and not real.already_ingested
    same = ("rows_read", "rows_accepted", "rows_quarantined", "values_set_aside", "rows_new")
    assert [getattr(dry, f) for f in same] == [getattr(real, f) for f in same]
    assert dry.set_aside == real.set_aside and dry.filled == real.filled
    staged = count(store, "SELECT count(phone) FROM records WHERE source = 'clear_broker'")
    assert staged == real.filled["phone"]
