"""Planning removal transport for the cases in the store: who passed the removal gate,
where they are held, the flights, and for everyone left behind the cause.

Only a case whose person is ready for removal and passes the removal gate today is put
on the plan; every other case with a final order is reported with the gate's first
reason, by cause (awaiting travel document, stay, appeal, …). Reading the cases is
authorized per case and audited, like any read.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from habeas.cases import gates
from habeas.cases import lifecycle as lc
from habeas.cases.casefile import State
from habeas.cases.event_store import case_file
from habeas.cases.queries import readable_cases
from habeas.cases.service import record_event
from habeas.custody.facilities import SYNTHETIC_FACILITIES
from habeas.custody.transport import Flight, Plan, Ready, plan_greedy, plan_min_cost
from habeas.errors import GateRefused, HabeasError
from habeas.governance.authz import AccessContext
from habeas.store.models import Case, Facility, Placement

CAUSES = (
    ("unresolved citizenship flag", "citizenship flag"),
    ("stay granted", "stay of removal"),
    ("appeal to the", "appeal pending"),
    ("appeal window open", "appeal window open"),
    ("voluntary departure runs", "voluntary departure period"),
    ("no final order", "no final order"),
    ("relief was granted", "relief granted"),
    ("removal to", "destination barred by protection"),
    ("no travel document", "awaiting travel document"),
    ("no valid I-205", "awaiting warrant of removal"),
    ("no valid medical clearance", "awaiting medical clearance"),
    ("no destination", "no destination set"),
)
"""Gate reasons by cause, the weightiest first: a person held back for several reasons is
counted under the first cause that applies."""


def cause(reasons: list[str]) -> tuple[str, str]:
    """The weightiest cause among a gate's reasons, and the reason that shows it."""
    for prefix, name in CAUSES:
        for r in reasons:
            if r.startswith(prefix):
                return name, r
    return reasons[0].split(":")[0], reasons[0]


@dataclass
class TransportReport:
    """The plan, the greedy baseline beside it, and who is not ready and why."""

    plan: Plan
    greedy: Plan
    ready: list[Ready]
    flights: list[Flight]
    not_ready: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)


ACTIVE = (
    State.FINAL_ORDER.value,
    State.READY_FOR_REMOVAL.value,
    State.CUSTODY_DECIDED.value,
    State.FUGITIVE.value,
    State.RELEASED.value,
)


def removal_candidates(
    session: Session, ctx: AccessContext, today: date
) -> tuple[list[Ready], Counter[str], dict[str, str]]:
    """Ready people (by case id), and the causes that hold the others back."""
    cases = list(
        session.execute(select(Case).where(Case.state.in_(ACTIVE)).order_by(Case.id)).scalars()
    )
    readable = readable_cases(
        session, ctx, cases, "transport_candidates", f"removal candidates for transport on {today}"
    )
    hub_of = dict(
        session.execute(
            select(Placement.case_id, Facility.hub)
            .join(Facility, Facility.id == Placement.facility_id)
            .where(Placement.ended_on.is_(None))
        ).all()
    )
    ready: list[Ready] = []
    held: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for case in readable:
        file = case_file(session, case)
        if file.final_on is None:
            continue
        reasons = gates.removal_reasons(file, today, ready=True)
        if case.state == State.READY_FOR_REMOVAL.value and not reasons:
            ready.append(Ready(str(case.id), hub_of.get(case.id, ""), file.destination, today))
            continue
        if not reasons:
            reasons = ["not yet marked ready for removal"]
        c, why = cause(reasons)
        held[c] += 1
        examples.setdefault(c, f"case {case.id}: {why}")
    return ready, held, examples


def synthetic_flights(
    countries: list[str], start: date, days: int = 28, seed: int = 7
) -> list[Flight]:
    """A synthetic removal flight schedule: each destination served weekly or so from one
    to three hubs (the synthetic world's, not any real schedule)."""

    rng = random.Random(seed)
    hubs = sorted({row[4] for row in SYNTHETIC_FACILITIES})
    flights = []
    for country in sorted(set(countries)):
        for hub in rng.sample(hubs, k=min(len(hubs), rng.randint(1, 3))):
            day = start + timedelta(days=rng.randint(0, 6))
            while day < start + timedelta(days=days):
                flights.append(
                    Flight(
                        f"{hub}-{country}-{day:%m%d}",
                        day,
                        hub,
                        country,
                        rng.choice((20, 40, 60, 135)),
                    )
                )
                day += timedelta(days=rng.choice((7, 7, 14)))
    return flights


def plan_transport(
    session: Session, ctx: AccessContext, today: date, flights: list[Flight] | None = None
) -> TransportReport:
    """Plan removal flights for the ready cases (min-cost flow, greedy beside it)."""
    ready, held, examples = removal_candidates(session, ctx, today)
    if flights is None:
        flights = synthetic_flights([r.country for r in ready], today)
    return TransportReport(
        plan_min_cost(ready, flights), plan_greedy(ready, flights), ready, flights, held, examples
    )


def book(session: Session, ctx: AccessContext, report: TransportReport, today: date) -> list[str]:
    """Put everyone the plan seats on their flight's manifest (each step gated again; a
    refusal is reported, not forced). Returns one line per refusal."""

    refused = []
    booked_on = min(today, date.today())  # a booking carries the day it is made
    for pid, fid in sorted(report.plan.assigned.items()):
        try:
            record_event(session, ctx, int(pid), lc.AddToManifest(booked_on, "", "", flight=fid))
        except GateRefused as exc:
            refused.append(f"case {pid}: {exc}")
    return refused


def read_flights(path: Path) -> list[Flight]:
    """Flights from a CSV with a header ``flight,day,hub,country,capacity``; a bad row is
    refused naming the file, the row and the field."""
    import csv

    try:
        handle = path.open(newline="")
    except OSError as exc:
        raise HabeasError(f"{path}: cannot read the flights ({exc.strerror})") from None
    with handle:
        reader = csv.DictReader(handle)
        want = ["flight", "day", "hub", "country", "capacity"]
        if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != want:
            raise HabeasError(f"{path}: the header must be {','.join(want)}")
        out, seen = [], set()
        for n, row in enumerate(reader, start=2):
            where = f"{path}: row {n}"
            try:
                day = date.fromisoformat(row["day"].strip())
            except ValueError:
                raise HabeasError(f"{where}, field day: {row['day']!r} is not YYYY-MM-DD") from None
            try:
                capacity = int(row["capacity"])
            except ValueError:
                raise HabeasError(
                    f"{where}, field capacity: {row['capacity']!r} is not a whole number"
                ) from None
            if capacity < 1:
                raise HabeasError(f"{where}, field capacity: must be at least 1")
            for name in ("flight", "hub", "country"):
                if not row[name].strip():
                    raise HabeasError(f"{where}, field {name}: empty")
            if row["flight"] in seen:
                raise HabeasError(f"{where}, field flight: {row['flight']!r} listed twice")
            seen.add(row["flight"])
            out.append(
                Flight(
                    row["flight"].strip(), day, row["hub"].strip(), row["country"].strip(), capacity
                )
            )
    return out


@dataclass
class ManifestLock:
    """A flight's manifest at lock time: who stays on, who was taken off and why."""

    flight: str
    kept: list[int] = field(default_factory=list)
    taken_off: dict[int, list[str]] = field(default_factory=dict)


def lock_manifest(session: Session, ctx: AccessContext, flight: str, today: date) -> ManifestLock:
    """Re-check the removal gate for everyone on ``flight`` as of ``today``; whoever no
    longer passes is taken off the manifest, with the gate's reasons as the step's reason.
    (Boarding checks the gate once more.)"""

    on = list(
        session.execute(
            select(Case).where(Case.state == State.ON_MANIFEST.value).order_by(Case.id)
        ).scalars()
    )
    mine = [
        c
        for c in readable_cases(session, ctx, on, "lock_manifest", f"flight {flight}")
        if case_file(session, c).flight == flight
    ]
    lock = ManifestLock(flight)
    for case in mine:
        reasons = gates.removal_reasons(case_file(session, case), today, ready=True)
        if not reasons:
            lock.kept.append(case.id)
            continue
        record_event(
            session,
            ctx,
            case.id,
            lc.TakeOffManifest(
                min(today, date.today()), "", "", reason="manifest lock: " + "; ".join(reasons)
            ),
        )
        lock.taken_off[case.id] = reasons
    return lock
