"""Benchmark: a correction's journey (issue 27).

Prints, in one run, on a generated, resolved and published world (SQLite):
  correction  a dispute decided "corrected", from the decision to the last effect committed
              (the value superseded, the persons re-linked and published, their cases
              re-scored, assignments checked, earlier recipients notified): p50 / p99 over
              N corrections — target p99 <= 2 s
  rescore     after a whole publish, every open case checked and the changed ones re-scored
              (what every publish now does in its own transaction)
  baseline    a full `prioritize` of every open case, the command that had to be run before
Usage: python bench/propagation.py [--people N] [--cases N] [--corrections N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from packet import world  # bench/packet.py: the same world builder
from sqlalchemy import select

from habeas.app import Habeas
from habeas.prioritize.rescore import rescore
from habeas.store.models import Case, IndexRecord


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--cases", type=int, default=1_000)
    ap.add_argument("--corrections", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        app = world(Path(tmp) / "data", args.people)
        print(f"world: {args.people:,} people resolved and published in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        officer = app.users.local("officer1", "bench")
        with app.sessions() as s:
            persons = list(
                s.execute(
                    select(IndexRecord.person_id)
                    .where(IndexRecord.dob.is_not(None))
                    .group_by(IndexRecord.person_id)
                    .order_by(IndexRecord.person_id)
                    .limit(args.cases)
                ).scalars()
            )
        on = date.today() - timedelta(days=30)
        for p in persons:
            app.cases.open_case(officer, "case_review", p, on)
        t = time.perf_counter()
        app.cases.prioritize(officer, "case_review", date.today())
        baseline = time.perf_counter() - t
        print(f"baseline    prioritize: {len(persons):,} open cases scored in {baseline:.2f} s")
        t = time.perf_counter()
        with app.staging() as st, app.engine.begin() as conn:
            changed = rescore(conn, st, None, date.today(), app.clock.now(), "bench publish")
        print(f"rescore     after a publish: {len(persons):,} open cases checked, "
              f"{len(changed)} changed, in {time.perf_counter() - t:.2f} s")  # fmt: skip
        times = corrections(app, persons, args.corrections)
        times.sort()
        p50 = statistics.median(times)
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        print(f"correction  {len(times)} corrections decided: p50 {p50 * 1000:.0f} ms, "
              f"p99 {p99 * 1000:.0f} ms (target p99 <= 2000 ms)")  # fmt: skip
        app.close()


def corrections(app: Habeas, persons: list[str], n: int) -> list[float]:
    """Open a dispute on a record's birth date and have another account correct it; the
    decision's time, each."""
    officer, supervisor = app.users.local("officer1", "bench"), app.users.local("super1", "bench")
    times = []
    for person in persons[:n]:
        with app.sessions() as s:
            rec = s.execute(
                select(IndexRecord)
                .where(IndexRecord.person_id == person, IndexRecord.dob.is_not(None))
                .limit(1)
            ).scalar_one_or_none()
            if rec is None or len(rec.dob or "") != 10:
                continue
            record, dob = rec.record_id, date.fromisoformat(rec.dob)
        d = app.redress.open(
            officer, "case_review", person, "record", record, "The birth date was keyed wrong.",
            field="dob", claimed_value=(dob + timedelta(days=1)).isoformat(),
        )  # fmt: skip
        t = time.perf_counter()
        app.redress.decide(
            supervisor, "case_review", d.dispute_id, "corrected", "Birth certificate seen."
        )
        times.append(time.perf_counter() - t)
    with app.sessions() as s:
        open_cases = len(s.execute(select(Case.id)).all())
    print(f"            ({len(times)} corrections over {open_cases:,} cases)")
    return times


if __name__ == "__main__":
    main()
