"""Clusters chained through one bad link are split where two people's numbers meet."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from habeas.resolve.build import cluster_records
from habeas.resolve.normalize import INPUT_COLUMNS
from habeas.resolve.review import Constraints


def work_connection(records: dict[str, dict[str, object]], pairs: list[tuple[str, str, float]]):  # type: ignore[no-untyped-def]
    con = duckdb.connect()
    lists = {"name_tokens", "family_tokens"}
    cols = {c: [records[r].get(c) for r in records] for c in INPUT_COLUMNS if c != "unique_id"}
    inputs = pa.table(  # noqa: F841 - read by DuckDB
        {
            "unique_id": list(records),
            **{
                c: pa.array(v, pa.list_(pa.string()) if c in lists else pa.string())
                for c, v in cols.items()
            },
        }
    )
    con.execute("CREATE TABLE resolve_input AS SELECT * FROM inputs")
    scored = pa.table(  # noqa: F841
        {
            "unique_id_l": [a for a, _, _ in pairs],
            "unique_id_r": [b for _, b, _ in pairs],
            "match_probability": [p for _, _, p in pairs],
        }
    )
    con.execute("CREATE TABLE scored AS SELECT * FROM scored")
    return con


def _groups(con: duckdb.DuckDBPyConnection) -> set[frozenset[str]]:
    rows = con.execute("SELECT label, list(unique_id) FROM clusters GROUP BY 1").fetchall()
    return {frozenset(ids) for _, ids in rows}


def test_a_father_and_his_junior_are_split_at_their_weakest_link() -> None:
    records = {
        "f1": {"a_number": "165327602"},  # the father's records
        "f2": {},
        "j1": {"a_number": "226797681"},  # the junior's, at the same address
        "j2": {},
    }
    pairs = [("f1", "f2", 0.999), ("j1", "j2", 0.998), ("f2", "j2", 0.97)]
    con = work_connection(records, pairs)
    cluster_records(con, Constraints(), 0.95)
    assert _groups(con) == {frozenset({"f1", "f2"}), frozenset({"j1", "j2"})}
    [(records_a, reason_a), (records_b, reason_b)] = sorted(
        con.execute("SELECT records, reason FROM splits").fetchall()
    )
    assert reason_a == reason_b == "a_number 165327602 vs 226797681"
    assert {frozenset(records_a), frozenset(records_b)} == _groups(con)


def test_a_mistyped_number_does_not_split_a_person() -> None:
    records = {"a": {"a_number": "165327602"}, "b": {"a_number": "165327620"}}  # transposed
    con = work_connection(records, [("a", "b", 0.99)])
    cluster_records(con, Constraints(), 0.95)
    assert _groups(con) == {frozenset({"a", "b"})}
    assert con.execute("SELECT count(*) FROM splits").fetchall() == [(0,)]


def test_an_itin_and_a_later_ssn_are_one_persons_but_two_ssns_are_not() -> None:
    records = {
        "a": {"taxpayer_id": "912701234"},  # an ITIN
        "b": {"taxpayer_id": "123456789"},  # the SSN issued later
        "c": {"taxpayer_id": "234567890"},  # another SSN
    }
    pairs = [("a", "b", 0.99), ("b", "c", 0.96)]
    con = work_connection(records, pairs)
    cluster_records(con, Constraints(), 0.95)
    assert _groups(con) == {frozenset({"a", "b"}), frozenset({"c"})}
    reasons = {r for (r,) in con.execute("SELECT reason FROM splits").fetchall()}
    assert reasons == {"ssn 123456789 vs 234567890"}


def test_numbers_conflict_allows_a_typo_and_an_itin_beside_an_ssn() -> None:
    from habeas.resolve.cluster import number_kinds, numbers_conflict

    father = number_kinds("165327602", "123456789", None)
    assert numbers_conflict(father, number_kinds("165327620", None, None)) is None  # typo
    assert numbers_conflict(father, number_kinds(None, "912701234", None)) is None  # ITIN
    assert numbers_conflict(father, number_kinds("226797681", None, None)) == (
        "a_number 165327602 vs 226797681"
    )
    assert numbers_conflict(
        number_kinds(None, None, "1234AB5"), number_kinds(None, None, "1234AB6")
    )


ANA = {"given_canon": "ana", "given_dm": "AN", "family_dm": "LPS", "name_tokens": ["ana", "lopez"]}


def test_a_record_attaches_to_the_person_its_links_point_into() -> None:
    names = ("a", "b", "c", "lone", "pair1", "pair2")
    records: dict[str, dict[str, object]] = {r: dict(ANA) for r in names}
    pairs = [
        ("a", "b", 0.99),
        ("b", "c", 0.99),  # one person of three records
        ("lone", "a", 0.85),  # a record alone, one link of 0.85 into that person
        ("pair1", "pair2", 0.99),
        ("pair1", "c", 0.85),  # two records, only one link in
    ]
    con = work_connection(records, pairs)
    cluster_records(con, Constraints(), 0.95)
    assert _groups(con) == {frozenset({"a", "b", "c", "lone"}), frozenset({"pair1", "pair2"})}


def test_an_attachment_never_joins_conflicting_numbers_or_a_reviewers_apart() -> None:
    from habeas.resolve.cluster import CannotLink

    records = {
        "a": {**ANA, "a_number": "165327602"},
        "b": dict(ANA),
        "twin": {**ANA, "a_number": "182993630"},  # a twin: strong links, another A-number
        "kept": dict(ANA),
        "merged": {"given_canon": "bo", "given_dm": "P", "family_dm": "L", "name_tokens": ["bo"]},
    }
    # a broker's merged profile: another person's phone and birth date, no name in common
    pairs = [("a", "b", 0.99), ("twin", "a", 0.9), ("kept", "b", 0.9), ("merged", "b", 0.93)]
    con = work_connection(records, pairs)
    apart = CannotLink("pair:kept:b", frozenset({"kept"}), frozenset({"b"}))
    cluster_records(con, Constraints(cannot=[apart]), 0.95)
    assert _groups(con) == {
        frozenset({"a", "b"}),
        frozenset({"twin"}),
        frozenset({"kept"}),
        frozenset({"merged"}),
    }


def test_a_messy_world_keeps_twins_and_juniors_apart_and_says_why(
    tmp_path: Path, today: date
) -> None:
    from habeas.pipeline import intake_directory
    from habeas.resolve.run import resolve
    from habeas.store.staging import StagingStore
    from habeas.synth.world import generate_world

    world = generate_world(tmp_path / "w", 2500, seed=21, profile="messy")
    with StagingStore(tmp_path / "s.duckdb") as st:
        intake_directory(st, world.out, today)
        resolve(st, datetime(2026, 11, 1, 12, 0))
        splits = st.rows("SELECT person_id, reason, kept_apart_from FROM person_splits")
        assert splits, "the messy world chains some twins, juniors or households"
        person, reason, others = splits[0]
        assert reason.split()[0] in ("a_number", "ssn", "itin", "fbi_number")
        [(detail,)] = st.rows(
            "SELECT detail FROM person_flags WHERE person_id = ? AND flag = 'kept_apart' "
            "AND detail LIKE ?",
            [person, f"%{reason}"],
        )
        assert detail == f"kept apart from {', '.join(others)}: {reason}"
        # no person of the index holds two A-numbers that are not one number mistyped
        from habeas.resolve.cluster import number_kinds, numbers_conflict

        held: dict[str, list[set[tuple[str, str]]]] = {}
        for pid, a_number in st.rows(
            "SELECT p.person_id, r.a_number FROM person_records p JOIN records r "
            "USING (record_id) WHERE r.a_number IS NOT NULL"
        ):
            held.setdefault(pid, []).append(number_kinds(a_number, None, None))
        clashes = [
            pid
            for pid, sets in held.items()
            if any(numbers_conflict(x, y) for i, x in enumerate(sets) for y in sets[i + 1 :])
        ]
        assert clashes == []


def test_an_index_from_an_earlier_version_asks_for_a_full_run(tmp_path: Path, today: date) -> None:
    import pytest

    from habeas.errors import HabeasError
    from habeas.resolve.run import resolve_incremental
    from habeas.store.staging import StagingStore

    with StagingStore(tmp_path / "s.duckdb") as st:
        # the store defines the runs' table; the prepared input is an earlier version's
        st.con.execute(
            "INSERT INTO resolution_runs VALUES ('r', 'full', 'duckdb', now(), 1, 1, "
            "1, 1, 0.95, 0.5, '{}')"
        )
        st.con.execute("CREATE TABLE resolve_input (unique_id VARCHAR, given VARCHAR)")
        with pytest.raises(HabeasError, match="run a full `habeas resolve` before --incremental"):
            resolve_incremental(st, datetime(2026, 11, 1))
