"""`habeas policy | prioritize | cases | tasks | custody | transport`: the case lifecycle
from the terminal. Thin: every command calls the same service functions as the demo."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from habeas.cli.access import AsUser, Purpose, context, refusals
from habeas.errors import HabeasError

if TYPE_CHECKING:
    from habeas.cases.service import CaseView
    from habeas.custody.removal import TransportReport
    from habeas.governance.authz import AccessContext
    from habeas.store.staging import StagingStore

policy_app = typer.Typer(help="Priority policies.", no_args_is_help=True)
cases_app = typer.Typer(help="Cases: list, show, open, record steps.", no_args_is_help=True)
tasks_app = typer.Typer(help="Deadlines on cases.", no_args_is_help=True)
custody_app = typer.Typer(help="Facilities, placements.", no_args_is_help=True)
transport_app = typer.Typer(help="Removal transport.", no_args_is_help=True)

On = Annotated[str | None, typer.Option("--on", help="As of this day (YYYY-MM-DD); default today.")]


def _day(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HabeasError(f"not a date: {text!r} (expected YYYY-MM-DD)") from None


def register(
    app: typer.Typer,
    open_store: Callable[[], StagingStore],
    operational_url: Callable[[], str],
    out: Console,
    err: Console,
) -> None:
    """Attach the commands."""
    for sub, name in ((policy_app, "policy"), (cases_app, "cases"), (tasks_app, "tasks"),
                      (custody_app, "custody"), (transport_app, "transport")):  # fmt: skip
        app.add_typer(sub, name=name)

    def _context(as_user: str | None, purpose: str | None) -> tuple[Any, AccessContext]:
        return context(operational_url(), as_user, purpose)

    @policy_app.command("check")
    def policy_check(
        path: Annotated[Path, typer.Argument(help="A policy file (YAML).")],
    ) -> None:
        """Load and check a policy: facts known, no protected trait, proxy or nationality."""
        from habeas.prioritize.facts import FACTS
        from habeas.prioritize.policy import load_policy

        p = load_policy(path)
        out.print(f"policy {p.name} OK: version {p.version}, {len(p.body.rules)} rules")
        for r in p.body.rules:
            facts = ", ".join(f"{f} ({FACTS[f].computed_from[0].split('.')[0]})"
                              for f in dict.fromkeys(r.when.facts()))  # fmt: skip
            tier = f", tier {r.tier}" if r.tier else ""
            out.print(f"  {r.id}: {r.points:+d}{tier} — {escape(r.description)} [{facts}]")

    @app.command("prioritize")
    def prioritize_cmd(
        policy: Annotated[
            Path | None, typer.Option(help="Policy file (default: built in).")
        ] = None,
        on: On = None,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Raise new index flags on open cases, then score every open case whose facts
        changed since its last score (audited)."""
        from habeas.cases.from_records import sync_flags
        from habeas.cases.walkthrough import DEFAULT_POLICY
        from habeas.prioritize.policy import load_policy
        from habeas.prioritize.service import prioritize_cases

        pol = load_policy(policy or DEFAULT_POLICY)
        engine, ctx = _context(as_user, purpose)
        with open_store() as st, refusals(err):
            raised = sync_flags(engine, st, ctx, _day(on))
            report = prioritize_cases(engine, st, ctx, pol, _day(on))
        if raised:
            out.print(f"{raised:,} new flag(s) from the index raised on open cases")
        tiers = ", ".join(f"tier {t}: {n:,}" for t, n in sorted(report.by_tier.items()))
        out.print(f"prioritized with {report.policy_version}: {report.scored:,} scored, "
                  f"{report.unchanged:,} unchanged ({tiers}); facts from "
                  f"{', '.join(report.sources)}")  # fmt: skip

    @cases_app.command("open")
    def cases_open(
        on: On = None,
        limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Open cases for persons with court records or active warrants (history from the
        court record; flags raised first)."""
        from habeas.cases.from_records import open_cases_from_index

        engine, ctx = _context(as_user, purpose)
        with open_store() as st, refusals(err):
            r = open_cases_from_index(engine, st, ctx, _day(on), limit=limit)
        out.print(f"opened {r.opened:,} cases ({r.already_open:,} already open), "
                  f"{r.steps:,} steps recorded from court records")  # fmt: skip
        for kind, n in sorted(r.refused.items()):
            out.print(f"  {n:,} stopped at {kind}")
        for line in r.examples[:3]:
            out.print(f"  e.g. {escape(line)}")

    @cases_app.command("list")
    def cases_list(
        tier: Annotated[int | None, typer.Option(help="Only this tier.")] = None,
        state: Annotated[str | None, typer.Option(help="Only this state.")] = None,
        limit: Annotated[int, typer.Option(min=1)] = 20,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Cases by tier and score, with the rules that fired."""
        from habeas.cases.service import list_cases
        from habeas.store.operational import session_factory

        engine, ctx = _context(as_user, purpose)
        with session_factory(engine).begin() as s, refusals(err):
            rows = list_cases(s, ctx, tier, state, limit)
        case_table(out, rows)

    @cases_app.command("show")
    def cases_show(
        case_id: Annotated[int, typer.Argument(help="The case id.")],
        on: On = None,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """State, instruments, gates with reasons, priority explanation, history."""
        from habeas.cases.service import show_case
        from habeas.store.operational import session_factory

        engine, ctx = _context(as_user, purpose)
        with refusals(err), session_factory(engine).begin() as s:
            view = show_case(s, ctx, case_id, _day(on))
        case_view(out, view)

    @cases_app.command("step")
    def cases_step(
        case_id: Annotated[int, typer.Argument(help="The case id.")],
        kind: Annotated[str, typer.Argument(help="The event, e.g. request_field_action.")],
        field: Annotated[
            list[str] | None, typer.Option("--set", help="An event field, as name=value.")
        ] = None,
        on: On = None,
        version: Annotated[int | None, typer.Option(help="Refuse if the case moved on.")] = None,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Record one step; refused (exit 3) with every reason when policy or law says no."""
        from habeas.cases.lifecycle import event_from_payload
        from habeas.cases.service import record_event
        from habeas.store.operational import session_factory

        if kind == "resolve_flag":
            raise HabeasError(
                "a flag is resolved with `habeas cases resolve-flag`, which also records it "
                "on the person's other cases and in the index"
            )
        data: dict[str, Any] = {"kind": kind, "on": _day(on).isoformat(), "actor": "",
                                "role": ""}  # fmt: skip
        for item in field or []:
            name, sep, value = item.partition("=")
            if not sep:
                raise HabeasError(f"--set {item!r}: expected name=value")
            data[name.strip()] = json.loads(value) if value in ("true", "false") else value
        try:
            event = event_from_payload(data)
        except (ValueError, TypeError) as exc:
            raise HabeasError(f"{kind}: {exc}") from None
        engine, ctx = _context(as_user, purpose)
        with refusals(err), session_factory(engine).begin() as s:
            after = record_event(s, ctx, case_id, event, version)
        out.print(f"case {case_id}: {kind} recorded; now {after.state}")

    @cases_app.command("counsel")
    def cases_counsel(
        case_id: Annotated[int, typer.Argument(help="The case id.")],
        counsel: Annotated[str, typer.Argument(help="The counsel's account.")],
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Record the person's counsel (who may then read the case for redress)."""
        from habeas.cases.service import assign_counsel
        from habeas.store.operational import session_factory

        engine, ctx = _context(as_user, purpose)
        with refusals(err), session_factory(engine)() as s:
            assign_counsel(s, ctx, case_id, counsel)
            s.commit()
        out.print(f"case {case_id}: counsel {counsel}")

    @cases_app.command("resolve-flag")
    def cases_resolve_flag(
        case_id: Annotated[int, typer.Argument(help="The case id.")],
        flag: Annotated[str, typer.Option(help="citizenship or lawful_status.")],
        reason: Annotated[str, typer.Option(help="Why the flag does not hold, in words.")],
        evidence: Annotated[str, typer.Option(help="The evidence examined.")],
        on: On = None,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """A supervisor resolves a flag (on every open case of the person, and the index)."""
        from habeas.cases.flags import resolve_flag

        engine, ctx = _context(as_user, purpose)
        with open_store() as st, refusals(err):
            done = resolve_flag(engine, st, ctx, case_id, flag, reason, evidence, _day(on))
        out.print(f"{flag} flag resolved on case(s) {', '.join(map(str, done))}")

    @tasks_app.command("due")
    def tasks_due_cmd(
        on: On = None,
        within: Annotated[int, typer.Option(min=0, help="Days ahead.")] = 14,
        limit: Annotated[int, typer.Option(min=1)] = 30,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Deadlines due soon, missed ones first."""
        from habeas.cases.service import tasks_due
        from habeas.store.operational import session_factory

        engine, ctx = _context(as_user, purpose)
        with refusals(err), session_factory(engine).begin() as s:
            rows = tasks_due(s, ctx, _day(on), within)
        table = Table(title=f"{len(rows):,} tasks due")
        for col in ("case", "person", "task", "due", "status", "detail"):
            table.add_column(col)
        for r in rows[:limit]:
            table.add_row(str(r["case_id"]), r["person_id"], r["kind"], str(r["due_on"]),
                          r["status"], escape(r["detail"]))  # fmt: skip
        out.print(table)

    @custody_app.command("place")
    def custody_place(
        case_id: Annotated[int, typer.Argument(help="The case id.")],
        facility: Annotated[str, typer.Argument(help="Facility code.")],
        reason: Annotated[str, typer.Option(help="Why.")] = "placement",
        on: On = None,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Place (or transfer) a person; refused when the facility is full."""
        from habeas.custody.facilities import place
        from habeas.store.operational import session_factory

        engine, ctx = _context(as_user, purpose)
        with refusals(err), session_factory(engine)() as s:
            p = place(s, ctx, case_id, facility, _day(on), reason)
            s.commit()
            out.print(f"case {case_id} held at {facility} from {p.started_on} ({p.reason})")

    @custody_app.command("occupancy")
    def custody_occupancy() -> None:
        """Beds held and free per facility (counts only)."""
        from habeas.custody.facilities import occupancy
        from habeas.store.operational import make_engine, session_factory

        with session_factory(make_engine(operational_url())).begin() as s:
            rows = occupancy(s)
        table = Table()
        for col in ("facility", "standard", "hub", "held", "capacity", "transfers in"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["code"], r["standard"], r["hub"], f"{r['held']:,}",
                          f"{r['capacity']:,}", f"{r['transfers_in']:,}")  # fmt: skip
        out.print(table)

    @custody_app.command("synthetic-facilities")
    def custody_synthetic() -> None:
        """Add the synthetic world's facilities (for the demo and tests, never real ones)."""
        from habeas.custody.facilities import ensure_facilities
        from habeas.store.operational import make_engine, session_factory

        with session_factory(make_engine(operational_url())).begin() as s:
            n = ensure_facilities(s)
        out.print(f"{n} synthetic facilities added")

    @transport_app.command("lock")
    def transport_lock(
        flight: Annotated[str, typer.Argument(help="The flight id.")],
        on: On = None,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Lock a flight's manifest: the removal gate is checked again for everyone on it,
        and whoever no longer passes is taken off with the reasons."""
        from habeas.custody.removal import lock_manifest
        from habeas.store.operational import session_factory

        engine, ctx = _context(as_user, purpose)
        with refusals(err), session_factory(engine)() as s:
            lock = lock_manifest(s, ctx, flight, _day(on))
            s.commit()
        out.print(f"manifest {flight} locked: {len(lock.kept)} on board list, "
                  f"{len(lock.taken_off)} taken off")  # fmt: skip
        for case_id, reasons in lock.taken_off.items():
            out.print(f"  case {case_id}: {escape('; '.join(reasons))}")

    @transport_app.command("plan")
    def transport_plan(
        on: On = None,
        flights: Annotated[
            Path | None,
            typer.Option(
                help="Flights CSV: flight,day,hub,country,capacity (default: a synthetic schedule)."
            ),
        ] = None,
        book_seats: Annotated[
            bool, typer.Option("--book", help="Put the seated people on the manifests.")
        ] = False,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Assign ready people to flights (min-cost flow; greedy baseline beside it)."""
        from habeas.custody.removal import book, plan_transport, read_flights
        from habeas.store.operational import session_factory

        schedule = read_flights(flights) if flights is not None else None
        engine, ctx = _context(as_user, purpose)
        day = _day(on)
        with refusals(err), session_factory(engine).begin() as s:
            report = plan_transport(s, ctx, day, schedule)
        transport(out, report)
        if book_seats:
            with refusals(err), session_factory(engine)() as s:
                refused = book(s, ctx, report, day)
                s.commit()
            out.print(f"booked {len(report.plan.assigned) - len(refused):,} on manifests")
            for line in refused:
                out.print(f"  refused: {escape(line)}")


def case_table(out: Console, rows: list[dict[str, Any]], explain: int = 3) -> None:
    """Cases by tier, the rules that fired; then the first ``explain`` cases' explanations
    (each rule's facts and the records behind them)."""
    table = Table()
    for col in ("case", "person", "state", "tier", "score", "rules that fired"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["id"]), r["person_id"], r["state"], str(r["tier"] or "-"),
                      f"{r['score']:.0f}" if r["score"] is not None else "-",
                      ", ".join(x["rule_id"] for x in r["explanation"]))  # fmt: skip
    out.print(table)
    for r in rows[:explain]:
        out.print(f"case {r['id']} ({r['policy_version']}):")
        for x in r["explanation"]:
            facts = ", ".join(f"{k}={v}" for k, v in x["facts"])
            out.print(f"  {x['points']:+4d} {x['rule_id']} {escape(f'[{facts}]')} records "
                      f"{', '.join(x['record_ids'])}", highlight=False)  # fmt: skip


def case_view(out: Console, v: CaseView) -> None:
    """One case in full."""
    c, f = v.case, v.file
    out.print(f"[bold]case {c['id']}[/] person {c['person_id']} — {c['state']} "
              f"(version {c['version']})")  # fmt: skip
    if c["priority_tier"] is not None:
        out.print(f"priority: tier {c['priority_tier']}, score {c['priority_score']:.0f} "
                  f"({c['policy_version']})")  # fmt: skip
        for x in c["priority_explanation"]:
            facts = ", ".join(f"{k}={val}" for k, val in x["facts"])
            out.print(f"  {x['rule_id']} {x['points']:+d}: {escape(x['description'])} "
                      f"{escape(f'[{facts}]')} records {', '.join(x['record_ids'])}")  # fmt: skip
    out.print("instruments:" if f.instruments else "instruments: none")
    for i in f.instruments:
        out.print(f"  {escape(i.describe())} — {i.status}")
    for s in f.stays:
        lifted = f", lifted {s.lifted_on} by {s.lifted_by}" if s.lifted_on else ""
        out.print(f"  stay {s.stay_id}: {s.authority}, {s.granted_on} ({escape(s.reason)}){lifted}")
    for fl in f.flags:
        state = (f"resolved by {fl.resolved_by}: {escape(fl.reason)} (evidence: "
                 f"{escape(fl.evidence)})" if not fl.open else "OPEN")  # fmt: skip
        out.print(f"  flag {fl.kind} ({escape(fl.detail)}) records {', '.join(fl.record_ids)}: "
                  f"{state}")  # fmt: skip
    for gate, reasons in v.gates.items():
        if reasons:
            out.print(f"{gate} gate: closed")
            for r in reasons:
                out.print(f"  - {escape(r)}")
        else:
            out.print(f"{gate} gate: open")
    out.print("history:")
    for h in v.history:
        basis = h["payload"].get("basis")
        extra = f" (basis {basis})" if basis else ""
        out.print(f"  {h['at']:%Y-%m-%d %H:%M} {h['kind']} by {h['actor']} ({h['role']}) → "
                  f"{h['state_after']}{extra}")  # fmt: skip
    for t in v.tasks:
        out.print(f"task {t['kind']} due {t['due_on']}: {t['status']}")


def transport(out: Console, r: TransportReport) -> None:
    """The plan beside the greedy baseline, and who is not ready and why."""
    out.print(f"transport: {len(r.ready):,} ready for removal, {len(r.flights):,} flights")
    for p in (r.plan, r.greedy):
        out.print(f"  {p.method:<14} objective {p.objective:,}  mean wait {p.mean_wait:.2f} days"
                  f"  transfers {p.transfers:,}  unassigned {len(p.unassigned):,}  "
                  f"({p.seconds * 1000:.0f} ms)")  # fmt: skip
    for why in sorted(set(r.plan.unassigned.values()))[:3]:
        out.print(f"  not on a flight: {escape(why)}")
    if r.not_ready:
        out.print("  not ready, by cause: " + ", ".join(
            f"{c} {n:,}" for c, n in r.not_ready.most_common()))  # fmt: skip
        for c, line in list(r.examples.items())[:3]:
            out.print(f"    e.g. {c}: {escape(line)}")
