"""Resolution runs: the whole index at once, or new records against the existing index.

Splink works in its own in-memory DuckDB (or Spark); results come back as Arrow and
the index is replaced in the staging store in one transaction, so a failed run leaves
the previous index whole.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from habeas.errors import HabeasError
from habeas.resolve import engine as eng
from habeas.resolve.cluster import assign_person_ids, cluster
from habeas.resolve.index import ensure_schema, flags_sql
from habeas.resolve.normalize import INPUT_COLUMNS, prepare
from habeas.resolve.review import constraints
from habeas.store.staging import StagingStore

MATCH_THRESHOLD = 0.95
"""Pairs at or above this probability join one person."""
REVIEW_LOW = 0.5
"""Pairs from here up to the match threshold, across two persons, go to review."""
PAIR_FLOOR = 0.05
"""Pairs below this probability are not kept for explanation."""

STAGED_COLUMNS = (
    "record_id, source, given_name, middle_name, family_name, full_name, dob, a_number, ssn, "
    "tin, itin, passport_number, fbi_number, license_number, license_state, phone, "
    "national_id, zip, lat, lon, postal_code, state, region, place_of_birth, occupation, sex"
)


@dataclass
class Resolution:
    """What a run did, in figures an analyst can check."""

    run_id: str
    mode: str
    engine: str
    records: int
    new_records: int
    persons: int
    pairs_scored: int
    links: int
    review_queue: int
    flags: dict[str, int]
    seconds: float


Progress = Callable[[str], None]


WORK_MEMORY = "3GB"
"""DuckDB's memory limit for resolution; beyond it, intermediate tables spill to disk."""


def _work(threads: int) -> duckdb.DuckDBPyConnection:
    scratch = tempfile.mkdtemp(prefix="habeas-resolve-")
    return duckdb.connect(
        config={"threads": threads, "memory_limit": WORK_MEMORY, "temp_directory": scratch}
    )


def _run_id(mode: str, now: datetime) -> str:
    return "run-" + now.strftime("%Y%m%dT%H%M%S") + "-" + hashlib.sha256(
        f"{mode}{now.isoformat()}{time.perf_counter_ns()}".encode()
    ).hexdigest()[:6]


def resolve(
    store: StagingStore,
    now: datetime,
    engine: eng.Engine = "duckdb",
    reuse_model: bool = False,
    progress: Progress | None = None,
) -> Resolution:
    """Resolve every staged record into persons and replace the index with the result."""
    started = time.perf_counter()
    note = progress or (lambda step: None)
    ensure_schema(store.con)
    work = _work(store.con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    note("prepare")
    staged = store.con.sql(f"SELECT {STAGED_COLUMNS} FROM records").to_arrow_table()  # noqa: F841
    work.execute("CREATE TABLE staged AS SELECT * FROM staged")
    n = prepare(work, "staged")
    if n < 2:
        raise HabeasError(f"{n} staged record(s): ingest sources before resolving")
    model_json = _last_model(store) if reuse_model else None
    if reuse_model and model_json is None:
        raise HabeasError("no trained model yet: run `habeas resolve` once without --reuse-model")
    note("score" if model_json else "train and score")
    scored = (
        eng.score(work, model_json, PAIR_FLOOR, engine)
        if model_json
        else eng.train_and_score(work, PAIR_FLOOR, engine)
    )
    note("cluster")
    ids = [r[0] for r in work.execute("SELECT unique_id FROM resolve_input").fetchall()]
    result = _index(store, work, scored.pairs, ids, "full", engine, scored.model_json, now)
    result.seconds = time.perf_counter() - started
    _finish_run(store, result, scored.model_json)
    return result


def _last_model(store: StagingStore) -> str | None:
    ensure_schema(store.con)
    rows = store.con.execute(
        "SELECT model_json FROM resolution_runs ORDER BY started_at DESC LIMIT 1"
    ).fetchall()
    return rows[0][0] if rows else None


def _index(
    store: StagingStore,
    work: duckdb.DuckDBPyConnection,
    pairs: pa.Table,
    ids: list[str],
    mode: str,
    engine: str,
    model_json: str,
    now: datetime,
) -> Resolution:
    """Cluster, assign ids, derive links, review queue and flags; write all atomically."""
    run_id = _run_id(mode, now)
    rules = constraints(store.con)
    left = pairs.column("unique_id_l").to_pylist()
    right = pairs.column("unique_id_r").to_pylist()
    prob = pairs.column("match_probability").to_pylist()
    edges = [
        (a, b, p) for a, b, p in zip(left, right, prob, strict=True) if p >= MATCH_THRESHOLD
    ]
    labels = cluster(ids, edges, rules.same, rules.cannot)
    previous = dict(store.con.execute("SELECT record_id, person_id FROM person_records").fetchall())
    person_of = assign_person_ids(labels, previous)
    mapping = pa.table(  # noqa: F841 - read by DuckDB
        {"record_id": list(person_of.keys()), "person_id": list(person_of.values())}
    )
    same = pa.table(  # noqa: F841
        {
            "unique_id_l": [a for a, _ in rules.same],
            "unique_id_r": [b for _, b in rules.same],
        },
        schema=pa.schema([("unique_id_l", pa.string()), ("unique_id_r", pa.string())]),
    )
    con = store.con
    with store.transaction():
        con.execute("CREATE OR REPLACE TEMP TABLE new_mapping AS SELECT * FROM mapping")
        con.execute("CREATE OR REPLACE TEMP TABLE scored AS SELECT * FROM pairs")
        con.execute("DELETE FROM match_pairs")
        con.execute(
            """INSERT INTO match_pairs SELECT unique_id_l, unique_id_r, match_weight,
                 match_probability, ? FROM scored""",
            [run_id],
        )
        con.execute("DELETE FROM person_records")
        con.execute(
            """INSERT INTO person_records
               WITH inside AS (
                 SELECT s.unique_id_l AS a, s.unique_id_r AS b, s.match_probability AS p,
                        s.match_weight AS w
                 FROM scored s JOIN new_mapping ml ON ml.record_id = s.unique_id_l
                 JOIN new_mapping mr ON mr.record_id = s.unique_id_r
                 WHERE ml.person_id = mr.person_id),
               ends AS (SELECT a AS rid, b AS other, p, w FROM inside
                        UNION ALL SELECT b, a, p, w FROM inside),
               best AS (SELECT rid, arg_max(other, p) AS other, max(p) AS p, arg_max(w, p) AS w
                        FROM ends GROUP BY rid),
               reviewed AS (SELECT unique_id_l AS rid FROM same
                            UNION SELECT unique_id_r FROM same)
               SELECT m.record_id, m.person_id, r.source, b.other, b.p, b.w,
                      CASE WHEN b.p >= ? THEN 'model'
                           WHEN v.rid IS NOT NULL THEN 'reviewer'
                           WHEN b.rid IS NULL THEN 'alone'
                           ELSE 'model' END,
                      ?
               FROM new_mapping m JOIN records r USING (record_id)
               LEFT JOIN best b ON b.rid = m.record_id
               LEFT JOIN reviewed v ON v.rid = m.record_id""",
            [MATCH_THRESHOLD, run_id],
        )
        con.execute("DELETE FROM persons")
        con.execute(
            """INSERT INTO persons SELECT person_id, count(*), list_sort(list_distinct(list(source))),
                 ? FROM person_records GROUP BY person_id""",
            [run_id],
        )
        con.execute("DELETE FROM review_queue")
        con.execute(
            """INSERT INTO review_queue
               SELECT s.unique_id_l, s.unique_id_r, ml.person_id, mr.person_id,
                      s.match_probability, s.match_weight, ?
               FROM scored s JOIN new_mapping ml ON ml.record_id = s.unique_id_l
               JOIN new_mapping mr ON mr.record_id = s.unique_id_r
               WHERE ml.person_id <> mr.person_id AND s.match_probability >= ?
                 AND NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.kind = 'pair'
                   AND d.record_id_l = least(s.unique_id_l, s.unique_id_r)
                   AND d.record_id_r = greatest(s.unique_id_l, s.unique_id_r)
                   AND d.decision <> 'unsure')""",
            [run_id, REVIEW_LOW],
        )
        _write_flags(con, now)
        con.execute("DROP TABLE new_mapping")
        con.execute("DROP TABLE scored")
    if mode == "full":
        input_rows = work.sql("SELECT * FROM resolve_input").to_arrow_table()  # noqa: F841
        with store.transaction():
            con.execute("CREATE OR REPLACE TABLE resolve_input AS SELECT * FROM input_rows")
    return _summary(store, run_id, mode, engine, len(ids), len(ids), pairs.num_rows)


def _write_flags(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Recompute flags; a flag already resolved stays resolved while its evidence is unchanged."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE fresh_flags AS {flags_sql('person_records')}")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE kept_flags AS
           SELECT f.person_id, f.flag, f.detail, f.record_ids,
                  coalesce(o.status, 'open') AS status, coalesce(o.raised_at, ?) AS raised_at,
                  o.resolved_by, o.resolution, o.resolved_at
           FROM fresh_flags f LEFT JOIN person_flags o
             ON o.person_id = f.person_id AND o.flag = f.flag AND o.record_ids = f.record_ids""",
        [now],
    )
    con.execute("DELETE FROM person_flags")
    con.execute("INSERT INTO person_flags SELECT * FROM kept_flags")
    con.execute("DROP TABLE fresh_flags")
    con.execute("DROP TABLE kept_flags")


def _summary(
    store: StagingStore, run_id: str, mode: str, engine: str, records: int, new: int, pairs: int
) -> Resolution:
    con = store.con
    persons = int(con.execute("SELECT count(*) FROM persons").fetchall()[0][0])
    links = int(
        con.execute("SELECT count(*) FROM person_records WHERE how <> 'alone'").fetchall()[0][0]
    )
    queue = int(con.execute("SELECT count(*) FROM review_queue").fetchall()[0][0])
    flags = dict(
        con.execute("SELECT flag, count(*) FROM person_flags GROUP BY flag ORDER BY flag").fetchall()
    )
    return Resolution(
        run_id, mode, engine, records, new, persons, pairs, links, queue,
        {str(k): int(v) for k, v in flags.items()}, 0.0,
    )  # fmt: skip


def _finish_run(store: StagingStore, result: Resolution, model_json: str) -> None:
    store.con.execute(
        "INSERT INTO resolution_runs VALUES (?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?)",
        [
            result.run_id, result.mode, result.engine, result.seconds, result.records,
            result.persons, result.pairs_scored, MATCH_THRESHOLD, REVIEW_LOW, model_json,
        ],
    )  # fmt: skip


def resolve_incremental(
    store: StagingStore, now: datetime, progress: Progress | None = None
) -> Resolution:
    """Link records staged since the last run to the index with the trained model."""
    started = time.perf_counter()
    note = progress or (lambda step: None)
    ensure_schema(store.con)
    model_json = _last_model(store)
    if model_json is None:
        raise HabeasError("no index yet: run `habeas resolve` before --incremental")
    con = store.con
    new_staged = con.sql(  # noqa: F841
        f"""SELECT {STAGED_COLUMNS} FROM records
            WHERE record_id NOT IN (SELECT unique_id FROM resolve_input)"""
    ).to_arrow_table()
    work = _work(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    work.execute("CREATE TABLE staged AS SELECT * FROM new_staged")
    n_new = prepare(work, "staged", out="new_input")
    run_id = _run_id("incremental", now)
    if n_new == 0:
        result = _summary(store, run_id, "incremental", "duckdb", 0, 0, 0)
        result.seconds = time.perf_counter() - started
        _finish_run(store, result, model_json)
        return result
    note("score new records")
    existing = con.sql(  # noqa: F841
        f"SELECT {', '.join(INPUT_COLUMNS)} FROM resolve_input"
    ).to_arrow_table()
    work.execute("CREATE TABLE resolve_input AS SELECT * FROM existing UNION ALL SELECT * FROM new_input")
    pairs = eng.score_new(work, model_json, "new_input", PAIR_FLOOR)
    note("link")
    result = _link_new(store, work, pairs, run_id, now)
    result.seconds = time.perf_counter() - started
    _finish_run(store, result, model_json)
    return result


def _link_new(
    store: StagingStore,
    work: duckdb.DuckDBPyConnection,
    pairs: pa.Table,
    run_id: str,
    now: datetime,
) -> Resolution:
    """Attach each new record (or group of linked new records) to its strongest person."""
    con = store.con
    new_ids = [r[0] for r in work.execute("SELECT unique_id FROM new_input").fetchall()]
    new_set = set(new_ids)
    rules = constraints(con)
    left = pairs.column("unique_id_l").to_pylist()
    right = pairs.column("unique_id_r").to_pylist()
    prob = pairs.column("match_probability").to_pylist()
    inner = [
        (a, b, p)
        for a, b, p in zip(left, right, prob, strict=True)
        if p >= MATCH_THRESHOLD and a in new_set and b in new_set
    ]
    groups = cluster(new_ids, inner, [], rules.cannot)
    previous = dict(con.execute("SELECT record_id, person_id FROM person_records").fetchall())
    best: dict[int, tuple[float, str]] = {}
    for a, b, p in zip(left, right, prob, strict=True):
        if p < MATCH_THRESHOLD or (a in new_set) == (b in new_set):
            continue
        new, old = (a, b) if a in new_set else (b, a)
        g = groups[new]
        person = previous.get(old)
        if person is not None and (g not in best or p > best[g][0]):
            best[g] = (p, person)
    members: dict[int, list[str]] = {}
    for rid, g in groups.items():
        members.setdefault(g, []).append(rid)
    assigned: dict[str, str] = {}
    from habeas.resolve.cluster import new_person_id

    for g, recs in members.items():
        pid = best[g][1] if g in best else new_person_id(recs)
        for r in recs:
            assigned[r] = pid
    mapping = pa.table(  # noqa: F841
        {"record_id": list(assigned.keys()), "person_id": list(assigned.values())}
    )
    with store.transaction():
        con.execute("CREATE OR REPLACE TEMP TABLE new_mapping AS SELECT * FROM mapping")
        con.execute("CREATE OR REPLACE TEMP TABLE scored AS SELECT * FROM pairs")
        con.execute(
            """INSERT INTO match_pairs SELECT unique_id_l, unique_id_r, match_weight,
                 match_probability, ? FROM scored""",
            [run_id],
        )
        con.execute(
            """INSERT INTO person_records
               WITH allmap AS (SELECT record_id, person_id FROM person_records
                               UNION ALL SELECT record_id, person_id FROM new_mapping),
               ends AS (
                 SELECT s.unique_id_l AS rid, s.unique_id_r AS other, s.match_probability AS p,
                        s.match_weight AS w FROM scored s
                 UNION ALL SELECT s.unique_id_r, s.unique_id_l, s.match_probability,
                        s.match_weight FROM scored s),
               inside AS (SELECT e.* FROM ends e JOIN allmap a ON a.record_id = e.rid
                          JOIN allmap o ON o.record_id = e.other WHERE a.person_id = o.person_id),
               best AS (SELECT rid, arg_max(other, p) AS other, max(p) AS p, arg_max(w, p) AS w
                        FROM inside GROUP BY rid)
               SELECT m.record_id, m.person_id, r.source, b.other, b.p, b.w,
                      CASE WHEN b.rid IS NULL THEN 'alone' ELSE 'model' END, ?
               FROM new_mapping m JOIN records r USING (record_id)
               LEFT JOIN best b ON b.rid = m.record_id""",
            [run_id],
        )
        con.execute(
            """INSERT OR REPLACE INTO persons SELECT person_id, count(*),
                 list_sort(list_distinct(list(source))), ? FROM person_records
               WHERE person_id IN (SELECT person_id FROM new_mapping) GROUP BY person_id""",
            [run_id],
        )
        con.execute(
            """INSERT INTO review_queue
               SELECT s.unique_id_l, s.unique_id_r, ml.person_id, mr.person_id,
                      s.match_probability, s.match_weight, ?
               FROM scored s JOIN person_records ml ON ml.record_id = s.unique_id_l
               JOIN person_records mr ON mr.record_id = s.unique_id_r
               WHERE ml.person_id <> mr.person_id AND s.match_probability >= ?""",
            [run_id, REVIEW_LOW],
        )
        new_rows = work.sql("SELECT * FROM new_input").to_arrow_table()  # noqa: F841
        con.execute("INSERT INTO resolve_input SELECT * FROM new_rows")
        _write_flags(con, now)
        con.execute("DROP TABLE new_mapping")
        con.execute("DROP TABLE scored")
    total = int(con.execute("SELECT count(*) FROM person_records").fetchall()[0][0])
    return _summary(store, run_id, "incremental", "duckdb", total, len(new_ids), pairs.num_rows)
