"""The demo's walk through the case lifecycle: cases opened from court records, priorities
explained, gates refusing with their reasons, a few people carried to a removal flight by
the people whose job each step is, a flag resolved, deadlines, and a transport plan.

Every step goes through the same service functions the CLI uses (Cedar per step, the
lifecycle's gates, the audit log); nothing here is privileged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from habeas.cases import gates
from habeas.cases import lifecycle as lc
from habeas.cases.flags import resolve_flag
from habeas.cases.from_records import OpenReport, open_cases_from_index
from habeas.cases.service import GateRefused, case_file, list_cases, record_event, tasks_due
from habeas.custody.facilities import SYNTHETIC_FACILITIES, ensure_facilities, place
from habeas.custody.removal import TransportReport, book, plan_transport
from habeas.governance.authz import AccessContext
from habeas.governance.identity import AccessDenied
from habeas.governance.walkthrough import demo_accounts
from habeas.prioritize.policy import load_policy
from habeas.prioritize.service import PrioritizeReport, prioritize_cases
from habeas.store.models import Case
from habeas.store.operational import session_factory
from habeas.store.staging import StagingStore

OFFICER = AccessContext("demo_officer", "case_officer", "case_review")
SUPERVISOR = AccessContext("demo_supervisor", "supervisor", "field_operation")
SUPERVISOR_REVIEW = AccessContext("demo_supervisor", "supervisor", "case_review")
FIELD = AccessContext("demo_field", "field_officer", "field_operation")
CUSTODY = AccessContext("demo_custody", "custody_officer", "custody")
DEFAULT_POLICY = Path(__file__).parents[1] / "prioritize" / "policies" / "default.yaml"


@dataclass
class CaseTour:
    """What the walk did, for the demo to print."""

    opened: OpenReport
    priorities: PrioritizeReport
    top: list[dict[str, Any]]
    refusals: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    resolved_flag: str = ""
    tasks: list[dict[str, Any]] = field(default_factory=list)
    transport: TransportReport | None = None
    booked: int = 0


def _try(engine: Engine, ctx: AccessContext, case_id: int, event: lc.Event) -> str | None:
    """Apply a step; None if done, else the refusal (policy or law) as one line."""
    try:
        with session_factory(engine).begin() as s:
            record_event(s, ctx, case_id, event)
        return None
    except (GateRefused, AccessDenied) as exc:
        return str(exc)


def _nationality(store: StagingStore, person_id: str) -> str:
    """The person's nationality from their records: used for the travel document and the
    destination only (never for priority)."""
    rows = store.rows(
        """SELECT r.nationality, count(*) FROM person_records p JOIN records r USING (record_id)
           WHERE p.person_id = ? AND r.nationality IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1
           LIMIT 1""",
        [person_id],
    )
    return str(rows[0][0]) if rows else ""


def carry_to_removal(
    engine: Engine, store: StagingStore, case: Case, today: date, facility: str
) -> list[str]:
    """One final-order case from field action to ready-for-removal, each step by its role.
    Returns the refusals met (empty when the person is ready)."""
    cid, d = case.id, today
    country = _nationality(store, case.person_id)
    steps: list[tuple[AccessContext, lc.Event]] = [
        (SUPERVISOR, lc.IssueWarrant(d, "", "", instrument="i205", reference=f"I205-{cid}",
                                     authority="Field Office Director (synthetic)")),
        (OFFICER, lc.RequestFieldAction(d, "", "")),
        (SUPERVISOR, lc.ApproveFieldAction(d, "", "")),
        (SUPERVISOR, lc.Assign(d, "", "", team="team-1")),
        (FIELD, lc.RecordEncounter(d, "", "", outcome="arrested")),
        (CUSTODY, lc.DecideCustody(d, "", "", custody="detained")),
        (CUSTODY, lc.AddInstrument(d, "", "", instrument="travel_document",
                                   reference=f"TD-{cid}", authority=f"consulate of {country}",
                                   country=country, expires_on=d + timedelta(days=90))),
        (CUSTODY, lc.AddInstrument(d, "", "", instrument="medical_clearance",
                                   reference=f"MED-{cid}", authority="health service (synthetic)",
                                   expires_on=d + timedelta(days=30))),
        (CUSTODY, lc.SetDestination(d, "", "", country=country)),
        (CUSTODY, lc.MarkReady(d, "", "")),
    ]  # fmt: skip
    for ctx, event in steps:
        if event.kind == "decide_custody":
            refused = _try(engine, ctx, cid, event)
            if refused:
                return [refused]
            with session_factory(engine).begin() as s:
                place(s, CUSTODY, cid, facility, d, reason="arrest")
            continue
        refused = _try(engine, ctx, cid, event)
        if refused:
            return [refused]
    return []


def walk_cases(
    engine: Engine, store: StagingStore, today: date, carry: int = 12,
    limit: int | None = None, note: Callable[[str], None] | None = None,
) -> CaseTour:  # fmt: skip
    """Open, prioritize, refuse, carry, resolve, plan: the lifecycle on the synthetic world."""
    say = note or (lambda s: None)
    demo_accounts(engine)
    with session_factory(engine).begin() as s:
        ensure_facilities(s)
    say("open cases from court records")
    opened = open_cases_from_index(engine, store, OFFICER, today, limit=limit)
    say("prioritize")
    policy = load_policy(DEFAULT_POLICY)
    priorities = prioritize_cases(engine, store, OFFICER, policy, today)
    with session_factory(engine).begin() as s:
        top = list_cases(s, OFFICER, limit=5)
    tour = CaseTour(opened, priorities, top)
    with session_factory(engine)() as s:
        finals = list(s.execute(select(Case).where(Case.state == "final_order")
                                .order_by(Case.priority_tier, Case.priority_score.desc(),
                                          Case.id)).scalars())  # fmt: skip
        stayed = [c for c in s.execute(select(Case).where(Case.state.in_(
            ["final_order", "appeal_pending", "appeal_window"]))).scalars()]  # fmt: skip
        flagged = list(s.execute(select(Case).where(Case.state == "under_review")).scalars())
    say("gates")
    with session_factory(engine)() as s:
        with_stay = next((c for c in stayed if case_file(s, c).stays), None)
        with_flag = next((c for c in flagged if any(f.open for f in case_file(s, c).flags)), None)
    if with_stay is not None:  # a stay: the person may not be made ready for removal
        r = _try(engine, CUSTODY, with_stay.id, lc.MarkReady(today, "", ""))
        tour.refusals.append(r or f"case {with_stay.id}: (no refusal)")
    if with_flag is not None:
        charge = lc.Charge(today, "", "", instrument="nta", reference=f"NTA-{with_flag.id}")
        r = _try(engine, OFFICER, with_flag.id, charge)
        tour.refusals.append(r or f"case {with_flag.id}: (no refusal)")
    with session_factory(engine)() as s:
        executable = [c for c in finals
                      if not gates.hold_reasons(case_file(s, c), today)
                      and not any(f.open for f in case_file(s, c).flags)]  # fmt: skip
    if executable:  # no approval yet; and an officer may not approve
        c = executable[-1]
        _try(engine, SUPERVISOR, c.id, lc.IssueWarrant(today, "", "", instrument="i205",
                                                       reference=f"I205-{c.id}"))  # fmt: skip
        _try(engine, OFFICER, c.id, lc.RequestFieldAction(today, "", ""))
        r = _try(engine, OFFICER, c.id, lc.Assign(today, "", "", team="team-2"))
        tour.refusals.append(r or f"case {c.id}: (no refusal)")
        r = _try(engine, OFFICER, c.id, lc.ApproveFieldAction(today, "", ""))
        tour.refusals.append(r or f"case {c.id}: (no refusal)")
    say("carry cases to removal")
    facilities = [row[0] for row in SYNTHETIC_FACILITIES]
    for i, c in enumerate(executable[: min(carry, len(executable) - 1)]):
        problems = carry_to_removal(engine, store, c, today, facilities[i % len(facilities)])
        tour.carried.append(f"case {c.id}: " + ("ready for removal" if not problems
                                                else problems[0]))  # fmt: skip
    if with_flag is not None:
        flag = next(f.kind for f in _open_flags(engine, with_flag))
        resolve_flag(engine, store, SUPERVISOR_REVIEW, with_flag.id, flag,
                     "the records were checked against the State Department passport file",
                     "passport application file (synthetic)", today)  # fmt: skip
        tour.resolved_flag = f"case {with_flag.id}: {flag} flag resolved by demo_supervisor"
    with session_factory(engine).begin() as s:
        tour.tasks = tasks_due(s, CUSTODY, today, within_days=60)
    say("transport plan")
    with session_factory(engine).begin() as s:
        tour.transport = plan_transport(s, CUSTODY, today + timedelta(days=1))
    with session_factory(engine)() as s:
        refused = book(s, CUSTODY, tour.transport, today + timedelta(days=1))
        s.commit()
    tour.booked = len(tour.transport.plan.assigned) - len(refused)
    return tour


def _open_flags(engine: Engine, case: Case) -> list[lc.Flag]:
    with session_factory(engine)() as s:
        fresh = s.get(Case, case.id)
        assert fresh is not None
        return [f for f in case_file(s, fresh).flags if f.open]
