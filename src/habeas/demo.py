"""The demo: the main job on the embedded default, as a client of the application.

It generates a synthetic world, registers and ingests its sources, resolves and publishes
the person index, reads it for different purposes (allowed and refused), opens cases from
court records, scores them, shows gates refusing with their reasons, carries a few people
through the lifecycle by the people whose job each step is, resolves a flag, plans removal
transport, and ends by verifying the audit chain. Every step is a call on ``Habeas`` with
a demo account's principal, exactly as the CLI and the API make them.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from habeas.app.cases.schemas import StepRequest
from habeas.app.core import Habeas, Principal
from habeas.app.core import Habeas as App
from habeas.app.custody import nationality_of
from habeas.app.field.schemas import OutcomeIn
from habeas.cases import gates
from habeas.custody.facilities import SYNTHETIC_FACILITIES
from habeas.errors import GateRefused, HabeasError
from habeas.packet.certify import write_folder
from habeas.settings import Settings
from habeas.store.models import Assignment, IndexRecord
from habeas.store.operational import is_sqlite
from habeas.synth.declarations import to_toml
from habeas.synth.events import feed_declarations, plan_stream
from habeas.synth.field import offices
from habeas.synth.population import generate_people
from habeas.synth.world import HEADER, WORLD_DATE, generate_world

if TYPE_CHECKING:
    from habeas.app.pipeline import Published
    from habeas.governance.audit import Verification
    from habeas.pipeline import IntakeReport
    from habeas.resolve.quality import Evaluation
    from habeas.synth.world import WorldSummary

DEMO_ADMIN = "demo_admin"
DEMO_USERS = (
    ("demo_engineer", "integration_engineer"),
    ("demo_officer", "case_officer"),
    ("demo_counsel", "counsel"),
    ("demo_supervisor", "supervisor"),
    ("demo_field", "field_officer"),
    ("demo_custody", "custody_officer"),
    ("demo_oversight", "oversight"),
)
"""The demo's accounts; their passwords are random and never shown (the demo needs no
sign-in: it acts from the terminal, as the CLI does). `habeas tokens create` gives one a
token for the API."""

DEMO_PURPOSE = {
    "demo_engineer": "identity_resolution",
    "demo_officer": "case_review",
    "demo_counsel": "redress",
    "demo_supervisor": "field_operation",
    "demo_field": "field_operation",
    "demo_custody": "custody",
    "demo_oversight": "oversight",
}
"""The purpose each demo account acts for in the demo (the one to choose at sign-in)."""

ORIGIN = "demo"
ROLE_OF = {DEMO_ADMIN: "admin", **dict(DEMO_USERS)}


@dataclass
class Tour:
    """What the demo did, one line per step, for the terminal to print."""

    lines: list[str] = field(default_factory=list)
    sections: dict[str, list[str]] = field(default_factory=dict)

    def say(self, section: str, line: str) -> None:
        """Add a line under a heading."""
        self.sections.setdefault(section, []).append(line)


def demo_accounts(app: Habeas) -> list[str]:
    """Create the store and the demo accounts that are missing (the admin first)."""
    app.create_store()
    steps: list[str] = []
    try:
        app.users.bootstrap(DEMO_ADMIN)  # its password is never shown: the demo needs none
        steps.append(f"bootstrap: first account {DEMO_ADMIN} (admin)")
    except HabeasError:
        pass  # a second run: the accounts exist
    admin = app.users.local(DEMO_ADMIN, ORIGIN)
    have = {u.username for u in app.users.list_users(admin)}
    for name, role in DEMO_USERS:
        if name not in have:
            app.users.add(admin, name, role)
            steps.append(f"admin created {name} ({role})")
    return steps


def as_(app: Habeas, name: str) -> Principal:
    """The principal of a demo account (acting from the terminal)."""
    p = app.users.local(name, ORIGIN)
    assert p is not None
    return p


def _try(fn: Callable[[], Any]) -> str | None:
    """Run a call; None when it succeeded, else the refusal (policy or law) in one line."""
    try:
        fn()
        return None
    except HabeasError as exc:
        return str(exc)


def access_walk(app: Habeas, person_ids: list[str], tour: Tour) -> None:
    """Read two persons' files and a case for different purposes: allowed and refused."""
    officer, counsel = as_(app, "demo_officer"), as_(app, "demo_counsel")
    engineer, admin = as_(app, "demo_engineer"), as_(app, "demo_admin")
    pid = person_ids[0]
    for who, principal, purpose in (
        ("demo_officer", officer, "case_review"),
        ("demo_officer", officer, "analytics"),
        ("demo_engineer", engineer, "identity_resolution"),
        ("demo_admin", admin, "oversight"),
    ):
        try:
            f = app.index.person(principal, purpose, pid)
            masked = f", identifiers masked: {', '.join(f.masked)}" if f.masked else ""
            tour.say(
                "purpose-bound access",
                f"allowed: {who} ({ROLE_OF[who]}, purpose {purpose}) read person {pid}: "
                f"{len(f.records)} records, {f.withheld} withheld{masked}",
            )
        except HabeasError as exc:
            why = str(exc).split(": ", 1)[-1]
            line = f"refused: {who} ({ROLE_OF[who]}, purpose {purpose}): {why}"
            tour.say("purpose-bound access", line)
    mine = app.cases.for_person(officer, "case_review", pid)  # a second run reuses it
    existing = mine[0].id if mine else None
    case_id = (
        existing or app.cases.open_case(officer, "case_review", pid, date.today(), "demo").case_id
    )
    app.cases.counsel(officer, "case_review", case_id, "demo_counsel")
    for client in (pid, person_ids[1]):
        r = _try(partial(app.cases.show, counsel, "redress", case_id, date.today(), client))
        tour.say(
            "purpose-bound access",
            f"{'allowed' if r is None else 'refused'}: demo_counsel (redress, client "
            f"{client}) read case {case_id}" + ("" if r is None else f": {r.split(': ', 1)[-1]}"),
        )


def _step(
    app: Habeas, who: str, purpose: str, case_id: int, kind: str, on: date, **fields: Any
) -> str | None:
    return _try(
        lambda: app.cases.step(
            as_(app, who), purpose, case_id, StepRequest(kind=kind, on=on, fields=fields)
        )
    )


def carry_to_removal(
    app: Habeas, case_id: int, today: date, facility: str, team: str
) -> str | None:
    """One final-order case from field action to ready-for-removal, each step by its role;
    None when the person is ready, else the first refusal."""
    d = today
    country = nationality_of(app, as_(app, "demo_custody"), "custody", case_id)
    plan: list[tuple[str, str, str, dict[str, Any]]] = [
        (
            "demo_supervisor",
            "field_operation",
            "issue_warrant",
            {
                "instrument": "i205",
                "reference": f"I205-{case_id}",
                "authority": "Field Office Director (synthetic)",
            },
        ),
        ("demo_officer", "case_review", "request_field_action", {}),
        ("demo_supervisor", "field_operation", "approve_field_action", {}),
        ("demo_supervisor", "field_operation", "assign", {"team": team}),
        ("demo_field", "field_operation", "record_encounter", {"outcome": "arrested"}),
        ("demo_custody", "custody", "decide_custody", {"custody": "detained"}),
        (
            "demo_custody",
            "custody",
            "add_instrument",
            {
                "instrument": "travel_document",
                "reference": f"TD-{case_id}",
                "authority": f"consulate of {country}",
                "country": country,
                "expires_on": (d + timedelta(days=90)).isoformat(),
            },
        ),
        (
            "demo_custody",
            "custody",
            "add_instrument",
            {
                "instrument": "medical_clearance",
                "reference": f"MED-{case_id}",
                "authority": "health service (synthetic)",
                "expires_on": (d + timedelta(days=30)).isoformat(),
            },
        ),
        ("demo_custody", "custody", "set_destination", {"country": country}),
        ("demo_custody", "custody", "mark_ready", {}),
    ]
    for who, purpose, kind, fields in plan:
        refused = _step(app, who, purpose, case_id, kind, d, **fields)
        if refused:
            return refused
        if kind == "decide_custody":
            refused = _try(
                lambda: app.custody.place(
                    as_(app, "demo_custody"), "custody", case_id, facility, d, "arrest"
                )
            )
            if refused:
                return refused
    return None


def case_walk(
    app: Habeas, today: date, tour: Tour, carry: int = 12, note: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Open, prioritize, refuse, carry, resolve, plan: the lifecycle on the synthetic world."""
    say = note or (lambda s: None)
    officer = as_(app, "demo_officer")
    custody = as_(app, "demo_custody")
    app.custody.synthetic_facilities(custody, "custody")
    say("open cases from court records")
    opened = app.cases.open_from_records(officer, "case_review", today)
    say("prioritize")
    raised, priorities = app.cases.prioritize(officer, "case_review", today)
    top = app.cases.list_cases(officer, "case_review", limit=5)

    # the demo picks its examples by state and by what each case file shows, as an
    # officer would: through the same reads as everyone else (each one audited)
    def files(state: str, limit: int) -> list[Any]:
        rows = app.cases.list_cases(officer, "case_review", state=state, limit=limit).cases
        return [app.cases.show(officer, "case_review", c.id, today) for c in rows]

    finals = files("final_order", 120)
    stayed = finals + files("appeal_pending", 60) + files("appeal_window", 60)
    with_stay = next(
        (v.case["id"] for v in stayed if any(s.active_on(today) for s in v.file.stays)), None
    )
    with_flag = next(
        (v.case["id"] for v in files("under_review", 200) if any(f.open for f in v.file.flags)),
        None,
    )
    executable = [
        v.case["id"]
        for v in finals
        if not gates.hold_reasons(v.file, today) and not any(f.open for f in v.file.flags)
    ]
    say("gates")
    refusals = []
    if with_stay is not None:
        refusals.append(
            _step(app, "demo_custody", "custody", with_stay, "mark_ready", today)
            or f"case {with_stay}: (no refusal)"
        )
    if with_flag is not None:
        refusals.append(
            _step(
                app,
                "demo_officer",
                "case_review",
                with_flag,
                "charge",
                today,
                instrument="nta",
                reference=f"NTA-{with_flag}",
                authority="ICE ERO (synthetic)",
            )
            or f"case {with_flag}: (no refusal)"
        )
    if executable:
        c = executable[-1]
        warrant = {
            "instrument": "i205",
            "reference": f"I205-{c}",
            "authority": "Field Office Director (synthetic)",
        }
        # a warrant dated three weeks ahead, recorded today: nothing is recorded before it
        # happens
        ahead = today + timedelta(days=21)
        refusals.append(
            _step(app, "demo_supervisor", "field_operation", c, "issue_warrant", ahead, **warrant)
            or f"case {c}: (no refusal)"
        )
        _step(app, "demo_supervisor", "field_operation", c, "issue_warrant", today, **warrant)
        _step(app, "demo_officer", "case_review", c, "request_field_action", today)
        for kind in ("assign", "approve_field_action"):
            fields = {"team": "team-2"} if kind == "assign" else {}
            refusals.append(
                _step(app, "demo_officer", "case_review", c, kind, today, **fields)
                or f"case {c}: (no refusal)"
            )
    if with_stay is not None:
        # an officer's word against a court's stay: no order cited, a lower authority
        view = app.cases.show(officer, "case_review", with_stay, today)
        stay = view.file.stays[0]
        lift = {"stay_id": stay.stay_id, "authority": "agency"}
        refusals.append(
            _step(app, "demo_officer", "case_review", with_stay, "lift_stay", today, **lift)
            or f"case {with_stay}: (no refusal)"
        )
    say("carry cases to removal")
    # an arrest is recorded by the team a case is assigned to: a first field set-up gives
    # demo_supervisor an office and demo_field a team of it (the field walk redoes it)

    plan = offices()
    office = plan[0]["code"]
    team = f"{office}-1"
    app.field.set_up(
        as_(app, DEMO_ADMIN),
        plan,
        {"demo_supervisor": (office, None), "demo_field": (office, team)},
    )
    facilities = [row[0] for row in SYNTHETIC_FACILITIES]
    carried = []
    for i, c in enumerate(executable[: min(carry, max(len(executable) - 1, 0))]):
        problem = carry_to_removal(app, c, today, facilities[i % len(facilities)], team)
        carried.append(f"case {c}: " + (problem or "ready for removal"))
    resolved = ""
    if with_flag is not None:
        view = app.cases.show(as_(app, "demo_supervisor"), "case_review", with_flag, today)
        flag = next(f.kind for f in view.file.flags if f.open)
        app.cases.resolve_flag(
            as_(app, "demo_supervisor"),
            "case_review",
            with_flag,
            flag,
            "the records were checked against the State Department passport file",
            "passport application file (synthetic)",
            today,
        )
        resolved = f"case {with_flag}: {flag} flag resolved by demo_supervisor"
    settled = app.cases.settle_deadlines(custody, "custody")
    tasks = app.cases.tasks(custody, "custody", today, within=60, limit=10_000)
    say("transport plan")
    try:
        report, booking = app.custody.book(custody, "custody", today + timedelta(days=1))
    except GateRefused as exc:  # pragma: no cover - booking reports refusals, never raises
        raise HabeasError(str(exc)) from None
    tamper = tampered_copy(app, with_stay or (executable[0] if executable else None))
    return {
        "tamper": tamper,
        "opened": opened,
        "raised": raised,
        "priorities": priorities,
        "top": top,
        "refusals": refusals,
        "carried": carried,
        "carried_ids": executable[: len(carried)],
        "resolved": resolved,
        "tasks": tasks,
        "settled": settled,
        "transport": report,
        "booking": booking,
    }


def field_walk(app: Habeas, today: date, limit: int = 150) -> list[str]:
    """Approve final-order cases for field action (a warrant, an officer's request, a
    supervisor's approval), set up the synthetic field offices, place ``demo_supervisor``
    in the office with the most of them and ``demo_field`` on its first team, assign and
    route a day's stops, and report one outcome from the phone: the planner and the
    officer's view have something to show."""
    import uuid
    from datetime import UTC, datetime

    officer = as_(app, "demo_officer")
    rows = app.cases.list_cases(officer, "case_review", state="final_order", limit=limit * 3).cases
    approved = 0
    for c in rows:
        if approved >= limit:
            break
        view = app.cases.show(officer, "case_review", c.id, today)
        if gates.hold_reasons(view.file, today) or any(f.open for f in view.file.flags):
            continue
        warrant = {
            "instrument": "i205",
            "reference": f"I205-{c.id}",
            "authority": "Field Office Director (synthetic)",
        }
        steps = [
            ("demo_supervisor", "field_operation", "issue_warrant", warrant),
            ("demo_officer", "case_review", "request_field_action", {}),
            ("demo_supervisor", "field_operation", "approve_field_action", {}),
        ]
        if all(_step(app, who, p, c.id, kind, today, **f) is None for who, p, kind, f in steps):
            approved += 1
    admin, supervisor = as_(app, DEMO_ADMIN), as_(app, "demo_supervisor")
    plan = offices()
    sizes: dict[str, int] = {}
    for o in plan:
        app.field.set_up(admin, plan, {"demo_supervisor": (o["code"], None)})
        sizes[o["code"]] = len(app.field.planner(supervisor, "field_operation").points.case_id)
    office = max(sizes, key=lambda k: (sizes[k], k))
    team = f"{office}-1"
    app.field.set_up(admin, plan, {"demo_supervisor": (office, None), "demo_field": (office, team)})
    lines = [
        f"{approved:,} final-order cases approved for field action (warrant, request, a "
        "second person's approval); offices: "
        + ", ".join(f"{k} {n:,} on the map" for k, n in sorted(sizes.items())),
        f"demo_supervisor plans for office {office}; demo_field is on team {team}",
    ]
    planner = app.field.planner(supervisor, "field_operation")
    p = planner.points
    start = next(t for t in planner.teams if t.code == team)

    def away(i: int) -> float:
        return (p.lat[i] - start.start_lat) ** 2 + (p.lon[i] - start.start_lon) ** 2

    # a day's work near the team's start: the eight closest cases no flag blocks
    chosen = [p.case_id[i] for i in sorted(range(len(p.case_id)), key=away) if not p.blocked[i]]
    chosen = chosen[:8]
    if not chosen:
        return [*lines, "no case in the office has a mappable address: nothing to route"]
    report = app.field.assign(supervisor, "field_operation", chosen, team, today)
    route = app.field.route(supervisor, "field_operation", team, today)
    lines.append(
        f"assigned {len(report.assigned)} to {team} for {today} ({len(report.refused)} "
        f"refused); route {route.km:,.1f} km over {len(route.stops)} stops "
        f"(nearest-neighbour tour {route.nearest_neighbour_km:,.1f} km); "
        f"{len(route.left_out)} left out, out of reach within the shift"
    )
    field_officer = as_(app, "demo_field")
    items = app.field.today(field_officer, "field_operation", today).items
    if items:
        last = items[-1]
        out = app.field.report(
            field_officer,
            "field_operation",
            OutcomeIn(
                uuid=str(uuid.uuid4()),
                assignment_id=last.id,
                outcome="not_located",
                occurred_at=datetime.now(UTC),
                notes="no answer at the door (demo)",
            ),
        )
        lines.append(
            f"demo_field reported stop {last.seq}: not located (case {out.case_id}: {out.effect})"
        )
    return lines


def tampered_copy(app: Habeas, case_id: int | None) -> tuple[str, Verification] | None:
    """Edit one case event in a copy of the operational store (SQLite only) and verify the
    copy: what was edited, and what ``audit verify`` found. The store itself is untouched."""
    import sqlite3
    import tempfile
    from pathlib import Path

    if case_id is None or not is_sqlite(app.engine):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "habeas.db"
        source = sqlite3.connect(app.settings.data_dir / "habeas.db")
        target = sqlite3.connect(copy)
        with target:
            source.backup(target)
        source.close()
        row = target.execute(
            "SELECT seq, kind FROM case_events WHERE case_id = ? ORDER BY "
            "kind = 'grant_stay' DESC, seq DESC LIMIT 1",
            (case_id,),
        ).fetchone()
        with target:  # the stay now reads as granted by a lower authority, by someone else
            target.execute(
                "UPDATE case_events SET payload = replace(payload, 'federal_court', 'agency'), "
                "actor = actor || ' (edited)' WHERE case_id = ? AND seq = ?",
                (case_id, row[0]),
            )
        target.close()
        copied = App(Settings(data_dir=Path(tmp)))
        try:
            verification, _ = copied.audit.verify()
        finally:
            copied.close()
    return f"case {case_id} event {row[0]} ({row[1]}) edited in a copy", verification


NEXT_STEPS = (
    "habeas --data-dir {d} whoami --as demo_officer",
    "habeas --data-dir {d} cases list --as demo_officer --purpose case_review",
    "habeas --data-dir {d} cases show CASE --as demo_officer --purpose case_review",
    "habeas --data-dir {d} person PERSON --as demo_officer --purpose case_review",
    "habeas --data-dir {d} search --name 'NAME' --as demo_officer --purpose case_review",
    "habeas --data-dir {d} audit show --as demo_oversight --purpose oversight",
    "habeas --data-dir {d} tokens create demo_officer --as demo_admin   # then: habeas serve",
)
"""What to try after the demo."""


def two_persons(app: Habeas) -> list[str]:
    """Two persons of the published index, for the demo's reads: found by a search for a
    common family name, as an officer would."""
    officer = as_(app, "demo_officer")
    for name in ("garcia", "rodriguez", "hernandez", "lopez", "martinez", "smith", "nguyen"):
        hits = app.index.search(officer, "case_review", name=name, limit=2).hits
        if len(hits) == 2:
            return [h.person_id for h in hits]
    raise HabeasError("the published index has too few persons for the demo's reads")


class Stages(Protocol):
    """What the demo reports as each stage ends (the terminal prints it; tests may record
    it); the ``tick``/``note`` hooks report progress within a stage."""

    def tick(self, step: str, n: int) -> None:
        """A step of the world's generation."""

    def note(self, name: str, stage: str) -> None:
        """A source registered or ingested."""

    def say(self, line: str) -> None:
        """A line of progress."""

    def world(self, summary: WorldSummary, seconds: float) -> None:
        """The synthetic world was generated."""

    def intake(self, report: IntakeReport, seconds: float) -> None:
        """Sources registered and ingested."""

    def resolved(self, published: Published, evaluation: Evaluation) -> None:
        """The index was resolved, published and scored against the world's truth."""

    def access(self, lines: list[str], review_queue: int) -> None:
        """Reads allowed and refused."""

    def cases(self, walk: dict[str, Any], seconds: float) -> None:
        """The case lifecycle walked."""

    def field(self, lines: list[str]) -> None:
        """Field offices set up, cases approved, a team's day assigned and routed."""

    def monitor(self, lines: list[str]) -> None:
        """Departure feeds declared, a short stream played, a cancelled assignment."""

    def packets(self, lines: list[str]) -> None:
        """An evidence packet produced for counsel, where it is and its hashes."""

    def verified(self, verification: Verification) -> None:
        """The audit chain recomputed."""


def run(app: Habeas, people: int, seed: int, stages: Stages) -> bool:
    """The whole demo on ``app``: every stage a call on the application, each reported to
    ``stages`` as it ends. True when the audit chain verifies at the end."""

    started = time.perf_counter()
    accounts = demo_accounts(app)
    engineer = as_(app, "demo_engineer")
    world_dir = app.settings.data_dir / "world"
    summary = generate_world(world_dir, people, seed, progress=stages.tick)
    stages.world(summary, time.perf_counter() - started)
    report = app.pipeline.intake(
        engineer, "identity_resolution", world_dir, date.today(), on_source=stages.note
    )
    stages.intake(report, time.perf_counter() - started)
    published = app.pipeline.resolve(
        engineer, "identity_resolution", progress=lambda s: stages.say(f"resolve: {s}")
    )
    evaluation = app.pipeline.evaluate(engineer, "identity_resolution", world_dir / "truth.parquet")
    stages.resolved(published, evaluation)
    queue = app.index.review_queue(engineer, "identity_resolution", limit=1)
    tour = Tour()
    access_walk(app, two_persons(app), tour)
    stages.access(accounts + tour.sections.get("purpose-bound access", []), queue.total)
    started = time.perf_counter()
    walk = case_walk(app, date.today(), tour, note=lambda s: stages.say(f"cases: {s}"))
    stages.cases(walk, time.perf_counter() - started)
    stages.say("field: approve, plan, route")
    stages.field(field_walk(app, date.today()))
    stages.say("monitor: a short stream of departure events")
    stages.monitor(monitor_walk(app, people, seed))
    stages.say("packet: counsel's evidence packet for a client")
    stages.packets(packet_walk(app, walk.get("carried_ids", [])))
    verification, _ = app.audit.verify()
    stages.verified(verification)
    return verification.ok


def packet_walk(app: Habeas, carried: list[int]) -> list[str]:
    """demo_counsel is recorded as counsel on a case carried to removal; they produce the
    client's evidence packet into the data directory, and it verifies."""
    officer, counsel = as_(app, "demo_officer"), as_(app, "demo_counsel")
    if not carried:
        return ["no case was carried far enough for a packet"]
    case_id = carried[0]
    view = app.cases.show(officer, "case_review", case_id, date.today())
    client = str(view.case["person_id"])
    app.cases.counsel(officer, "case_review", case_id, "demo_counsel")
    produced = app.packets.produce(
        counsel,
        "redress",
        client,
        recipient="Immigration Court, motion to reopen (synthetic)",
        client=client,
    )
    folder = app.settings.data_dir / "packets" / f"production-{produced.production_id}"
    if folder.exists():  # a store made again from scratch numbers its productions anew
        shutil.rmtree(folder)
    write_folder(folder, produced.files)
    check = app.packets.verify(folder)
    return [
        f"demo_counsel (redress, client {client}) produced packet {produced.production_id}: "
        f"{produced.pages} pages, Bates {produced.bates}",
        f"folder {folder}",
        f"packet.json sha256 {produced.packet_sha256}",
        f"packet.pdf  sha256 {produced.pdf_sha256}",
        "packet verify " + ("OK" if check.ok else "FAILED: " + "; ".join(check.problems)),
        f"sign in as demo_counsel at /login: Clients > {client} > Produce the packet",
    ]


def monitor_walk(app: Habeas, people: int, seed: int, events: int = 300) -> list[str]:
    """Declare the four departure feeds, give them an account (``demo_feed``), and play a
    short synthetic stream through the monitor; then a verified exit of the person on
    demo_field's list, whose assignment is cancelled at once."""
    from datetime import UTC, datetime, timedelta

    engineer, admin = as_(app, "demo_engineer"), as_(app, DEMO_ADMIN)
    folder = app.settings.data_dir / "world" / "feeds"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, decl in feed_declarations().items():
        path = folder / f"{name}.toml"
        path.write_text(to_toml(decl, HEADER), encoding="utf-8")
        paths.append(path)
    regs = app.pipeline.register(engineer, "identity_resolution", paths, date.today())
    if "demo_feed" not in {u.username for u in app.users.list_users(admin)}:
        app.users.add(admin, "demo_feed", "event_feed")
    feed = as_(app, "demo_feed")
    lines = [
        f"{sum(r.accepted for r in regs)} departure feeds declared "
        f"({', '.join(sorted(feed_declarations()))}); account demo_feed (event_feed) posts "
        "them and can record only what stops enforcement"
    ]
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    stream = plan_stream(people, seed, events, now - timedelta(seconds=events), 1.0, WORLD_DATE)
    started = time.perf_counter()
    tally = app.monitor.post_stream(feed, [(e.feed, e.body) for e in stream])
    took = time.perf_counter() - started
    lines.append(
        f"stream of {len(stream)} events in {took:.1f} s: "
        + ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
    )
    lines += _exit_of_an_assigned_person(app, people, seed, feed, now)
    status = app.monitor.status(as_(app, "demo_oversight"), "oversight")
    lines.append(
        f"monitor: latency p50 {status.latency_ms_p50} ms, p99 {status.latency_ms_p99} "
        f"ms; quarantined {status.quarantined}; reviews pending "
        + (", ".join(f"{k} {v}" for k, v in sorted(status.pending_reviews.items())) or "none")
    )
    return lines


def _exit_of_an_assigned_person(
    app: Habeas, people: int, seed: int, feed: Principal, now: Any
) -> list[str]:
    """An airline's exit record for the person of demo_field's first open assignment."""
    import pyarrow.parquet as pq
    from sqlalchemy import select

    field_officer = as_(app, "demo_field")
    items = [
        i
        for i in app.field.today(field_officer, "field_operation", date.today()).items
        if i.status == "open"
    ]
    if not items:
        return ["no open assignment on demo_field's list to see cancelled"]
    item = items[0]
    with app.reader() as s:
        a = s.get(Assignment, item.id)
        assert a is not None
        person = a.person_id
        records = set(
            s.execute(
                select(IndexRecord.record_id).where(IndexRecord.person_id == person)
            ).scalars()
        )
    truth = pq.read_table(app.settings.data_dir / "world" / "truth.parquet").to_pydict()
    true = {t for r, t in zip(truth["record_id"], truth["person_id"], strict=True) if r in records}
    who = next((p for p in generate_people(people, seed, WORLD_DATE) if p.pid in true), None)
    if who is None or not who.passport:
        return [f"the person of assignment {item.id} holds no passport: no exit record to play"]
    body = {
        "event_id": f"AX-DEMO-{item.id}",
        "departed_at": now.strftime("%Y-%m-%dT%H:%M:%S"),
        "document_number": who.passport,
        "document_country": who.country[1],
        "surname": who.family_name.upper(),
        "given_names": who.given_name.upper(),
        "birth_date": who.dob.isoformat(),
        "sex": who.sex,
        "airport": "JFK",
        "flight": "AA100",
        "destination": who.country[1],
    }
    receipt = app.monitor.receive(feed, "identity_resolution", "airline_exits", [body])
    after = [
        i
        for i in app.field.today(field_officer, "field_operation", date.today()).items
        if i.id == item.id
    ]
    shown = after[0] if after else None
    return [
        f"exit record AX-DEMO-{item.id} (airline_exits) for the person of case {item.case_id}: "
        f"{receipt.results[0].status}",
        f"demo_field's assignment {item.id}: {shown.status if shown else '?'} — "
        f"{(shown.reason if shown else '') or ''}",
    ]
