"""Benchmark: evidence packets (issue 26).

Prints, in one run, on a resolved and published synthetic world (SQLite):
  packet     one person with ~50 linked records and a 30-event case: the whole production
             (JSON, HTML, PDF/A-3b, load files, certification, manifest) — target <= 2 s;
             beside it the baseline: reading the same data through `person` + `cases show`
             + `audit show` (what an officer would otherwise assemble by hand)
  large      one person with ~300 records (a ~300-page PDF) — target <= 15 s, <= 1 GiB
  batch      N packets (default 1,000) for the persons with cases, one after another: the
             rate, and the slowest
Usage: python bench/packet.py [--people N] [--batch N] [--large-records N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from packetkit import act, carry_case
from sqlalchemy import select

from habeas.app import Habeas
from habeas.governance.audit_access import AuditFilter
from habeas.settings import Settings
from habeas.store.models import IndexPerson, IndexRecord

ROLES = {
    "officer1": "case_officer",
    "super1": "supervisor",
    "super2": "supervisor",
    "field1": "field_officer",
    "custody1": "custody_officer",
    "ig1": "oversight",
    "counsel1": "counsel",
    "eng1": "integration_engineer",
}


def world(data: Path, people: int) -> Habeas:
    """A world generated, ingested, resolved and published; one account per role."""
    from habeas.synth.field import offices
    from habeas.synth.world import generate_world

    app = Habeas(Settings(data_dir=data))
    app.users.bootstrap("root")
    root = app.users.local("root", "bench")
    for name, role in ROLES.items():
        app.users.add(root, name, role)
    members = {"super1": ("NE", None), "super2": ("NE", None), "field1": ("NE", "NE-1")}
    app.field.set_up(root, offices(), members)
    summary = generate_world(data / "world", people, seed=7)
    eng = app.users.local("eng1", "bench")
    app.pipeline.intake(eng, "identity_resolution", summary.out, date.today())
    app.pipeline.resolve(eng, "identity_resolution")
    return app


def cloned_person(app: Habeas, person_id: str, records: int) -> None:
    """A person with ``records`` records: copies of real records (their prepared values),
    each linked to the one before it, as a long chain of sightings would be."""
    with app.sessions() as s:
        model = list(
            s.execute(select(IndexRecord).where(IndexRecord.features != "{}").limit(200)).scalars()
        )
        rows = []
        for i in range(records):
            m = model[i % len(model)]
            rid = f"{person_id.lower()}-r{i:04d}"
            features = json.loads(m.features)
            features["unique_id"] = rid
            row = {c.name: getattr(m, c.name) for c in IndexRecord.__table__.columns}
            row.update(
                record_id=rid,
                person_id=person_id,
                source_key=f"{m.source_key}-{i}",
                features=json.dumps(features),
                linked_via=f"{person_id.lower()}-r{i - 1:04d}" if i else None,
                how="model" if i else "seed",
            )
            rows.append(IndexRecord(**row))
        s.add_all(rows)
        s.add(IndexPerson(person_id=person_id, records=records, sources="[]", run_id=m.run_id))
        s.commit()


def thirty_events(app: Habeas, case_id: int) -> None:
    """The carried case taken off and put back on the manifest until it has 30 events."""
    on = date.today() - timedelta(days=20)
    for i in range(7):
        act(app, "custody1", "custody", case_id, "take_off_manifest", on, reason=f"seat {i}")
        act(app, "custody1", "custody", case_id, "add_to_manifest", on, flight=f"F-{i + 2}")


LARGE = """
import resource, sys, time
from pathlib import Path
from habeas.app import Habeas
from habeas.settings import Settings
app = Habeas(Settings(data_dir=Path(sys.argv[1])))
who = app.users.local("counsel1", "bench")
t = time.perf_counter()
p = app.packets.produce(who, "redress", "PBENCHBIG", recipient="bench court", client="PBENCHBIG")
spent = time.perf_counter() - t
print(spent, p.pages, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
"""The large packet, produced in a fresh process (its peak resident memory is measured)."""


def timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--large-records", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="habeas-bench-packet-"))
    try:
        t0 = time.perf_counter()
        app = world(tmp / "data", args.people)
        built = time.perf_counter() - t0
        print(f"world: {args.people:,} people resolved and published in {built:.0f} s")
        counsel = app.users.local("counsel1", "bench")

        cloned_person(app, "PBENCH50", 50)
        case_id = carry_case(app, "PBENCH50")
        thirty_events(app, case_id)
        produce = lambda pid: app.packets.produce(  # noqa: E731
            counsel, "redress", pid, recipient="bench court", client=pid
        )
        produce("PBENCH50")  # warm: Splink, Typst, fonts
        seconds, p = timed(lambda: produce("PBENCH50"))
        packet = json.loads(p.files["packet.json"])
        events = len(packet["cases"][0]["events"])
        print(
            f"packet   {len(packet['person']['records'])} records, {len(packet['links'])} links, "
            f"{events}-event case, {p.pages} pages: {seconds:.2f} s (target <= 2 s)"
        )
        officer = app.users.local("officer1", "bench")
        ig = app.users.local("ig1", "bench")

        def by_hand() -> None:
            app.index.person(officer, "case_review", "PBENCH50")
            app.cases.show(officer, "case_review", case_id, date.today())
            app.audit.show(ig, "oversight", AuditFilter(person="PBENCH50", limit=1000))

        by_hand()
        base, _ = timed(by_hand)
        print(f"  baseline person + cases show + audit show: {base:.2f} s (no waterfalls, no PDF)")

        cloned_person(app, "PBENCHBIG", args.large_records)
        big_case = carry_case(app, "PBENCHBIG")
        thirty_events(app, big_case)
        app.close()  # the large packet in a process of its own: its peak memory is its own
        got = subprocess.run(
            [sys.executable, "-c", LARGE, str(tmp / "data")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        seconds, pages, peak = float(got[0]), int(got[1]), float(got[2])
        print(
            f"large    {args.large_records} records, {pages} pages: {seconds:.2f} s "
            f"(target <= 15 s); peak RSS of the process {peak:,.0f} MiB (target <= 1 GiB)"
        )
        app = Habeas(Settings(data_dir=tmp / "data"))
        ig = app.users.local("ig1", "bench")

        with app.sessions() as s:
            persons = list(
                s.execute(
                    select(IndexPerson.person_id).order_by(IndexPerson.person_id).limit(args.batch)
                ).scalars()
            )
        oversight = lambda pid: app.packets.produce(  # noqa: E731
            ig, "oversight", pid, recipient="inspector general (bench)"
        )
        worst = 0.0
        pages = 0
        started = time.perf_counter()
        for pid in persons:
            s_, p = timed(lambda pid=pid: oversight(pid))
            worst = max(worst, s_)
            pages += p.pages or 0
        spent = time.perf_counter() - started
        print(
            f"batch    {len(persons):,} packets (oversight, every format) in {spent:.0f} s: "
            f"{len(persons) / spent:.2f} packets/s, {pages / spent:.0f} pages/s, "
            f"slowest {worst:.2f} s"
        )
        app.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
