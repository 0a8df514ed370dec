"""Benchmark: authorization decisions and audit-log verification (issue 4, first part).

Prints, in one run:
  authz    Cedar decisions per second, one at a time and in a batch (target <= 100 µs each)
  append   audit entries appended through the ORM, one transaction each (SQLite, WAL)
  verify   `audit verify` over N entries (target: 1M entries <= 10 s), and with a checkpoint
Not yet measured here: the audit + authorization overhead on a read-heavy mix and the
50-writer concurrency run, which need the service layer (the rest of issue 4).
Usage: python bench/store.py [--entries N]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from habeas.governance import audit
from habeas.governance.authz import AccessContext, Resource, authorize, authorize_batch
from habeas.governance.chain import GENESIS, Entry, entry_hash, resources_json
from habeas.store.operational import make_engine, session_factory, upgrade


def _case(i: int) -> Resource:
    person = f"P{i}"
    return Resource(
        "Case",
        f"case-{i}",
        {"person": {"__entity": {"type": "Habeas::Person", "id": person}}, "person_id": person,
         "counsel": "lawyer1" if i % 2 else "", "state": "identified"},
        ({"uid": {"type": "Habeas::Person", "id": person}, "attrs": {"flags": []}, "parents": []},),
    )  # fmt: skip


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
    print(f"authz    single {single * 1e6:,.0f} µs/decision; batch of {n:,}: "
          f"{batch * 1e6:,.0f} µs/decision ({allowed} allowed); "
          "target <= 100 µs batched")  # fmt: skip


def _fill(path: Path, n: int) -> None:
    """Write n chained entries straight into the table (as many appends would)."""
    con = sqlite3.connect(path)
    prev = GENESIS
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    batch = []
    for i in range(1, n + 1):
        e = Entry(i, (t0 + timedelta(seconds=i)).isoformat(timespec="microseconds"),
                  f"user{i % 50}", "case_officer", "case_review", "read_case",
                  (f"case:{i % 9000}", f"person:P{i % 7000}"), "allow" if i % 11 else "deny",
                  f"req{i}")  # fmt: skip
        h = entry_hash(prev, e)
        resources = resources_json(e.resources)
        batch.append((e.seq, e.at, e.user, e.role, e.purpose, e.action, resources,
                      e.decision, e.request_id, "", prev, h))  # fmt: skip
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
            audit.append(s, user="u", role="case_officer", purpose="case_review",
                         action="read_case", resources=[f"case:{i}"], decision="allow")  # fmt: skip
    per = (time.perf_counter() - t) / 2000
    print(f"append   {1 / per:,.0f} entries/s through the ORM, one transaction each "
          f"({per * 1e3:.2f} ms per entry)")  # fmt: skip
    engine = make_engine(f"sqlite:///{tmp / 'b.db'}")
    upgrade(engine)
    t = time.perf_counter()
    _fill(tmp / "b.db", entries)
    print(f"fill     {entries:,} chained entries written in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    v = audit.verify(engine)
    took = time.perf_counter() - t
    print(f"verify   {v.entries:,} entries in {took:.1f} s ({v.entries / took:,.0f}/s), "
          f"ok={v.ok} — target 1M <= 10 s")  # fmt: skip
    key = audit.load_or_create_key(tmp / "keys")
    t = time.perf_counter()
    cp = audit.make_checkpoint(engine, key)
    sign_s = time.perf_counter() - t
    t = time.perf_counter()
    v = audit.verify(engine, cp, key.public_key())
    took = time.perf_counter() - t
    print(f"checkpoint signed in {sign_s:.1f} s; verify against it {took:.1f} s, ok={v.ok}")


def main() -> None:
    """Run both parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    bench_authz()
    bench_audit(args.entries)


if __name__ == "__main__":
    main()
