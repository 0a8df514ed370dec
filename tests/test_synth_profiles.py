"""The second noise profile: deterministic, different from the first, and ingestible."""

from __future__ import annotations

import csv
import hashlib
import itertools
import random
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from habeas.pipeline import intake_directory
from habeas.store.staging import StagingStore
from habeas.synth.population import generate_people
from habeas.synth.profiles import ocr
from habeas.synth.world import WORLD_DATE, generate_world


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_messy_profile_is_deterministic_and_differs(tmp_path: Path) -> None:
    a = generate_world(tmp_path / "a", 400, seed=3, profile="messy")
    b = generate_world(tmp_path / "b", 400, seed=3, profile="messy")
    std = generate_world(tmp_path / "s", 400, seed=3)
    assert _digest(a.out) == _digest(b.out)
    assert _digest(a.out) != _digest(std.out)
    c = generate_world(tmp_path / "c", 400, seed=4, profile="messy")
    assert _digest(a.out)["usms_warrants.csv"] != _digest(c.out)["usms_warrants.csv"]


def test_an_unknown_profile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown noise profile 'rough'"):
        generate_world(tmp_path / "w", 100, seed=1, profile="rough")


def test_the_messy_population_has_twins_juniors_and_households() -> None:
    people = generate_people(4000, seed=8, as_of=WORLD_DATE, profile="messy")
    standard = generate_people(4000, seed=8, as_of=WORLD_DATE)
    by_key = Counter((p.family, p.dob) for p in people)
    twins = [p for p in people if by_key[(p.family, p.dob)] > 1]
    assert len(twins) >= 20, "twins share a family name and a birth date"
    names = Counter((p.given, p.family) for p in people)
    juniors = [
        (a, b)
        for a, b in itertools.pairwise(people)
        if (a.given, a.family) == (b.given, b.family) and abs((a.dob - b.dob).days) > 20 * 365
    ]
    assert juniors, "juniors share a whole name a generation apart"
    assert sum(names.values()) == len(people)
    homes = Counter(p.addresses[-1].street for p in people)
    standard_homes = Counter(p.addresses[-1].street for p in standard)
    assert sum(n for n in homes.values() if n > 1) > 3 * sum(
        n for n in standard_homes.values() if n > 1
    ), "households share an address"
    assert max(len(p.addresses) for p in people) == 5, "some moved often"


def test_ocr_confuses_the_letters_a_scanner_confuses() -> None:
    seen = {ocr(random.Random(i), "Harmon") for i in range(60)}
    assert seen == {"Harrnon", "Harm0n", "Barmon"}  # m read as rn, o as 0, h as b
    assert ocr(random.Random(1), "CLARK") in {"DARK", "C1ARK"}  # case kept
    assert ocr(random.Random(2), "Xu") == "Xu"  # nothing to confuse, too short to slip


def test_a_messy_world_ingests_with_partial_dates_whole_names_and_mixed_numbers(
    tmp_path: Path,
) -> None:
    world = generate_world(tmp_path / "w", 1500, seed=11, profile="messy")
    with (world.out / "usms_warrants.csv").open(encoding="utf-8", newline="") as fh:
        names = [r["SUBJECT_NAME"] for r in csv.DictReader(fh)]
    assert any("," in n for n in names) and any("," not in n for n in names)
    with StagingStore(tmp_path / "s.duckdb") as st:
        report = intake_directory(st, world.out, date(2026, 11, 1))
        assert report.failures == {}
        precisions = dict(
            st.rows(
                "SELECT dob_precision, count(*) FROM records WHERE source = 'clear_broker' "
                "GROUP BY 1"
            )
        )
        assert precisions["year"] > 0.1 * sum(precisions.values())
        mixed = st.rows(
            "SELECT count(a_number), count(ssn) FROM records WHERE source = 'fbi_criminal'"
        )[0]
        assert mixed[0] > 0 and mixed[1] > 0
        [(set_aside,)] = st.rows(
            "SELECT count(*) FROM quarantine WHERE source = 'fbi_criminal' "
            "AND field = 'MISC_NUM' AND disposition = 'value set aside; record kept'"
        )
        assert set_aside > 0, "another system's numbers are set aside, their rows kept"
        split = st.rows(
            "SELECT count(*) FILTER (WHERE given_name IS NOT NULL AND family_name IS NOT NULL), "
            "count(*) FROM records WHERE source = 'usms_warrants'"
        )[0]
        assert split[0] == split[1], "every whole name split into given and family"
