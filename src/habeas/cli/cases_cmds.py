"""`habeas policy | prioritize | cases | tasks | custody | transport`: the case lifecycle
from the terminal. Thin: every command calls the same service functions as the demo."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from habeas.app.cases.schemas import STEP_KINDS, StepRequest, case_json, step_fields
from habeas.app.choices import StateName, StepKind
from habeas.cases.documents import MAX_DOCUMENT
from habeas.cli.access import AsUser, Json, Purpose, acting
from habeas.cli.context import out
from habeas.cli.render import emit_json
from habeas.errors import HabeasError
from habeas.prioritize.facts import FACTS
from habeas.prioritize.policy import DEFAULT_POLICY, load_policy
from habeas.prioritize.reach import check_reach

if TYPE_CHECKING:
    from habeas.cases.queries import CaseView
    from habeas.custody.removal import TransportReport

FlagName = Literal["citizenship", "lawful_status"]

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


def _fields(items: list[str] | None) -> dict[str, Any]:
    """``--set name=value`` pairs (true/false become booleans)."""
    data: dict[str, Any] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise HabeasError(f"--set {item!r}: expected name=value")
        data[name.strip()] = json.loads(value) if value in ("true", "false") else value
    return data


commands = typer.Typer()
"""This module's top-level commands (``habeas.cli.main`` adds them to its own)."""
GROUPS: tuple[tuple[typer.Typer, str], ...] = (
    (policy_app, "policy"),
    (cases_app, "cases"),
    (tasks_app, "tasks"),
    (custody_app, "custody"),
    (transport_app, "transport"),
)
"""This module's command groups and their names."""


@policy_app.command("check")
def policy_check(
    path: Annotated[
        Path | None, typer.Argument(help="A policy file (YAML); default: the one in force.")
    ] = None,
) -> None:
    """Load and check a policy: facts known, no protected trait, proxy or nationality;
    every tier reachable by some facts (the lowest included, each shown with an example)
    and a score that can go down as well as up (exit 4 otherwise)."""

    p = load_policy(path or DEFAULT_POLICY)
    out.print(f"policy {p.name} OK: version {p.version}, {len(p.body.rules)} rules")
    for r in p.body.rules:
        facts = ", ".join(
            f"{f} ({FACTS[f].computed_from[0].split('.')[0]})"
            for f in dict.fromkeys(r.when.facts())
        )
        tier = f", tier {r.tier}" if r.tier else ""
        out.print(f"  {r.id}: {r.points:+d}{tier} — {escape(r.description)} [{facts}]")
    reach = check_reach(p)
    for level, example in reach.tiers.items():
        shown = ", ".join(f"{k}={v}" for k, v in (example or {}).items()) or "no fact known"
        reached = f"reached by {shown}" if example is not None else "UNREACHABLE"
        out.print(f"  tier {level}: {reached}")
    out.print(f"  scores range from {reach.min_score} to {reach.max_score}")
    for problem in reach.problems:
        out.print(f"policy check FAILED: {escape(problem)}")
    if not reach.ok:
        raise typer.Exit(code=4)


@commands.command("prioritize")
def prioritize_cmd(
    policy: Annotated[Path | None, typer.Option(help="Policy file (default: built in).")] = None,
    on: On = None,
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Raise new index flags on open cases, then score every open case whose facts
    changed since its last score (audited)."""
    a, who = acting(as_user)
    raised, report = a.cases.prioritize(who, purpose, _day(on), policy)
    if raised:
        out.print(f"{raised:,} new flag(s) from the index raised on open cases")
    tiers = ", ".join(f"tier {t}: {n:,}" for t, n in sorted(report.by_tier.items()))
    out.print(
        f"prioritized with {report.policy_version}: {report.scored:,} scored, "
        f"{report.unchanged:,} unchanged ({tiers}); facts from "
        f"{', '.join(report.sources)}"
    )


@cases_app.command("open")
def cases_open(
    person_id: Annotated[
        str | None, typer.Argument(help="One person (default: from court records).")
    ] = None,
    basis: Annotated[str, typer.Option(help="The record or document it rests on.")] = "",
    on: On = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Open a case on a person, or cases for every person with a court record or an
    active warrant (history from the court record; flags raised by the first step)."""
    a, who = acting(as_user)
    if person_id is not None:
        got = a.cases.open_case(who, purpose, person_id, _day(on), basis)
        out.print(f"case {got.case_id} opened on person {got.person_id}: {got.state}")
        return
    r = a.cases.open_from_records(who, purpose, _day(on), limit)
    out.print(
        f"opened {r.opened:,} cases ({r.already_open:,} already open), "
        f"{r.steps:,} steps recorded from court records"
    )
    for kind, n in sorted(r.refused.items()):
        out.print(f"  {n:,} stopped at {kind}")
    for line in r.examples[:3]:
        out.print(f"  e.g. {escape(line)}")


@cases_app.command("list")
def cases_list(
    tier: Annotated[int | None, typer.Option(help="Only this tier.")] = None,
    state: Annotated[StateName | None, typer.Option(help="Only this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    client: Annotated[str, typer.Option(help="Counsel: the person (id) you represent.")] = "",
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """Cases by tier and score, with the rules that fired (counsel: --client)."""
    a, who = acting(as_user)
    got = a.cases.list_cases(who, purpose, tier, state, limit, offset, client=client)
    if as_json:
        emit_json(out, got)
        return
    case_table(out, [c.model_dump() for c in got.cases])


@cases_app.command("date-review")
def cases_date_review(
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """Court records set aside because their dates contradict each other (not seeded
    into a case), each with every reason."""
    a, who = acting(as_user)
    rows = a.cases.date_review(who, purpose, limit, offset)
    if as_json:
        emit_json(out, rows)
        return
    out.print(f"{len(rows)} court record(s) with contradictory dates")
    for r in rows:
        out.print(
            escape(f"  {r.record_id} (person {r.person_id}): " + "; ".join(r.reasons)),
            highlight=False,
        )


@cases_app.command("show")
def cases_show(
    case_id: Annotated[int, typer.Argument(help="The case id.")],
    on: On = None,
    client: Annotated[str, typer.Option(help="Counsel: the person (id) you represent.")] = "",
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """State, instruments, gates with reasons, priority explanation, history."""

    a, who = acting(as_user)
    view = a.cases.show(who, purpose, case_id, _day(on), client=client)
    if as_json:
        emit_json(out, case_json(view))
        return
    case_view(out, view)


@cases_app.command("steps")
def cases_steps() -> None:
    """Every step a case may record, with the fields each takes (--set name=value)."""

    for kind in STEP_KINDS:
        fields = ", ".join(f"{n} ({t})" for n, t in step_fields(kind).items())
        out.print(f"{kind}: {fields or 'no fields'}", highlight=False)


@cases_app.command("step")
def cases_step(
    case_id: Annotated[int, typer.Argument(help="The case id.")],
    kind: Annotated[
        StepKind,
        typer.Argument(help="The step (`habeas cases steps` lists each one's fields)."),
    ],
    field: Annotated[
        list[str] | None, typer.Option("--set", help="A step field, as name=value.")
    ] = None,
    on: On = None,
    version: Annotated[int | None, typer.Option(help="Refuse if the case moved on.")] = None,
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Record one step; refused (exit 3) with every reason when policy or law says no."""

    a, who = acting(as_user)
    req = StepRequest(kind=kind, on=_day(on), fields=_fields(field), version=version)
    done = a.cases.step(who, purpose, case_id, req)
    out.print(f"case {case_id}: {kind} recorded; now {done.state} (version {done.version})")


@cases_app.command("attach")
def cases_attach(
    case_id: Annotated[int, typer.Argument(help="The case id.")],
    path: Annotated[Path, typer.Argument(help="The document (an order, a signed form).")],
    name: Annotated[str, typer.Option(help="Its name on the case (default: the file's).")] = "",
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Keep a document on the case; a step cites it with --set document_sha256=HASH."""

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise HabeasError(f"{path}: cannot read the document ({exc.strerror})") from None
    if size > MAX_DOCUMENT:
        raise HabeasError(
            f"{path}: {size:,} bytes; a case keeps documents of {MAX_DOCUMENT:,} bytes at most"
        )
    a, who = acting(as_user)
    doc = a.cases.attach(who, purpose, case_id, name or path.name, path.read_bytes())
    out.print(
        f"case {case_id}: document {doc.name} sha256 {doc.sha256}"
        + ("" if doc.new else " (already attached)"),
        highlight=False,
    )


@cases_app.command("verify-document")
def cases_verify_document(
    case_id: Annotated[int, typer.Argument(help="The case id.")],
    sha256: Annotated[str, typer.Argument(help="The attached document's SHA-256.")],
    issuer: Annotated[str, typer.Option(help="agency, immigration_judge, bia or federal_court.")],
    docket: Annotated[str, typer.Option(help="The docket reference checked.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Verify a document against the court's docket (a supervisor who did not attach
    it): only then may a court's act cite it, with that court as its authority."""
    a, who = acting(as_user)
    doc = a.cases.verify_document(who, purpose, case_id, sha256, issuer, docket)
    said = (
        f"case {case_id}: document {doc.name} verified as {doc.issuer}'s "
        f"(docket {doc.docket_reference}) by {doc.verified_by}"
    )
    out.print(said, highlight=False)


@cases_app.command("counsel")
def cases_counsel(
    case_id: Annotated[int, typer.Argument(help="The case id.")],
    counsel: Annotated[str, typer.Argument(help="The counsel's account.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Record the person's counsel (who may then read the case for redress)."""
    a, who = acting(as_user)
    a.cases.counsel(who, purpose, case_id, counsel)
    out.print(f"case {case_id}: counsel {counsel}")


@cases_app.command("resolve-flag")
def cases_resolve_flag(
    case_id: Annotated[int, typer.Argument(help="The case id.")],
    flag: Annotated[FlagName, typer.Option(help="The flag to resolve.")],
    reason: Annotated[str, typer.Option(help="Why the flag does not hold, in words.")],
    evidence: Annotated[str, typer.Option(help="The evidence examined.")],
    on: On = None,
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """A supervisor resolves a flag (on every open case of the person, and the index)."""
    a, who = acting(as_user)
    done = a.cases.resolve_flag(who, purpose, case_id, flag, reason, evidence, _day(on))
    out.print(f"{flag} flag resolved on case(s) {', '.join(map(str, done.cases))}")


@tasks_app.command("due")
def tasks_due_cmd(
    on: On = None,
    within: Annotated[int, typer.Option(min=0, max=3650, help="Days ahead.")] = 14,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 30,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """Deadlines due soon, missed ones first."""
    a, who = acting(as_user)
    rows = a.cases.tasks(who, purpose, _day(on), within, limit, offset)
    if as_json:
        emit_json(out, rows)
        return
    table = Table(title=f"{len(rows):,} tasks due")
    for col in ("case", "person", "task", "due", "status", "detail"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            str(r.case_id), r.person_id, r.kind, str(r.due_on), r.status, escape(r.detail)
        )
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
    a, who = acting(as_user)
    p = a.custody.place(who, purpose, case_id, facility, _day(on), reason)
    out.print(f"case {case_id} held at {facility} from {p.started_on} ({escape(p.reason)})")


@custody_app.command("occupancy")
def custody_occupancy(
    as_user: AsUser = None, purpose: Purpose = None, as_json: Json = False
) -> None:
    """Beds held and free per facility (counts only)."""
    a, who = acting(as_user)
    rows = a.custody.occupancy(who, purpose)
    if as_json:
        emit_json(out, rows)
        return
    table = Table()
    for col in ("facility", "standard", "hub", "held", "capacity", "transfers in"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.code, r.standard, r.hub, f"{r.held:,}", f"{r.capacity:,}", f"{r.transfers_in:,}"
        )
    out.print(table)


@custody_app.command("synthetic-facilities")
def custody_synthetic(as_user: AsUser = None, purpose: Purpose = None) -> None:
    """Add the synthetic world's facilities (for the demo and tests, never real ones)."""
    a, who = acting(as_user)
    n = a.custody.synthetic_facilities(who, purpose)
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
    a, who = acting(as_user)
    lock = a.custody.lock(who, purpose, flight, _day(on))
    out.print(
        f"manifest {flight} locked: {len(lock.kept)} on board list, {len(lock.taken_off)} taken off"
    )
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
    a, who = acting(as_user)
    if not book_seats:
        transport(out, a.custody.plan(who, purpose, _day(on), flights))
        return
    report, booking = a.custody.book(who, purpose, _day(on), flights)
    transport(out, report)
    out.print(f"booked {booking.booked:,} on manifests")
    for line in booking.refused:
        out.print(f"  refused: {escape(line)}")


def case_table(out: Console, rows: list[dict[str, Any]], explain: int = 3) -> None:
    """Cases by tier, the rules that fired; then the first ``explain`` cases' explanations
    (each rule's facts and the records behind them)."""
    table = Table()
    for col in ("case", "person", "state", "tier", "score", "rules that fired"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["person_id"],
            r["state"],
            str(r["tier"] or "-"),
            f"{r['score']:.0f}" if r["score"] is not None else "-",
            ", ".join(x["rule_id"] for x in r["explanation"]),
        )
    out.print(table)
    for r in rows[:explain]:
        out.print(f"case {r['id']} ({r['policy_version']}):")
        for x in r["explanation"]:
            facts = ", ".join(f"{k}={v}" for k, v in x["facts"])
            out.print(
                f"  {x['points']:+4d} {x['rule_id']} {escape(f'[{facts}]')} records "
                f"{', '.join(x['record_ids'])}",
                highlight=False,
            )


def case_view(out: Console, v: CaseView) -> None:
    """One case in full."""
    c, f = v.case, v.file
    out.print(
        f"[bold]case {c['id']}[/] person {c['person_id']} — {c['state']} (version {c['version']})"
    )
    if c["priority_tier"] is not None:
        out.print(
            f"priority: tier {c['priority_tier']}, score {c['priority_score']:.0f} "
            f"({c['policy_version']})"
        )
        for x in c["priority_explanation"]:
            facts = ", ".join(f"{k}={val}" for k, val in x["facts"])
            out.print(
                f"  {x['rule_id']} {x['points']:+d}: {escape(x['description'])} "
                f"{escape(f'[{facts}]')} records {', '.join(x['record_ids'])}"
            )
    out.print("instruments:" if v.instruments else "instruments: none")
    for i in v.instruments:
        until = f", expires {i['expires_on']}" if i["expires_on"] else ""
        digest = f", document sha256 {i['document_sha256'][:16]}…" if i["document_sha256"] else ""
        shown = f", shown by record {i['basis']}" if i["basis"] else ""
        out.print(
            escape(
                f"  {i['form']} no. {i['number']}: issued {i['issued_on']} by "
                f"{i['issuing_authority']}, "
                f"{'recorded' if i['basis'] else 'signed'} by {i['signed_by']}{until}{digest}"
                f"{shown} — {i['status']}"
            ),
            highlight=False,
        )
    for s in f.stays:
        lifted = f", lifted {s.lifted_on} by {s.lifted_by}" if s.lifted_on else ""
        when = s.granted_on or "(date not on the record)"
        out.print(escape(f"  stay {s.stay_id}: {s.authority}, {when} ({s.reason}){lifted}"))
    for fl in f.flags:
        state = (
            f"resolved by {fl.resolved_by}: {escape(fl.reason)} (evidence: {escape(fl.evidence)})"
            if not fl.open
            else "OPEN"
        )
        out.print(
            f"  flag {fl.kind} ({escape(fl.detail)}) records {', '.join(fl.record_ids)}: {state}"
        )
    for gate, reasons in v.gates.items():
        if reasons:
            out.print(f"{gate} gate: closed")
            for r in reasons:
                out.print(f"  - {escape(r)}")
        else:
            out.print(f"{gate} gate: open")
    _case_history(out, v)
    for t in v.tasks:
        out.print(f"task {t['kind']} due {t['due_on']}: {t['status']}")


def _case_history(out: Console, v: CaseView) -> None:
    """The case's steps with their legal dates and authority, then the refused attempts."""
    out.print("history (legal date · step · recorded by · outcome · authority · basis):")
    for h in v.history:
        parts = [f"{k} {h[k]}" for k in ("outcome", "authority", "flight") if h[k]]
        parts += [f"{k} {val}" for k, val in h["detail"].items()]
        if h["basis"]:
            parts.append(f"basis {h['basis']}")
        if h["document"]:
            parts.append(f"document {h['document']} (sha256 {h['document_sha256'][:16]}…)")
        out.print(
            escape(
                f"  #{h['seq']} {h['on']} {h['kind']} → {h['state_after']}; recorded "
                f"{h['recorded_at']:%Y-%m-%d %H:%M} by {h['actor']} ({h['role']})"
                + "".join(f"; {p}" for p in parts)
            ),
            highlight=False,
        )
    if v.refused:
        out.print(f"refused attempts ({len(v.refused)}):")
    for attempt in v.refused:
        out.print(
            escape(
                f"  {attempt['at']:%Y-%m-%d %H:%M} {attempt['kind']}"
                + (f" dated {attempt['on']}" if attempt["on"] else "")
                + f" by {attempt['actor']} ({attempt['role']}), refused by "
                + f"{attempt['refused_by']}: "
                + "; ".join(attempt["reasons"])
            ),
            highlight=False,
        )


def transport(out: Console, r: TransportReport) -> None:
    """The plan beside the greedy baseline, and who is not ready and why."""
    out.print(f"transport: {len(r.ready):,} ready for removal, {len(r.flights):,} flights")
    for p in (r.plan, r.greedy):
        out.print(
            f"  {p.method:<14} objective {p.objective:,}  mean wait {p.mean_wait:.2f} days"
            f"  transfers {p.transfers:,}  unassigned {len(p.unassigned):,}  "
            f"({p.seconds * 1000:.0f} ms)"
        )
    for why in sorted(set(r.plan.unassigned.values()))[:3]:
        out.print(f"  not on a flight: {escape(why)}")
    if r.not_ready:
        out.print(
            "  not ready, by cause: "
            + ", ".join(f"{c} {n:,}" for c, n in r.not_ready.most_common())
        )
        for c, line in list(r.examples.items())[:3]:
            out.print(f"    e.g. {c}: {escape(line)}")
