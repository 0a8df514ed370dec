"""Opening cases from the person index: court records become the case's history.

A person with an immigration court record (or an active criminal warrant) gets a case.
The court record's charge, decision, appeal and stay are recorded as lifecycle events,
each citing the record it rests on, through the same authorized, gated, audited path as
any officer's step; the published index's citizenship and lawful-status flags are raised
by the first step, so a flagged person's case stops where the law says it must.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from habeas.cases import lifecycle as lc
from habeas.cases.casefile import TERMINAL
from habeas.cases.event_store import case_file
from habeas.cases.instruments import APPEAL_DAYS
from habeas.cases.service import index_flags, open_case, record_event
from habeas.errors import AccessDenied, GateRefused
from habeas.governance.authz import AccessContext
from habeas.sources.access import readable_sources
from habeas.store.models import Case, CourtRecordReview, IndexFlag
from habeas.store.staging import StagingStore

STAY_AUTHORITY = {
    "BIA": "bia",
    "IJ": "immigration_judge",
    "federal court": "federal_court",
    "DHS": "agency",
}
"""A court feed's names for who granted or lifted a stay. A name the feed uses that is not
here is taken as the highest authority: nothing less may lift the stay it names."""


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def contradictions(rec: dict[str, Any], today: date) -> list[str]:
    """Why a court record's dates cannot all be true (pure): dates after today, a
    decision before its charge, an appeal before its decision, facts that need a date
    the record does not give. A record with any goes to review, not into a case."""
    out: list[str] = []
    charged, decided = _day(rec.get("charge_date")), _day(rec.get("order_date"))
    appealed, stayed = _day(rec.get("appeal_date")), _day(rec.get("stay_date"))
    deadline = _day(rec.get("departure_deadline"))
    for name, day in (
        ("charge_date", charged),
        ("order_date", decided),
        ("appeal_date", appealed),
        ("stay_date", stayed),
    ):
        if day is not None and day > today:
            out.append(f"{name} {day} is after today ({today})")
    if charged and decided and decided < charged:
        out.append(f"the decision of {decided} is dated before the charge of {charged}")
    order = rec.get("order_type") or "none"
    appeal = rec.get("appeal_status") or "none"
    stay = rec.get("stay_status") or "none"
    if order in ("removal", "voluntary_departure", "relief_granted") and decided is None:
        out.append(f"a decision ({order}) without its date")
    if appeal != "none" and order == "none":
        out.append(f"an appeal ({appeal}) of no decision")
    if decided and appealed and appealed < decided:
        out.append(f"the appeal is dated {appealed}, before the decision of {decided}")
    if appeal in ("pending", "dismissed", "sustained") and appealed is None:
        out.append(f"an appeal {appeal} without its date")
    if order == "voluntary_departure" and (deadline is None or (decided and deadline <= decided)):
        out.append(
            f"voluntary departure with the deadline {deadline or 'missing'}, not after "
            f"the decision of {decided}"
        )
    if stay in ("lifted", "denied") and stayed is None:
        out.append(f"a stay {stay} without the date it was")
    return out


def court_events(rec: dict[str, Any], today: date, actor: str, role: str) -> list[lc.Event]:
    """The lifecycle events an immigration court record shows (pure), each citing the
    record and dated only by a field that means that event's date: the charge by the
    notice's date (or undated), proceedings undated (no field gives the filing), the
    decision by its date, the appeal by its date, a stay as the record shows it. An
    order no appeal was recorded against is final the day after its window closes (8 CFR
    1241.1(c)), a date the law sets from the decision's."""
    basis = rec["record_id"]
    charged, decided = _day(rec.get("charge_date")), _day(rec.get("order_date"))
    appealed, stayed = _day(rec.get("appeal_date")), _day(rec.get("stay_date"))
    court = rec.get("location") or ""
    judge = f"immigration judge, {court}" if court else "immigration judge (court not on record)"
    ev: list[lc.Event] = [
        lc.Charge(
            charged,
            actor,
            role,
            basis=basis,
            instrument="nta",
            authority="DHS (notice to appear, as the court record shows it)",
        ),
        lc.BeginProceedings(None, actor, role, basis=basis),
    ]
    order = rec.get("order_type")
    if order in ("removal", "voluntary_departure", "relief_granted") and decided:
        ev.append(
            lc.Decide(
                decided,
                actor,
                role,
                basis=basis,
                outcome="removal_order" if order == "removal" else order,
                authority=judge,
                departure_deadline=_day(rec.get("departure_deadline")),
            )
        )
        appeal = rec.get("appeal_status") or "none"
        if appeal == "waived" and appealed:
            ev.append(lc.WaiveAppeal(appealed, actor, role, basis=basis))
        elif appeal == "pending":
            ev.append(lc.FileAppeal(appealed, actor, role, basis=basis))
        elif appeal in ("dismissed", "sustained"):
            # the record's one appeal date is the Board's decision; the filing is undated
            ev.append(lc.FileAppeal(None, actor, role, basis=basis))
            ev.append(lc.DecideAppeal(appealed, actor, role, basis=basis, outcome=appeal))
        elif order != "relief_granted" and decided + timedelta(days=APPEAL_DAYS) < today:
            law = (
                f"no appeal on the record within the {APPEAL_DAYS} days after the decision "
                f"of {decided}: final when the period ran out (8 CFR 1241.1(c))"
            )
            ev.append(
                lc.FinalizeOrder(
                    decided + timedelta(days=APPEAL_DAYS + 1), actor, role, basis=basis, reason=law
                )
            )
    stay = rec.get("stay_status") or "none"
    named = str(rec.get("stay_authority") or "")
    authority = STAY_AUTHORITY.get(named, "federal_court")
    why = f"stay on court record {rec['source_key']} (authority {named or 'not given'})"
    if stay == "granted":
        ev.append(
            lc.GrantStay(
                stayed,
                actor,
                role,
                basis=basis,
                stay_id=f"stay-{basis}",
                authority=authority,
                reason=why,
            )
        )
    elif stay == "lifted":
        # the record dates the lift, not the grant, and names the lifting authority
        ev.append(
            lc.GrantStay(
                None,
                actor,
                role,
                basis=basis,
                stay_id=f"stay-{basis}",
                authority=authority,
                reason=why,
            )
        )
        ev.append(
            lc.LiftStay(
                stayed, actor, role, basis=basis, stay_id=f"stay-{basis}", authority=authority
            )
        )
    elif stay == "denied":
        denied = f"stay denied on court record {rec['source_key']}"
        ev.append(lc.DenyStay(stayed, actor, role, basis=basis, authority=authority, reason=denied))
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
    to_review: int = 0
    review_examples: list[str] = field(default_factory=list)


COURT_COLUMNS = (
    "record_id",
    "source_key",
    "charge_date",
    "location",
    "order_type",
    "order_date",
    "departure_deadline",
    "appeal_status",
    "appeal_date",
    "stay_status",
    "stay_date",
    "stay_authority",
)


def open_cases_from_index(
    session: Session,
    store: StagingStore,
    ctx: AccessContext,
    today: date,
    limit: int | None = None,
) -> OpenReport:
    """Open a case for every person with a court record or an active criminal warrant
    (the first ``limit``), seeding its history from the court record."""
    allowed = {s for s, w in readable_sources(store, ctx).items() if w == "allowed"}
    wanted = [s for s in ("eoir_cases", "usms_warrants") if s in allowed]
    if not wanted:
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not open cases "
            "from records: neither court records nor warrants may be read for "
            "this purpose"
        )
    persons = [
        r[0]
        for r in store.rows(
            """SELECT DISTINCT p.person_id FROM person_records p JOIN records r USING (record_id)
           WHERE (r.source = 'eoir_cases' AND ?)
              OR (r.source = 'usms_warrants' AND r.warrant_status = 'active' AND ?)
           ORDER BY 1""",
            ["eoir_cases" in wanted, "usms_warrants" in wanted],
        )
    ]
    if limit is not None:
        persons = persons[:limit]
    court: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if "eoir_cases" in wanted and persons:
        cols = ", ".join(f"r.{c}" for c in COURT_COLUMNS)
        for row in store.execute(
            f"""SELECT p.person_id, {cols} FROM person_records p JOIN records r USING (record_id)
                WHERE r.source = 'eoir_cases' AND p.person_id IN (SELECT unnest(?))
                ORDER BY r.order_date NULLS LAST, r.record_id""",
            [persons],
        ).fetchall():
            court[row[0]].append(dict(zip(COURT_COLUMNS, row[1:], strict=True)))
    report = OpenReport()
    have = set(session.execute(select(Case.person_id)).scalars())
    # one transaction: a refused step leaves its audit entry and stops that case's history
    for pid in persons:
        if pid in have:
            report.already_open += 1
            continue
        first = court[pid][0] if court[pid] else None
        problems = contradictions(first, today) if first is not None else []
        if first is not None and problems:
            _to_review(session, first["record_id"], pid, problems)
            report.to_review += 1
            if len(report.review_examples) < 3:
                report.review_examples.append(f"{first['record_id']}: {'; '.join(problems)}")
            continue
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


def _to_review(session: Session, record_id: str, person_id: str, problems: list[str]) -> None:
    """Set a court record aside for review, with why its dates cannot all be true."""
    now = datetime.now(UTC).replace(tzinfo=None)
    row = session.get(CourtRecordReview, record_id)
    if row is None:
        session.add(
            CourtRecordReview(
                record_id=record_id,
                person_id=person_id,
                reasons=json.dumps(problems),
                found_at=now,
                status="open",
            )
        )
    else:
        row.reasons, row.found_at = json.dumps(problems), now


def sync_flags(session: Session, ctx: AccessContext, today: date) -> int:
    """Raise on every open case the published index's open citizenship and lawful-status
    flags the case does not carry yet (a step raises them too; this shows them on cases
    nobody has touched since). Returns the number of flags raised."""

    flagged = set(
        session.execute(
            select(IndexFlag.person_id).where(
                IndexFlag.status == "open", IndexFlag.flag.in_(["citizenship", "lawful_status"])
            )
        ).scalars()
    )
    if not flagged:
        return 0
    cases = list(
        session.execute(
            select(Case)
            .where(
                Case.state.not_in([t.value for t in TERMINAL]), Case.person_id.in_(sorted(flagged))
            )
            .order_by(Case.id)
        ).scalars()
    )
    raised = 0
    conn = session.connection()
    for case in cases:
        for ev in index_flags(conn, case.person_id, case_file(session, case), today):
            record_event(
                session,
                ctx,
                case.id,
                lc.RaiseFlag(
                    today,
                    ctx.user,
                    ctx.role,
                    basis=ev.basis,
                    flag=ev.flag,
                    detail=ev.detail,
                    record_ids=ev.record_ids,
                ),
            )
            raised += 1
    return raised
