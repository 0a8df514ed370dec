"""Resolution runs: the whole index at once, or new records against the existing index.

Splink works in its own in-memory DuckDB (or Spark); results come back as Arrow and
the index is replaced in the staging store in one transaction, so a failed run leaves
the previous index whole.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pyarrow as pa

from habeas.errors import HabeasError
from habeas.resolve import build
from habeas.resolve import engine as eng
from habeas.resolve.cluster import (
    CannotLink,
    assign_person_ids,
    cluster,
    new_person_id,
    number_kinds,
    numbers_conflict,
)
from habeas.resolve.index import flags_sql, last_run
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
    "record_id, source, given_name, middle_name, family_name, full_name, dob, dob_precision, "
    "a_number, ssn, "
    "tin, itin, passport_number, fbi_number, license_number, license_state, phone, "
    "national_id, zip, lat, lon, postal_code, state, region, city, place_of_birth, occupation, "
    "sex, "
    "immigration_status, citizenship_indicator, country_of_birth, passport_country"
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
    learned: list[str] = field(default_factory=list)
    """With ``learn``: how many reviewers' decisions re-estimated the model, and the
    comparison levels whose m they moved."""


Progress = Callable[[str], None]


WORK_MEMORY = "3GB"
"""DuckDB's memory limit for resolution; beyond it, intermediate tables spill to disk."""

_log = logging.getLogger(__name__)


def work_connection(threads: int) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB for one run (spilling to a scratch folder)."""
    scratch = tempfile.mkdtemp(prefix="habeas-resolve-")
    con = duckdb.connect(
        config={"threads": threads, "memory_limit": WORK_MEMORY, "temp_directory": scratch}
    )
    con.execute("SET enable_progress_bar = false")
    return con


def _stages(progress: Progress | None) -> Progress:
    """Each stage of a run logged (the stage boundaries of a long job) and passed on."""

    def note(stage: str) -> None:
        _log.info("resolve: %s", stage)
        if progress is not None:
            progress(stage)

    return note


def new_run_id(mode: str, now: datetime) -> str:
    """A run id: the moment, and a short hash that keeps two runs of one second apart."""
    return (
        "run-"
        + now.strftime("%Y%m%dT%H%M%S")
        + "-"
        + hashlib.sha256(f"{mode}{now.isoformat()}{time.perf_counter_ns()}".encode()).hexdigest()[
            :6
        ]
    )


def resolve(
    store: StagingStore,
    now: datetime,
    engine: eng.Engine = "duckdb",
    reuse_model: bool = False,
    progress: Progress | None = None,
    sources: Sequence[str] | None = None,
    learn: bool = False,
) -> Resolution:
    """Resolve the staged records into persons and replace the index with the result.

    ``sources`` limits the input to those sources' records (the governed entry point,
    ``habeas.resolve.access.resolve_as``, passes the ones the purpose allows).
    ``learn`` re-estimates the last trained model from reviewers' "same" decisions
    (``engine.learn_from_labels``) and scores with it; the run reports what changed.
    """
    started = time.perf_counter()
    note = _stages(progress)
    work = work_connection(store.con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    note("prepare")
    staged = store.con.sql(  # noqa: F841
        f"SELECT {STAGED_COLUMNS} FROM records WHERE {_only(sources)}"
    ).to_arrow_table()
    work.execute("CREATE TABLE staged AS SELECT * FROM staged")
    n = prepare(work, "staged")
    if n < 2:
        raise HabeasError(f"{n} staged record(s): ingest sources before resolving")
    model_json = last_model(store) if reuse_model or learn else None
    if (reuse_model or learn) and model_json is None:
        flag = "--learn" if learn else "--reuse-model"
        raise HabeasError(f"no trained model yet: run `habeas resolve` once without {flag}")
    learned: list[str] = []
    if learn and model_json is not None:
        same = _reviewed_same(store, work)
        if not same:
            raise HabeasError("no reviewer has decided a pair is one person yet: nothing to learn")
        note("learn from reviewers' decisions")
        taught = eng.learn_from_labels(work, model_json, same)
        model_json = taught.model_json
        learned = [f"{taught.labels:,} reviewers' decisions re-estimated the model"]
        learned += taught.changes or ["no comparison level's m moved by 0.01 or more"]
    note("score" if model_json else "train and score")
    scored = (
        eng.score(work, model_json, PAIR_FLOOR, engine)
        if model_json
        else eng.train_and_score(work, PAIR_FLOOR, engine)
    )
    note("cluster and index")
    result = _index(store, work, scored.pairs, engine, now)
    result.seconds = time.perf_counter() - started
    result.learned = learned
    finish_run(store, result, scored.model_json)
    return result


def _reviewed_same(store: StagingStore, work: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Pairs reviewers decided are one person (the decision in force), both records in the
    input."""
    inside = {r[0] for r in work.execute("SELECT unique_id FROM resolve_input").fetchall()}
    return [(a, b) for a, b in constraints(store.con).same if a in inside and b in inside]


def _only(sources: Sequence[str] | None) -> str:
    """A WHERE condition keeping the records of ``sources`` (every record when None)."""
    if sources is None:
        return "TRUE"
    if not sources:
        return "FALSE"
    names = ", ".join("'" + s.replace("'", "''") + "'" for s in sources)
    return f"source IN ({names})"


def last_model(store: StagingStore) -> str | None:
    """The model (Splink settings, JSON) of the last run, or None before the first."""
    run = last_run(store.con)
    return run[0] if run else None


def _index(
    store: StagingStore,
    work: duckdb.DuckDBPyConnection,
    pairs: pa.Table,
    engine: str,
    now: datetime,
) -> Resolution:
    """Cluster, assign ids, derive links, review queue and flags; replace the index atomically."""
    run_id = new_run_id("full", now)
    con = store.con
    inputs = {
        "previous": "SELECT record_id, person_id FROM person_records",
        "old_flags": "SELECT * FROM person_flags",
        "decided": """SELECT record_id_l AS a, record_id_r AS b FROM review_decisions
                      WHERE kind = 'pair' AND decision <> 'unsure'""",
    }
    for name, sql in inputs.items():
        loaded = con.sql(sql).to_arrow_table()  # noqa: F841 - read by DuckDB
        work.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM loaded")
    work.execute("CREATE OR REPLACE TABLE scored AS SELECT * FROM pairs")
    build.cluster_records(work, constraints(con), MATCH_THRESHOLD)
    build.assign_ids(work)
    build.derive_tables(work, run_id, MATCH_THRESHOLD, REVIEW_LOW, now)
    outputs = {
        "match_pairs": f"""SELECT unique_id_l AS record_id_l, unique_id_r AS record_id_r,
                             match_weight, match_probability, '{run_id}' AS run_id
                           FROM scored""",
        "person_records": "SELECT * FROM new_person_records",
        "persons": "SELECT * FROM new_persons",
        "review_queue": "SELECT * FROM new_review_queue",
        "person_flags": "SELECT * FROM new_flags",
        "person_splits": "SELECT person_id, reason, kept_apart_from, run_id FROM new_splits",
    }
    # replacing whole tables (not DELETE + INSERT) keeps the commit fast at a million rows
    with store.transaction():
        for target, sql in outputs.items():
            rows = work.sql(sql).to_arrow_table()
            con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM rows")
        rows = work.sql("SELECT * FROM resolve_input").to_arrow_table()  # noqa: F841
        con.execute("CREATE OR REPLACE TABLE resolve_input AS SELECT * FROM rows")
    n = int(work.execute("SELECT count(*) FROM resolve_input").fetchall()[0][0])
    return _summary(store, run_id, "full", engine, n, n, pairs.num_rows)


def _write_flags(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Recompute the flags of the persons in ``touched``; a flag already resolved stays
    resolved while its evidence (the records behind it) is unchanged."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE touched_map AS SELECT record_id, person_id
           FROM person_records WHERE person_id IN (SELECT person_id FROM touched)"""
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE fresh_flags AS {flags_sql('touched_map')}")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE kept_flags AS
           SELECT f.person_id, f.flag, f.detail, f.record_ids,
                  coalesce(o.status, 'open') AS status, coalesce(o.raised_at, ?) AS raised_at,
                  o.resolved_by, o.resolution, o.resolved_at
           FROM fresh_flags f LEFT JOIN person_flags o
             ON o.person_id = f.person_id AND o.flag = f.flag AND o.record_ids = f.record_ids""",
        [now],
    )
    con.execute(  # a conflict split's note stays until the next full run redraws it
        "DELETE FROM person_flags WHERE person_id IN (SELECT person_id FROM touched) "
        "AND flag <> 'kept_apart'"
    )
    con.execute("INSERT INTO person_flags SELECT * FROM kept_flags")
    for t in ("touched_map", "fresh_flags", "kept_flags"):
        con.execute(f"DROP TABLE {t}")


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
        con.execute(
            "SELECT flag, count(*) FROM person_flags GROUP BY flag ORDER BY flag"
        ).fetchall()
    )
    return Resolution(
        run_id,
        mode,
        engine,
        records,
        new,
        persons,
        pairs,
        links,
        queue,
        {str(k): int(v) for k, v in flags.items()},
        0.0,
    )


def finish_run(store: StagingStore, result: Resolution, model_json: str) -> None:
    """Record a run and its model."""
    store.con.execute(
        "INSERT INTO resolution_runs VALUES (?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?)",
        [
            result.run_id,
            result.mode,
            result.engine,
            result.seconds,
            result.records,
            result.persons,
            result.pairs_scored,
            MATCH_THRESHOLD,
            REVIEW_LOW,
            model_json,
        ],
    )


def resolve_incremental(
    store: StagingStore,
    now: datetime,
    progress: Progress | None = None,
    sources: Sequence[str] | None = None,
) -> Resolution:
    """Link records staged since the last run (of ``sources``, all when None) to the index
    with the trained model."""
    started = time.perf_counter()
    note = _stages(progress)
    model_json = last_model(store)
    if model_json is None:
        raise HabeasError("no index yet: run `habeas resolve` before --incremental")
    con = store.con
    have = {r[0] for r in con.execute("DESCRIBE resolve_input").fetchall()}
    missing = [c for c in INPUT_COLUMNS if c not in have]
    if missing:
        raise HabeasError(
            "the index was built by an earlier habeas (its prepared records lack "
            f"{', '.join(missing)}): run a full `habeas resolve` before --incremental"
        )
    new_staged = con.sql(  # noqa: F841
        f"""SELECT {STAGED_COLUMNS} FROM records
            WHERE record_id NOT IN (SELECT unique_id FROM resolve_input) AND {_only(sources)}"""
    ).to_arrow_table()
    work = work_connection(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    work.execute("CREATE TABLE staged AS SELECT * FROM new_staged")
    n_new = prepare(work, "staged", out="new_input")
    run_id = new_run_id("incremental", now)
    if n_new == 0:
        result = _summary(store, run_id, "incremental", "duckdb", 0, 0, 0)
        result.seconds = time.perf_counter() - started
        finish_run(store, result, model_json)
        return result
    note("score new records")
    existing = con.sql(  # noqa: F841
        f"SELECT {', '.join(INPUT_COLUMNS)} FROM resolve_input"
    ).to_arrow_table()
    work.execute(
        "CREATE TABLE resolve_input AS SELECT * FROM existing UNION ALL SELECT * FROM new_input"
    )
    pairs = eng.score_new(work, model_json, "new_input", PAIR_FLOOR)
    note("link")
    result = link_new(store, work, pairs, run_id, now)
    result.seconds = time.perf_counter() - started
    finish_run(store, result, model_json)
    return result


def _strongest_allowed(
    con: duckdb.DuckDBPyConnection,
    candidates: dict[int, list[tuple[float, str]]],
    members: dict[int, list[str]],
    cannot: list[CannotLink],
    numbers: dict[str, set[tuple[str, str]]],
) -> dict[int, tuple[float, str]]:
    """For each group of new records, the strongest-linked person that no decision keeps
    apart and whose identifiers do not conflict with the group's (``numbers``: new record
    id → its identifiers)."""
    persons = sorted({pid for cands in candidates.values() for _, pid in cands})
    held: dict[str, set[str]] = {}
    theirs_numbers: dict[str, set[tuple[str, str]]] = {}
    if persons:
        for rid, pid, a_num, tax, fbi in con.execute(
            """SELECT p.record_id, p.person_id, r.a_number, r.taxpayer_id, r.fbi_number
               FROM person_records p LEFT JOIN resolve_input r ON r.unique_id = p.record_id
               WHERE p.person_id IN (SELECT unnest(?))""",
            [persons],
        ).fetchall():
            held.setdefault(pid, set()).add(rid)
            theirs_numbers.setdefault(pid, set()).update(number_kinds(a_num, tax, fbi))
    best: dict[int, tuple[float, str]] = {}
    for g, cands in candidates.items():
        mine = set(members[g])
        mine_numbers = set().union(*(numbers.get(r, set()) for r in mine))
        for p, pid in sorted(cands, reverse=True):
            theirs = held.get(pid, set())
            if any((c.a & mine and c.b & theirs) or (c.b & mine and c.a & theirs) for c in cannot):
                continue  # a reviewer's decision keeps these records apart
            if numbers_conflict(mine_numbers, theirs_numbers.get(pid, set())):
                continue  # two A-numbers (SSNs, FBI numbers): two people
            best[g] = (p, pid)
            break
    return best


def link_new(
    store: StagingStore,
    work: duckdb.DuckDBPyConnection,
    pairs: pa.Table,
    run_id: str,
    now: datetime,
    retire: Sequence[str] = (),
    previous_ids: dict[str, str] | None = None,
    first: Callable[[], object] | None = None,
) -> Resolution:
    """Attach each new record (or group of linked new records) to its strongest person.

    ``retire``: persons taken out of the index first, in the same transaction (their
    records are among the new ones: ``resolve.relink`` re-links them). A group of new
    records joining no existing person keeps an id of ``previous_ids`` (record → earlier
    person id) where its cluster survives (``assign_person_ids``), else a new one.
    ``first`` runs first in the same transaction (a correction's write).
    """
    con = store.con
    with store.transaction():
        if first is not None:
            first()
        if retire:
            _retire(con, list(retire))
        assigned = _assign(con, work, pairs, previous_ids or {})
        _write_links(store, work, pairs, run_id, now, assigned)
    total = int(con.execute("SELECT count(*) FROM person_records").fetchall()[0][0])
    return _summary(store, run_id, "incremental", "duckdb", total, len(assigned), pairs.num_rows)


def _retire(con: duckdb.DuckDBPyConnection, persons: list[str]) -> None:
    """Take persons out of the index: their records, links, flags, queue pairs and
    prepared rows (the caller links the records again)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE retired AS SELECT record_id FROM person_records
           WHERE person_id IN (SELECT unnest(?))""",
        [persons],
    )
    con.execute(
        """DELETE FROM match_pairs WHERE record_id_l IN (SELECT record_id FROM retired)
           OR record_id_r IN (SELECT record_id FROM retired)"""
    )
    con.execute(
        "DELETE FROM review_queue WHERE person_l IN (SELECT unnest(?)) "
        "OR person_r IN (SELECT unnest(?))",
        [persons, persons],
    )
    for table in ("person_records", "persons", "person_flags", "person_splits"):
        con.execute(f"DELETE FROM {table} WHERE person_id IN (SELECT unnest(?))", [persons])
    con.execute("DELETE FROM resolve_input WHERE unique_id IN (SELECT record_id FROM retired)")
    con.execute("DROP TABLE retired")


def _assign(
    con: duckdb.DuckDBPyConnection,
    work: duckdb.DuckDBPyConnection,
    pairs: pa.Table,
    previous_ids: dict[str, str],
) -> dict[str, str]:
    """New record id → the person it joins (an existing one, or a new id)."""
    new_ids = [r[0] for r in work.execute("SELECT unique_id FROM new_input").fetchall()]
    new_set = set(new_ids)
    rules = constraints(con)
    left = pairs.column("unique_id_l").to_pylist()
    right = pairs.column("unique_id_r").to_pylist()
    prob = pairs.column("match_probability").to_pylist()
    numbers = {
        rid: number_kinds(a_num, tax, fbi)
        for rid, a_num, tax, fbi in work.execute(
            "SELECT unique_id, a_number, taxpayer_id, fbi_number FROM new_input"
        ).fetchall()
    }
    inner = [
        (a, b, p)
        for a, b, p in zip(left, right, prob, strict=True)
        if p >= MATCH_THRESHOLD
        and a in new_set
        and b in new_set
        and not numbers_conflict(numbers[a], numbers[b])
    ]
    same = [(a, b) for a, b in rules.same if a in new_set and b in new_set]
    groups = cluster(new_ids, inner, same, rules.cannot)
    touching = sorted({x for x in left + right if x not in new_set})
    previous = dict(
        con.execute(
            "SELECT record_id, person_id FROM person_records WHERE record_id IN (SELECT unnest(?))",
            [touching],
        ).fetchall()
    )
    members: dict[int, list[str]] = {}
    for rid, g in groups.items():
        members.setdefault(g, []).append(rid)
    candidates: dict[int, list[tuple[float, str]]] = {}
    for a, b, p in zip(left, right, prob, strict=True):
        if p < MATCH_THRESHOLD or (a in new_set) == (b in new_set):
            continue
        new, old = (a, b) if a in new_set else (b, a)
        person = previous.get(old)
        if person is not None:
            candidates.setdefault(groups[new], []).append((p, person))
    best = _strongest_allowed(con, candidates, members, rules.cannot, numbers)
    assigned: dict[str, str] = {}
    alone = {r: g for g, recs in members.items() if g not in best for r in recs}
    kept = assign_person_ids(alone, previous_ids) if previous_ids else {}
    for g, recs in members.items():
        for r in recs:
            assigned[r] = best[g][1] if g in best else kept.get(r) or new_person_id(recs)
    return assigned


def _write_links(
    store: StagingStore,
    work: duckdb.DuckDBPyConnection,
    pairs: pa.Table,
    run_id: str,
    now: datetime,
    assigned: dict[str, str],
) -> None:
    """Write the new records' persons, links, queue pairs and flags (in the caller's
    transaction)."""
    con = store.con
    mapping = pa.table(  # noqa: F841
        {"record_id": list(assigned.keys()), "person_id": list(assigned.values())}
    )
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
        "CREATE OR REPLACE TEMP TABLE touched AS SELECT DISTINCT person_id FROM new_mapping"
    )
    con.execute("DELETE FROM persons WHERE person_id IN (SELECT person_id FROM touched)")
    con.execute(
        """INSERT INTO persons SELECT person_id, count(*),
             list_sort(list_distinct(list(source))), ? FROM person_records
           WHERE person_id IN (SELECT person_id FROM touched) GROUP BY person_id""",
        [run_id],
    )
    con.execute(
        """INSERT INTO review_queue
           SELECT s.unique_id_l, s.unique_id_r, ml.person_id, mr.person_id,
                  s.match_probability, s.match_weight, ?
           FROM scored s JOIN person_records ml ON ml.record_id = s.unique_id_l
           JOIN person_records mr ON mr.record_id = s.unique_id_r
           WHERE ml.person_id <> mr.person_id AND s.match_probability >= ?
             AND NOT EXISTS (SELECT 1 FROM review_queue q
               WHERE least(q.person_l, q.person_r) = least(ml.person_id, mr.person_id)
                 AND greatest(q.person_l, q.person_r) = greatest(ml.person_id, mr.person_id))
           QUALIFY row_number() OVER (
             PARTITION BY least(ml.person_id, mr.person_id),
                          greatest(ml.person_id, mr.person_id)
             ORDER BY s.match_probability DESC, s.unique_id_l, s.unique_id_r) = 1""",
        [run_id, REVIEW_LOW],
    )
    new_rows = work.sql("SELECT * FROM new_input").to_arrow_table()  # noqa: F841
    con.execute("INSERT INTO resolve_input SELECT * FROM new_rows")
    _write_flags(con, now)
    for t in ("new_mapping", "scored", "touched"):
        con.execute(f"DROP TABLE {t}")
