"""Benchmark: case transitions and removal transport planning (issue 5).

Prints, in one run:
  transitions  case steps through authorization (Cedar) + the lifecycle's gates + the event
               store (each event hashed onto its case's chain) + the audit log, on SQLite:
               one transaction per step, and 50 steps per transaction (target: >= 1,000
               per second); the pure rules alone beside them (the baseline)
  history      `audit verify` with every case history checked against the events the log
               recorded, beside the log's own chain alone
  transport    the exact plan (min-cost flow) beside the greedy baseline, on 10k people x
               300 flights (target <= 1 s) and 200k x 6,000 (target <= 2 s): objective,
               mean wait, transfers, people left without a seat; the plan never worse
Usage: python bench/lifecycle.py [--cases N]
"""

from __future__ import annotations

import argparse
import random
import secrets
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine

from habeas.app import wiring
from habeas.app.audit_log import verify_store
from habeas.cases import lifecycle as lc
from habeas.cases.service import open_case, record_event
from habeas.custody.transport import Flight, Ready, check_plan, plan_greedy, plan_min_cost
from habeas.governance import audit
from habeas.governance.authz import AccessContext
from habeas.store.keys import register
from habeas.store.operational import make_engine, session_factory, upgrade

OFFICER = AccessContext("officer1", "case_officer", "case_review")
SUPER = AccessContext("super1", "supervisor", "field_operation")
FIELD = AccessContext("field1", "field_officer", "field_operation")
CUSTODY = AccessContext("custody1", "custody_officer", "custody")
D = date.today() - timedelta(days=30)


def _steps(case_id: int) -> list[tuple[AccessContext, lc.Event]]:
    return [
        (OFFICER, lc.BeginReview(D, "", "")),
        (
            OFFICER,
            lc.Charge(
                D,
                "",
                "",
                instrument="nta",
                reference=f"NTA-{case_id}",
                authority="ICE ERO (synthetic)",
            ),
        ),
        (
            SUPER,
            lc.IssueWarrant(
                D, "", "", instrument="i200", reference=f"W-{case_id}", authority="SDDO (synthetic)"
            ),
        ),
        (OFFICER, lc.RequestFieldAction(D, "", "")),
        (SUPER, lc.ApproveFieldAction(D, "", "")),
        (SUPER, lc.Assign(D, "", "", team="t1")),
        (FIELD, lc.RecordEncounter(D, "", "", outcome="arrested")),
        (CUSTODY, lc.DecideCustody(D, "", "", custody="detained")),
    ]


def bench_transitions(cases: int) -> None:
    """Every case through eight steps by four roles; per-step and batched transactions."""
    for per_tx in (1, 50):
        engine = make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'op.db'}")
        upgrade(engine)
        register(engine, secrets.token_bytes(32))
        sessions = session_factory(engine)
        with sessions.begin() as s:
            ids = [open_case(s, OFFICER, f"P{i}", D).id for i in range(cases)]
        order = [ev.kind for _, ev in _steps(0)]  # step k of every case, then step k + 1
        work = [(cid, ctx, ev) for cid in ids for ctx, ev in _steps(cid)]
        work.sort(key=lambda w: order.index(w[2].kind))
        t = time.perf_counter()
        for i in range(0, len(work), per_tx):
            with sessions.begin() as s:
                for cid, ctx, ev in work[i : i + per_tx]:
                    record_event(s, ctx, cid, ev)
        took = time.perf_counter() - t
        label = "one transaction per step" if per_tx == 1 else f"{per_tx} steps per transaction"
        print(
            f"transitions {len(work):,} steps on {cases:,} cases, {label}: {took:.1f} s = "
            f"{len(work) / took:,.0f}/s (Cedar + gates + chained events + audit; "
            "target >= 1,000/s)"
        )
    files = {cid: lc.CaseFile(str(cid), f"P{cid}") for cid in ids}
    t = time.perf_counter()
    for cid, ctx, ev in work:
        result = lc.transition(files[cid], replace(ev, actor=ctx.user, role=ctx.role))
        assert isinstance(result, lc.CaseFile), result
        files[cid] = result
    took = time.perf_counter() - t
    print(
        f"baseline    the same {len(work):,} steps through the pure rules alone: {took:.2f} s "
        f"= {len(work) / took:,.0f}/s"
    )
    bench_history(engine)


def bench_history(engine: Engine) -> None:
    """`audit verify` with the case histories, and the log's chain alone beside it."""
    t = time.perf_counter()
    v = verify_store(engine)
    whole = time.perf_counter() - t
    refs: audit.Refs = {}
    t = time.perf_counter()
    n, _, _, _ = audit._walk(engine, keep=False, refs=refs)
    chain = time.perf_counter() - t
    print(
        f"history     audit verify: {v.entries:,} entries and {v.case_events:,} case events "
        f"in {whole:.2f} s, ok={v.ok} (the log's chain alone: {n:,} entries in "
        f"{chain:.2f} s)"
    )


def world(people: int, flights: int, seed: int = 1) -> tuple[list[Ready], list[Flight]]:
    """A synthetic planning instance: 8 hubs, 25 countries, ready dates over 6 weeks."""
    rng = random.Random(seed)
    hubs = ["MIA", "ONT", "ELP", "ATL", "SEA", "BRO", "EWR", "SAT"]
    countries = [f"C{i:02d}" for i in range(25)]
    weights = [1 / (i + 1) for i in range(25)]  # a few destinations take most people
    ready = [
        Ready(
            f"p{i}",
            rng.choice(hubs),
            rng.choices(countries, weights)[0],
            D + timedelta(days=rng.randint(0, 42)),
        )
        for i in range(people)
    ]
    seats = people * 1.1 / flights
    fl = [
        Flight(
            f"f{i}",
            D + timedelta(days=rng.randint(0, 56)),
            rng.choice(hubs),
            rng.choices(countries, weights)[0],
            max(1, int(rng.gauss(seats, seats / 4))),
        )
        for i in range(flights)
    ]
    return ready, fl


def bench_transport() -> None:
    """Both planners on two sizes; the exact plan's constraints are checked too."""
    for people, flights, target in ((10_000, 300, 1.0), (200_000, 6_000, 2.0)):
        ready, fl = world(people, flights)
        exact = plan_min_cost(ready, fl)
        greedy = plan_greedy(ready, fl)
        problems = check_plan(exact, ready, fl)
        for p in (exact, greedy):
            print(
                f"transport {people:,} x {flights:,} {p.method:<14} {p.seconds:6.2f} s  "
                f"objective {p.objective:,}  mean wait {p.mean_wait:.2f} d  "
                f"transfers {p.transfers:,}  no seat {len(p.unassigned):,}"
            )
        cut = 1 - exact.transfers / greedy.transfers if greedy.transfers else 0.0
        print(
            f"transport {people:,} x {flights:,} exact <= greedy: "
            f"{exact.objective <= greedy.objective}; transfers cut {cut:.0%}; "
            f"constraints broken: {len(problems)}; target <= {target:.0f} s"
        )


def main() -> None:
    """Run both parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    args = parser.parse_args()
    wiring.install()
    bench_transitions(args.cases)
    bench_transport()


if __name__ == "__main__":
    main()
