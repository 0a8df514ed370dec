"""Publishing the person index into the operational store at the end of a resolution run.

A synthetic world is generated, ingested and resolved (DuckDB); its index is then
published into SQLite and into PostgreSQL, one transaction each, and the time printed
beside the resolution run's own. A person read from the published index is timed beside
the same read from the batch engine (the path the index took before it was published).

    .venv/bin/python bench/publish.py [--people 166000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path


def main() -> None:
    """Generate, ingest, resolve, publish; print the figures."""
    from sqlalchemy import select

    from habeas.app import wiring
    from habeas.pipeline import intake_directory
    from habeas.resolve.publish import publish
    from habeas.resolve.run import resolve
    from habeas.store.models import IndexRecord
    from habeas.store.operational import make_engine, session_factory, upgrade
    from habeas.store.staging import StagingStore
    from habeas.synth.world import WORLD_DATE, generate_world

    wiring.install()

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--people", type=int, default=166_000)
    p.add_argument("--skip-postgres", action="store_true")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="habeas-bench-publish-"))
    t = time.perf_counter()
    world = generate_world(tmp / "world", args.people, seed=3)
    st = StagingStore(tmp / "staging.duckdb")
    intake_directory(st, world.out, WORLD_DATE + timedelta(days=30))
    t_in = time.perf_counter() - t
    t = time.perf_counter()
    result = resolve(st, datetime(2026, 11, 1, 9))
    t_res = time.perf_counter() - t
    print(
        f"world    {args.people:,} people: ingest {t_in:.1f} s; resolve {t_res:.1f} s "
        f"→ {result.records:,} records, {result.persons:,} persons"
    )
    targets = [("SQLite", f"sqlite:///{tmp / 'habeas.db'}")]
    pg = None
    if not args.skip_postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from servers.postgres import scratch_postgres

        pg = scratch_postgres(fsync=True)
        targets.append(("PostgreSQL", pg.__enter__()))
    try:
        for label, url in targets:
            engine = make_engine(url)
            upgrade(engine)
            for attempt in ("first", "again"):
                t = time.perf_counter()
                n = publish(engine, st, result.run_id)
                took = time.perf_counter() - t
                print(
                    f"publish  {label:<10} {attempt}: {n:,} records in {took:.1f} s "
                    f"({n / took:,.0f} records/s; {took / t_res * 100:.0f}% of the run)"
                )
            sessions = session_factory(engine)
            with sessions() as s:
                persons = list(
                    s.execute(select(IndexRecord.person_id).distinct().limit(500)).scalars()
                )
            t = time.perf_counter()
            for pid in persons:
                with sessions() as s:
                    list(
                        s.execute(select(IndexRecord).where(IndexRecord.person_id == pid)).scalars()
                    )
            op = (time.perf_counter() - t) / len(persons)
            t = time.perf_counter()
            for pid in persons:
                st.rows(
                    """SELECT r.* FROM person_records p JOIN records r USING (record_id)
                           WHERE p.person_id = ?""",
                    [pid],
                )
            batch = (time.perf_counter() - t) / len(persons)
            print(
                f"read     {label:<10} a person's records: {op * 1000:.2f} ms from the "
                f"published index; baseline from the batch engine {batch * 1000:.2f} ms"
            )
            engine.dispose()
    finally:
        if pg is not None:
            pg.__exit__(None, None, None)
        st.close()


if __name__ == "__main__":
    main()
