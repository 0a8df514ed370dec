"""The synthetic world: deterministic, varied, and its ground truth is right."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import zipcodes

from habeas.synth.names import TRADITIONS
from habeas.synth.population import STATUSES, generate_people
from habeas.synth.world import WORLD_DATE, WorldSummary, generate_world


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate_world(tmp_path / "a", 300, seed=42)
    b = generate_world(tmp_path / "b", 300, seed=42)
    names = sorted(p.name for p in a.out.iterdir())
    assert names == sorted(p.name for p in b.out.iterdir())
    for name in names:
        assert (a.out / name).read_bytes() == (b.out / name).read_bytes(), name


def test_other_seed_other_world(tmp_path: Path) -> None:
    a = generate_world(tmp_path / "a", 300, seed=1)
    b = generate_world(tmp_path / "b", 300, seed=2)
    assert (a.out / "uscis_benefits.csv").read_bytes() != (
        b.out / "uscis_benefits.csv"
    ).read_bytes()


def test_population_mixes_statuses_and_traditions() -> None:
    people = generate_people(3000, seed=9, as_of=WORLD_DATE)
    assert {p.status for p in people} == set(STATUSES)
    assert len({p.tradition for p in people}) == 8
    assert any(len(p.family) == 2 for p in people), "compound surnames"
    assert all(p.a_number is None for p in people if p.status == "us_born")
    assert all(p.a_number is not None for p in people if p.status != "us_born")
    moved = [p for p in people if len(p.addresses) > 1]
    assert len(moved) > 1000 and all(
        a.since <= b.since
        for p in moved
        for a, b in zip(p.addresses, p.addresses[1:], strict=False)
    )


def test_addresses_are_real_us_geography(world: WorldSummary) -> None:
    with world.files["uscis_benefits"].open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:200]
    for row in rows:
        if row["ZIP"] == "9021":
            continue
        [z] = zipcodes.matching(row["ZIP"])
        assert (z["city"], z["state"]) == (row["CITY"], row["STATE"])


def test_truth_covers_every_generated_row(world: WorldSummary) -> None:
    truth = pq.read_table(world.truth).to_pylist()
    per_source: dict[str, int] = defaultdict(int)
    for t in truth:
        per_source[t["source"]] += 1
    assert dict(per_source) == world.records
    assert len({t["record_id"] for t in truth}) == len(truth)


def test_truth_agrees_with_strong_identifiers(world: WorldSummary) -> None:
    """Rows sharing an SSN belong to one true person, and rows of one person share it."""
    truth = {
        (t["source"], t["source_key"]): t["person_id"]
        for t in pq.read_table(world.truth).to_pylist()
    }
    by_ssn: dict[str, set[str]] = defaultdict(set)
    with world.files["ssa_numident"].open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_ssn[row["SSN"]].add(truth[("ssa_numident", row["SSN"])])
    assert all(len(p) == 1 for p in by_ssn.values())
    by_a: dict[str, set[str]] = defaultdict(set)
    with world.files["uscis_benefits"].open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_a[row["A_NUMBER"].replace("-", "")].add(
                truth[("uscis_benefits", row["RECEIPT_NUMBER"])]
            )
    assert all(len(p) == 1 for a, p in by_a.items() if a != "A12")
    people = {p["person_id"]: p for p in pq.read_table(world.out / "people.parquet").to_pylist()}
    assert all(p.startswith("P") and p in people for ps in by_a.values() for p in ps)


def test_sources_have_their_own_formats_and_noise(world: WorldSummary) -> None:
    kinds = {p.suffix for p in world.files.values()}
    assert kinds == {".csv", ".jsonl", ".parquet"}
    first_line = world.files["fbi_criminal"].read_text(encoding="utf-8").split("\n", 1)[0]
    assert "|" in first_line
    cbp = pq.read_table(world.files["cbp_crossings"]).to_pylist()
    assert all(r["surname"] == r["surname"].upper() for r in cbp)
    with world.files["uscis_benefits"].open(encoding="utf-8") as fh:
        names = {r["FIRST_NAME"] for r in csv.DictReader(fh)}
    groups = [set(g) for t in TRADITIONS for g in (*t.male, *t.female) if len(g) > 1]
    assert sum(len(names & g) >= 2 for g in groups) >= 10, "transliteration variants appear"
