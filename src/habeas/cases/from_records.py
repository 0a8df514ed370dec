"""Opening cases from the person index: court records become the case's history.

A person with an immigration court record (or an active criminal warrant) gets a case.
The court record's charge, decision, appeal and stay are recorded as lifecycle events,
each citing the record it rests on, through the same authorized, gated, audited path as
any officer's step; the index's citizenship and lawful-status flags are raised first, so
a flagged person's case stops where the law says it must.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, select

from habeas.cases import lifecycle as lc
from habeas.cases.instruments import APPEAL_DAYS
from habeas.cases.service import GateRefused, open_case, record_event
from habeas.governance.authz import AccessContext
from habeas.governance.record_access import readable_sources
from habeas.store.models import Case
from habeas.store.operational import session_factory
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
    engine: Engine, store: StagingStore, ctx: AccessContext, today: date,
    limit: int | None = None,
) -> OpenReport:  # fmt: skip
    """Open a case for every person with a court record or an active criminal warrant
    (the first ``limit``), seeding its history from the court record."""
    allowed = {s for s, w in readable_sources(store, ctx).items() if w == "allowed"}
    wanted = [s for s in ("eoir_cases", "usms_warrants") if s in allowed]
    if not wanted:
        return OpenReport()
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
    flags: dict[str, list[tuple[str, str, list[str]]]] = defaultdict(list)
    for pid, flag, detail, ids in store.rows(
        """SELECT person_id, flag, detail, record_ids FROM person_flags
           WHERE status = 'open' AND flag IN ('citizenship', 'lawful_status')
             AND person_id IN (SELECT unnest(?))""", [persons]):  # fmt: skip
        flags[pid].append((flag, detail, list(ids)))
    report = OpenReport()
    sessions = session_factory(engine)
    with sessions.begin() as s:
        have = set(s.execute(select(Case.person_id)).scalars())
    # One session, committed per 200 cases; a refused step commits its own audit entry
    # (and the accepted steps before it), so no `begin()` block wraps the loop.
    with sessions() as s:
        for n, pid in enumerate(persons):
            if n % 200 == 0:
                s.commit()
            if pid in have:
                report.already_open += 1
                continue
            first = court[pid][0] if court[pid] else None
            basis = first["record_id"] if first else "active warrant"
            case = open_case(s, ctx, pid, today, basis=basis)
            report.opened += 1
            steps: list[lc.Event] = [
                lc.RaiseFlag(today, ctx.user, ctx.role, basis=",".join(ids[:3]), flag=f,
                             detail=d, record_ids=tuple(ids))
                for f, d, ids in flags[pid]
            ]  # fmt: skip
            steps.append(lc.BeginReview(today, ctx.user, ctx.role))
            if first is not None:
                steps += court_events(first, today, ctx.user, ctx.role)
            for step in steps:
                try:
                    record_event(s, ctx, case.id, step)
                    report.steps += 1
                except GateRefused as exc:
                    report.refused[step.kind] = report.refused.get(step.kind, 0) + 1
                    if len(report.examples) < 5:
                        report.examples.append(f"case {case.id}: {exc}")
                    break  # the rest of the history waits for the obstacle to clear
        s.commit()
    report.flags_raised = sync_flags(engine, store, ctx, today)
    return report


def sync_flags(engine: Engine, store: StagingStore, ctx: AccessContext, today: date) -> int:
    """Raise on every open case the index's open citizenship and lawful-status flags the
    case does not carry yet (new records or a new resolution can flag a person after the
    case was opened). Returns the number of flags raised."""
    from habeas.cases.lifecycle import TERMINAL
    from habeas.cases.service import case_file

    sessions = session_factory(engine)
    with sessions() as s:
        cases = list(s.execute(
            select(Case).where(Case.state.not_in([t.value for t in TERMINAL]))
        ).scalars())  # fmt: skip
        if not cases:
            return 0
        index: dict[str, list[tuple[str, str, list[str]]]] = defaultdict(list)
        for pid, flag, detail, ids in store.rows(
            """SELECT person_id, flag, detail, record_ids FROM person_flags
               WHERE status = 'open' AND flag IN ('citizenship', 'lawful_status')
                 AND person_id IN (SELECT unnest(?))""",
            [sorted({c.person_id for c in cases})],
        ):  # fmt: skip
            index[pid].append((flag, detail, list(ids)))
        raised = 0
        for case in cases:
            if case.person_id not in index:
                continue
            carried = {f.kind for f in case_file(s, case).flags if f.open}
            for flag, detail, ids in index[case.person_id]:
                if flag in carried:
                    continue
                record_event(s, ctx, case.id, lc.RaiseFlag(
                    today, ctx.user, ctx.role, basis=",".join(ids[:3]), flag=flag,
                    detail=detail, record_ids=tuple(ids)))  # fmt: skip
                carried.add(flag)
                raised += 1
        s.commit()
    return raised
