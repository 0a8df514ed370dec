"""Opening cases from the person index: court records become the case's history.

A person with an immigration court record (or an active criminal warrant) gets a case.
The court record's charge, decision, appeal and stay are recorded as lifecycle events,
each citing the record it rests on, through the same authorized, gated, audited path as
any officer's step; the published index's citizenship and lawful-status flags are raised
by the first step, so a flagged person's case stops where the law says it must.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from habeas.cases import lifecycle as lc
from habeas.cases.instruments import APPEAL_DAYS
from habeas.cases.service import GateRefused, open_case, record_event
from habeas.governance.authz import AccessContext
from habeas.governance.record_access import readable_sources
from habeas.store.models import Case
from habeas.store.staging import StagingStore

STAY_AUTHORITY = {"BIA": "bia", "IJ": "immigration_judge", "federal court": "federal_court",
                  "DHS": "agency"}  # fmt: skip


def court_events(rec: dict[str, Any], today: date, actor: str, role: str) -> list[lc.Event]:
    """The lifecycle events an immigration court record shows (pure): charge, proceedings,
    decision, appeal, stay, each citing the record."""
    basis = rec["record_id"]
    start = rec.get("event_date") or rec.get("order_date") or today
    ev: list[lc.Event] = [
        lc.Charge(start, actor, role, basis=basis, instrument="nta",
                  reference=f"NTA-{rec['source_key']}", authority="DHS (notice to appear)"),
        lc.BeginProceedings(start, actor, role, basis=basis),
    ]  # fmt: skip
    order, decided = rec.get("order_type"), rec.get("order_date")
    if order in ("removal", "voluntary_departure") and decided:
        ev.append(lc.Decide(decided, actor, role, basis=basis,
                            outcome="removal_order" if order == "removal" else order,
                            authority="immigration judge",
                            departure_deadline=rec.get("departure_deadline")))  # fmt: skip
        appeal, appealed = rec.get("appeal_status") or "none", rec.get("appeal_date")
        if appeal == "waived":
            ev.append(lc.WaiveAppeal(appealed or decided, actor, role, basis=basis))
        elif appeal in ("pending", "dismissed"):
            ev.append(lc.FileAppeal(appealed or decided, actor, role, basis=basis))
            if appeal == "dismissed":
                ev.append(lc.DecideAppeal(appealed or decided, actor, role, basis=basis,
                                          outcome="dismissed"))  # fmt: skip
        elif decided + timedelta(days=APPEAL_DAYS) < today:
            ev.append(lc.FinalizeOrder(decided + timedelta(days=APPEAL_DAYS + 1), actor, role,
                                       basis=basis))  # fmt: skip
    if rec.get("stay_status") == "granted":
        ev.append(lc.GrantStay(rec.get("stay_date") or today, actor, role, basis=basis,
                               stay_id=f"stay-{rec['source_key']}",
                               authority=STAY_AUTHORITY.get(rec.get("stay_authority") or "",
                                                            "agency"),
                               reason=f"stay on record in {rec['source_key']}"))  # fmt: skip
    return ev


@dataclass
class OpenReport:
    """What opening cases from the index did."""

    opened: int = 0
    already_open: int = 0
    steps: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    flags_raised: int = 0


COURT_COLUMNS = ("record_id", "source_key", "event_date", "order_type", "order_date",
                 "departure_deadline", "appeal_status", "appeal_date", "stay_status",
                 "stay_date", "stay_authority")  # fmt: skip


def open_cases_from_index(
    session: Session, store: StagingStore, ctx: AccessContext, today: date,
    limit: int | None = None,
) -> OpenReport:  # fmt: skip
    """Open a case for every person with a court record or an active criminal warrant
    (the first ``limit``), seeding its history from the court record."""
    allowed = {s for s, w in readable_sources(store, ctx).items() if w == "allowed"}
    wanted = [s for s in ("eoir_cases", "usms_warrants") if s in allowed]
    if not wanted:
        from habeas.governance.identity import AccessDenied

        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not open cases "
            "from records: neither court records nor warrants may be read for "
            "this purpose"
        )
    persons = [r[0] for r in store.rows(
        """SELECT DISTINCT p.person_id FROM person_records p JOIN records r USING (record_id)
           WHERE (r.source = 'eoir_cases' AND ?)
              OR (r.source = 'usms_warrants' AND r.warrant_status = 'active' AND ?)
           ORDER BY 1""", ["eoir_cases" in wanted, "usms_warrants" in wanted])]  # fmt: skip
    if limit is not None:
        persons = persons[:limit]
    court: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if "eoir_cases" in wanted and persons:
        cols = ", ".join(f"r.{c}" for c in COURT_COLUMNS)
        for row in store.con.execute(
            f"""SELECT p.person_id, {cols} FROM person_records p JOIN records r USING (record_id)
                WHERE r.source = 'eoir_cases' AND p.person_id IN (SELECT unnest(?))
                ORDER BY r.order_date NULLS LAST, r.record_id""", [persons]
        ).fetchall():  # fmt: skip
            court[row[0]].append(dict(zip(COURT_COLUMNS, row[1:], strict=True)))
    report = OpenReport()
    have = set(session.execute(select(Case.person_id)).scalars())
    # one transaction: a refused step leaves its audit entry and stops that case's history
    for pid in persons:
        if pid in have:
            report.already_open += 1
            continue
        first = court[pid][0] if court[pid] else None
        basis = first["record_id"] if first else "active warrant"
        case = open_case(session, ctx, pid, today, basis=basis)
        report.opened += 1
        # the index's flags are raised by the first step (record_event reads them)
        steps: list[lc.Event] = [lc.BeginReview(today, ctx.user, ctx.role)]
        if first is not None:
            steps += court_events(first, today, ctx.user, ctx.role)
        for step in steps:
            try:
                record_event(session, ctx, case.id, step)
                report.steps += 1
            except GateRefused as exc:
                report.refused[step.kind] = report.refused.get(step.kind, 0) + 1
                if len(report.examples) < 5:
                    report.examples.append(f"case {case.id}: {exc}")
                break  # the rest of the history waits for the obstacle to clear
    report.flags_raised = sync_flags(session, ctx, today)
    return report


def sync_flags(session: Session, ctx: AccessContext, today: date) -> int:
    """Raise on every open case the published index's open citizenship and lawful-status
    flags the case does not carry yet (a step raises them too; this shows them on cases
    nobody has touched since). Returns the number of flags raised."""
    from habeas.cases.lifecycle import TERMINAL
    from habeas.cases.service import case_file, index_flags
    from habeas.store.models import IndexFlag

    flagged = set(session.execute(
        select(IndexFlag.person_id).where(IndexFlag.status == "open",
                                          IndexFlag.flag.in_(["citizenship", "lawful_status"]))
    ).scalars())  # fmt: skip
    if not flagged:
        return 0
    cases = list(session.execute(
        select(Case).where(Case.state.not_in([t.value for t in TERMINAL]),
                           Case.person_id.in_(sorted(flagged))).order_by(Case.id)
    ).scalars())  # fmt: skip
    raised = 0
    conn = session.connection()
    for case in cases:
        for ev in index_flags(conn, case.person_id, case_file(session, case), today):
            record_event(session, ctx, case.id, lc.RaiseFlag(
                today, ctx.user, ctx.role, basis=ev.basis, flag=ev.flag, detail=ev.detail,
                record_ids=ev.record_ids))  # fmt: skip
            raised += 1
    return raised
