"""Facts that change inside the index: a record's corrected value (the old one kept beside
it), and persons re-linked with the published model after a correction or a split.

A correction is stored in ``record_corrections`` (staging) with the value it superseded
and applied to the staged record; a later ingest of the same row that still carries the
old value has the correction applied again (the source has not fixed it yet), while a
source that sends another value is believed. Re-linking takes the persons out of the
index and links their records again, incrementally: links may break or form, flags
clear or appear, and a person id lives on with the largest part of its records.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from habeas.errors import HabeasError
from habeas.resolve import engine as eng
from habeas.resolve.normalize import INPUT_COLUMNS, prepare
from habeas.resolve.run import (
    PAIR_FLOOR,
    STAGED_COLUMNS,
    finish_run,
    last_model,
    link_new,
    new_run_id,
    work_connection,
)
from habeas.sources.corrections import apply_correction
from habeas.store.staging import StagingStore


@dataclass
class Relinked:
    """Where the records of re-linked persons went."""

    run_id: str
    before: dict[str, list[str]]
    """Each re-linked person → its records before."""
    after: dict[str, list[str]]
    """Each person now holding one of those records → all its records."""
    moved: list[tuple[str, str, int]] = field(default_factory=list)
    """(old person id, new person id, records) for records that changed person."""

    @property
    def persons(self) -> list[str]:
        """Every person id involved, before and after."""
        return sorted(set(self.before) | set(self.after))


def person_records(store: StagingStore, persons: list[str]) -> dict[str, list[str]]:
    """Person → its record ids, for the given persons."""
    out: dict[str, list[str]] = {}
    for rid, pid in store.rows(
        "SELECT record_id, person_id FROM person_records WHERE person_id IN (SELECT unnest(?)) "
        "ORDER BY record_id",
        [persons],
    ):
        out.setdefault(pid, []).append(rid)
    return out


def person_of_records(store: StagingStore, records: list[str]) -> dict[str, str]:
    """Record → its person now."""
    return dict(
        store.rows(
            "SELECT record_id, person_id FROM person_records WHERE record_id IN (SELECT unnest(?))",
            [records],
        )
    )


@dataclass(frozen=True)
class Correction:
    """A corrected value to apply with a re-link (the id its operational row has)."""

    correction_id: int
    record_id: str
    field: str
    value: str | None


def relink(
    store: StagingStore,
    persons: list[str],
    now: datetime,
    corrections: Sequence[Correction] = (),
) -> Relinked:
    """Take ``persons`` out of the index and link their records again with the published
    model, in one transaction of the staging store (with ``corrections`` applied first:
    the records are compared with their corrected values)."""
    started = time.perf_counter()
    model_json = last_model(store)
    if model_json is None:
        raise HabeasError("no index yet: run `habeas resolve` first")
    before = person_records(store, sorted(set(persons)))
    if not before:
        raise HabeasError(f"no person {persons[0] if persons else ''} in the index")
    rids = sorted(r for recs in before.values() for r in recs)
    con = store.con
    staged = con.sql(  # noqa: F841 - read by DuckDB
        f"SELECT {STAGED_COLUMNS} FROM records WHERE record_id IN (SELECT unnest($ids))",
        params={"ids": rids},
    ).to_arrow_table()
    work = work_connection(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    work.execute("CREATE TABLE staged AS SELECT * FROM staged")
    compared = {c.strip() for c in STAGED_COLUMNS.split(",")}
    for c in corrections:
        if c.field in compared:
            extra = ", dob_precision = 'day'" if c.field == "dob" else ""
            work.execute(
                f"UPDATE staged SET {c.field} = ?{extra} WHERE record_id = ?",
                [c.value, c.record_id],
            )
    prepare(work, "staged", out="new_input")
    existing = con.sql(  # noqa: F841
        f"SELECT {', '.join(INPUT_COLUMNS)} FROM resolve_input "
        "WHERE unique_id NOT IN (SELECT unnest($ids))",
        params={"ids": rids},
    ).to_arrow_table()
    work.execute(
        "CREATE TABLE resolve_input AS SELECT * FROM existing UNION ALL SELECT * FROM new_input"
    )
    pairs = eng.score_new(work, model_json, "new_input", PAIR_FLOOR)
    run_id = new_run_id("relink", now)
    previous = {r: pid for pid, recs in before.items() for r in recs}

    def write_corrections() -> None:
        for c in corrections:
            apply_correction(store, c.correction_id, c.record_id, c.field, c.value, now)

    result = link_new(
        store,
        work,
        pairs,
        run_id,
        now,
        retire=sorted(before),
        previous_ids=previous,
        first=write_corrections,
    )
    result.mode = "relink"
    result.seconds = time.perf_counter() - started
    finish_run(store, result, model_json)
    work.close()
    now_of = person_of_records(store, rids)
    after = person_records(store, sorted(set(now_of.values())))
    moved: dict[tuple[str, str], int] = {}
    for rid, old in previous.items():
        new = now_of.get(rid)
        if new is not None and new != old:
            moved[(old, new)] = moved.get((old, new), 0) + 1
    return Relinked(run_id, before, after, [(a, b, n) for (a, b), n in sorted(moved.items())])
