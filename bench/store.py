"""Benchmark: the operational store's governance layer (issue 4).

Prints, in one run:
  authz    Cedar decisions, one at a time and in a batch (target <= 100 µs each batched)
  mix      a read-heavy mix of service calls with authorization + audit, and the same
           calls without them (target: overhead <= 10%), per kind of call
  writers  50 concurrent writers updating the same cases, on SQLite and on PostgreSQL
           (target: zero lost updates, every conflict reported)
  append   audit entries appended, one transaction each (SQLite, WAL)
  verify   `audit verify` over N entries (target: 1M entries <= 10 s), and with a checkpoint
Usage: python bench/store.py [--entries N] [--people N] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from habeas.app import wiring
from habeas.app.audit_log import verify_store
from habeas.cases.access import read_case, update_case_note
from habeas.errors import Conflict
from habeas.governance import audit
from habeas.governance.authz import AccessContext, Resource, authorize, authorize_batch
from habeas.governance.chain import GENESIS, Entry, entry_hash, resources_json
from habeas.governance.identity import bootstrap_admin
from habeas.store.models import Case, IndexFlag, IndexRecord
from habeas.store.operational import make_engine, session_factory, upgrade
from habeas.store.staging import StagingStore


def _case(i: int) -> Resource:
    person = f"P{i}"
    return Resource(
        "Case",
        f"case-{i}",
        {
            "person": {"__entity": {"type": "Habeas::Person", "id": person}},
            "person_id": person,
            "counsel": "lawyer1" if i % 2 else "",
            "state": "identified",
        },
        ({"uid": {"type": "Habeas::Person", "id": person}, "attrs": {"flags": []}, "parents": []},),
    )


def bench_authz(n: int = 5000) -> None:
    """Single and batched decisions."""
    ctx = AccessContext("lawyer1", "counsel", "redress", client="P1")
    cases = [_case(i) for i in range(n)]
    authorize(ctx, "read", cases[0])  # load and validate the policies once
    t = time.perf_counter()
    for c in cases[:1000]:
        authorize(ctx, "read", c)
    single = (time.perf_counter() - t) / 1000
    t = time.perf_counter()
    decisions = authorize_batch(ctx, "read", cases)
    batch = (time.perf_counter() - t) / n
    allowed = sum(d.allowed for d in decisions)
    print(
        f"authz    single {single * 1e6:,.0f} µs/decision; batch of {n:,}: "
        f"{batch * 1e6:,.0f} µs/decision ({allowed} allowed); "
        "target <= 100 µs batched"
    )


def _resolved_store(tmp: Path, people: int) -> StagingStore:
    """A synthetic world, ingested and resolved: the person index the reads go to."""
    from habeas.pipeline import intake_directory
    from habeas.resolve.run import resolve
    from habeas.synth.world import WORLD_DATE, generate_world

    world = generate_world(tmp / "world", people, seed=5)
    st = StagingStore(tmp / "staging.duckdb")
    intake_directory(st, world.out, WORLD_DATE + timedelta(days=30))
    resolve(st, datetime(2026, 11, 1, 9))
    return st


def _cases_store(url: str, persons: list[str], pool_size: int = 5) -> Engine:
    engine = make_engine(url, pool_size=pool_size)
    upgrade(engine)
    with session_factory(engine).begin() as s:
        bootstrap_admin(s, "bench_admin", "a long bench passphrase")
        for i, pid in enumerate(persons, start=1):
            s.add(
                Case(
                    id=i,
                    person_id=pid,
                    state="under_review",
                    note="0",
                    updated_at=datetime(2026, 11, 2),
                )
            )
    return engine


def bench_mix(tmp: Path, people: int, calls: int = 3000) -> None:
    """A case officer's read-heavy day: 70% person files, 20% case reads, 10% note edits;
    the same sequence through the application (Cedar + audit, a unit of work each) and
    without (the same rows read directly), interleaved."""
    from habeas.app import Habeas
    from habeas.resolve.publish import publish
    from habeas.settings import Settings

    t = time.perf_counter()
    st = _resolved_store(tmp, people)
    persons = [r[0] for r in st.rows("SELECT DISTINCT person_id FROM persons ORDER BY 1")]
    print(f"mix      index of {len(persons):,} persons built in {time.perf_counter() - t:.0f} s")
    ctx = AccessContext("officer1", "case_officer", "case_review")
    rng = random.Random(7)
    plan = [
        (rng.choices(["person", "case", "edit"], [70, 20, 10])[0], rng.randrange(len(persons)))
        for _ in range(calls)
    ]
    engine = _cases_store(f"sqlite:///{tmp / 'habeas.db'}", persons)
    run_id = st.rows("SELECT run_id FROM resolution_runs")[0][0]
    publish(engine, st, run_id)
    st.close()
    app = Habeas(Settings(data_dir=tmp))
    app.users.add(app.users.local("bench_admin", "bench"), "officer1", "case_officer")
    officer = app.users.local("officer1", "bench")

    def governed() -> Callable[[str, int], None]:
        sessions = session_factory(engine)

        def call(kind: str, i: int) -> None:
            if kind == "person":
                app.index.person(officer, "case_review", persons[i])
                return
            with sessions.begin() as s:
                seen = read_case(s, ctx, i + 1)
                if kind == "edit":
                    update_case_note(s, ctx, i + 1, seen["version"], str(int(seen["note"]) + 1))

        return call

    def direct() -> Callable[[str, int], None]:
        sessions = session_factory(engine)

        def call(kind: str, i: int) -> None:
            if kind == "person":
                with sessions() as s:
                    list(
                        s.execute(
                            select(IndexRecord).where(IndexRecord.person_id == persons[i])
                        ).scalars()
                    )
                    list(
                        s.execute(
                            select(IndexFlag).where(IndexFlag.person_id == persons[i])
                        ).scalars()
                    )
                return
            with sessions.begin() as s:
                case = s.get(Case, i + 1)
                assert case is not None
                if kind == "edit":
                    case.note = str(int(case.note) + 1)
                    case.updated_at = datetime.now(UTC).replace(tzinfo=None)

        return call

    calls_by_mode = {"without": direct(), "with": governed()}
    for kind, i in plan[:50]:  # warm caches (policies, statements, pages) on both sides
        for call in calls_by_mode.values():
            call(kind, i)
    took: dict[str, Counter[str]] = {"with": Counter(), "without": Counter()}
    for n, (kind, i) in enumerate(plan):  # interleaved, alternating who goes first
        order = ("with", "without") if n % 2 else ("without", "with")
        for name in order:
            t = time.perf_counter()
            calls_by_mode[name](kind, i)
            took[name][kind] += time.perf_counter() - t
    count = Counter(kind for kind, _ in plan)
    for kind in ("person", "case", "edit"):
        w, wo = took["with"][kind] / count[kind], took["without"][kind] / count[kind]
        print(
            f"mix      {kind:<6} x{count[kind]:>5,}: {wo * 1e3:6.2f} ms without, "
            f"{w * 1e3:6.2f} ms with authorization + audit "
            f"(+{(w / wo - 1) * 100:.0f}%)"
        )
    w, wo = sum(took["with"].values()), sum(took["without"].values())
    print(
        f"mix      all {calls:,} calls: {wo:.2f} s without, {w:.2f} s with "
        f"(overhead {(w / wo - 1) * 100:.1f}%) — target <= 10%"
    )
    app.close()


def bench_writers(url: str, label: str, writers: int = 50, rounds: int = 10) -> None:
    """``writers`` threads each make ``rounds`` increments on 5 shared cases, retrying on
    conflict; every success must be in the final counts, every conflict reported."""
    persons = [f"P{i}" for i in range(5)]
    engine = _cases_store(url, persons, pool_size=writers)
    sessions = session_factory(engine)
    ctx = AccessContext("officer1", "case_officer", "case_review")
    lock = threading.Lock()
    done: Counter[int] = Counter()
    conflicts = Counter[str]()
    start = threading.Barrier(writers)

    def writer(w: int) -> None:
        rng = random.Random(w)
        start.wait()
        for _ in range(rounds):
            case_id = rng.randrange(1, 6)
            while True:
                try:
                    with sessions.begin() as s:
                        seen = read_case(s, ctx, case_id)
                    with sessions.begin() as s:
                        update_case_note(
                            s, ctx, case_id, seen["version"], str(int(seen["note"]) + 1)
                        )
                    with lock:
                        done[case_id] += 1
                    break
                except Conflict:
                    with lock:
                        conflicts["conflict"] += 1
                except OperationalError as exc:  # reported by the database, counted apart
                    with lock:
                        conflicts[type(exc.orig).__name__] += 1

    t = time.perf_counter()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.perf_counter() - t
    with sessions() as s:
        final = {i: s.get(Case, i) for i in range(1, 6)}
    lost = sum(done[i] - int(c.note) for i, c in final.items() if c is not None)
    versions_ok = all(c is not None and c.version == 1 + done[i] for i, c in final.items())
    v = verify_store(engine)
    print(
        f"writers  {label:<10} {writers} writers x {rounds} updates on 5 cases: "
        f"{sum(done.values()):,} applied in {took:.1f} s, conflicts reported "
        f"{sum(conflicts.values()):,} {dict(conflicts)}, lost updates {lost}, "
        f"versions consistent {versions_ok}, "
        f"audit chain ok {v.ok} ({v.entries:,} entries)"
    )
    engine.dispose()


def _fill(path: Path, n: int) -> None:
    """Write n chained entries straight into the table (as many appends would)."""
    con = sqlite3.connect(path)
    prev = GENESIS
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    batch = []
    for i in range(1, n + 1):
        e = Entry(
            i,
            (t0 + timedelta(seconds=i)).isoformat(timespec="microseconds"),
            f"user{i % 50}",
            "case_officer",
            "case_review",
            "read_case",
            (f"case:{i % 9000}", f"person:P{i % 7000}"),
            "allow" if i % 11 else "deny",
            f"req{i}",
        )
        h = entry_hash(prev, e)
        resources = resources_json(e.resources)
        batch.append(
            (
                e.seq,
                e.at,
                e.user,
                e.role,
                e.purpose,
                e.action,
                resources,
                e.decision,
                e.request_id,
                "",
                prev,
                h,
            )
        )
        prev = h
        if len(batch) == 50_000:
            con.executemany("INSERT INTO audit_entries VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()
    if batch:
        con.executemany("INSERT INTO audit_entries VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", batch)
    con.execute("UPDATE audit_head SET seq = ?, entry_hash = ?", (n, prev))
    con.commit()
    con.close()


def bench_audit(entries: int) -> None:
    """ORM appends, then verify over `entries` entries, without and with a checkpoint."""
    tmp = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{tmp / 'a.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    t = time.perf_counter()
    for i in range(2000):
        with sessions.begin() as s:
            audit.append(
                s,
                user="u",
                role="case_officer",
                purpose="case_review",
                action="read_case",
                resources=[f"case:{i}"],
                decision="allow",
            )
    per = (time.perf_counter() - t) / 2000
    print(f"append   {1 / per:,.0f} entries/s, one transaction each ({per * 1e3:.2f} ms per entry)")
    engine = make_engine(f"sqlite:///{tmp / 'b.db'}")
    upgrade(engine)
    t = time.perf_counter()
    _fill(tmp / "b.db", entries)
    print(f"fill     {entries:,} chained entries written in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    v = verify_store(engine)
    took = time.perf_counter() - t
    print(
        f"verify   {v.entries:,} entries in {took:.1f} s ({v.entries / took:,.0f}/s), "
        f"ok={v.ok} — target 1M <= 10 s"
    )
    key = audit.load_or_create_key(tmp / "keys")
    t = time.perf_counter()
    cp = audit.make_checkpoint(engine, key)
    sign_s = time.perf_counter() - t
    t = time.perf_counter()
    v = verify_store(engine, cp, key.public_key())
    took = time.perf_counter() - t
    print(f"checkpoint signed in {sign_s:.1f} s; verify against it {took:.1f} s, ok={v.ok}")


def main() -> None:
    """Run every part."""
    wiring.install()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    bench_authz()
    bench_mix(tmp, args.people)
    bench_writers(f"sqlite:///{tmp / 'writers.db'}", "SQLite")
    if not args.skip_postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from servers.postgres import fresh_database, scratch_postgres

        with scratch_postgres(fsync=True) as url:
            bench_writers(fresh_database(url, "writers"), "PostgreSQL")
    bench_audit(args.entries)


if __name__ == "__main__":
    main()
