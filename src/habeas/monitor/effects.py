"""What one event does, in the caller's transaction, with the event as its basis.

- A verified exit (an airline manifest, a land-border exit, a consular verification)
  closes the person's open case as departure verified, saying what it means for the
  order; a person on a flight's manifest is taken off it first. Through the lifecycle,
  every open field assignment is cancelled with the reason, the placement ends and the
  check-ins of alternatives to detention end with the case.
- A self-report marks the case "departure reported", which holds field action (the
  field gate says so, and open assignments are cancelled) and opens a verification
  task with its deadline.
- An entry after a verified departure reopens nothing: it raises a review task citing
  both records. An exit older than an entry already received acts on nothing either.

Each case step is the lifecycle's, authorized for the feed's account and audited; the
event's own audit entry names the event, the person, the case and what was done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from habeas.cases import lifecycle as lc
from habeas.cases.casefile import TERMINAL, State
from habeas.cases.deadlines import VERIFY_REPORT_DAYS
from habeas.cases.event_store import case_file
from habeas.cases.service import record_event
from habeas.governance import audit
from habeas.governance.authz import AccessContext
from habeas.monitor.feeds import Feed
from habeas.monitor.intake import Checked
from habeas.monitor.rules import (
    Link,
    dated_before,
    entry_after_departure,
    executed_order,
    exit_is_stale,
)
from habeas.resolve.explain import steps_of
from habeas.store.models import Case, EventReview

EXIT_KINDS = frozenset({"exit", "removal_verification"})


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Effect:
    """What the event did: the inbox status, the case, a sentence, and any review."""

    status: str  # applied | no_case | no_effect | review | unmatched
    case_id: int | None = None
    text: str = ""
    steps: list[str] = field(default_factory=list)
    review: str | None = None


_OPEN_CASE = text(
    "SELECT id, state FROM cases WHERE person_id = :p AND state NOT IN ("
    + ", ".join(f"'{s.value}'" for s in sorted(TERMINAL))  # the lifecycle's, not retyped
    + ") ORDER BY id DESC LIMIT 1"
)
_LAST_CASE = text("SELECT id, state FROM cases WHERE person_id = :p ORDER BY id DESC LIMIT 1")
_LAST_ENTRY = text(
    """SELECT max(occurred_at) FROM monitor_inbox WHERE person_id = :p AND kind = 'entry'"""
)
_VERIFYING_EXIT = text(
    """SELECT source, event_id FROM monitor_inbox WHERE person_id = :p AND case_id = :c
         AND status = 'applied' AND kind IN ('exit', 'removal_verification')
       ORDER BY committed_at DESC LIMIT 1"""
)
_ASSIGNMENTS = text("SELECT count(*) FROM assignments WHERE case_id = :c AND status = 'open'")
_CHECK_INS = text(
    "SELECT count(*) FROM tasks WHERE case_id = :c AND kind = 'check_in' AND status = 'open'"
)


def _cite(feed: Feed, event: Checked) -> str:
    d = feed.declaration
    where = event.record.get("location")
    return (
        f"{d.name} event {event.event_id} ({d.agency}; {d.legal_authority}), "
        f"{event.occurred_at:%Y-%m-%d %H:%M} UTC" + (f" at {where}" if where else "")
    )


def _match(link: Link) -> str:
    if link.probability is None or link.weight is None or link.record_id is None:
        return f"linked to person {link.person_id}: " + "; ".join(link.reasons)
    return (
        f"matched to person {link.person_id} through record {link.record_id} "
        f"(p={link.probability:.4f}, weight {link.weight:.1f})"
    )


_BIRTHS = text("SELECT DISTINCT dob FROM index_records WHERE person_id = :p AND dob IS NOT NULL")


def review(
    session: Session,
    feed: Feed,
    event: Checked,
    kind: str,
    detail: str,
    person_id: str | None,
    case_id: int | None,
    cites: list[str],
) -> None:
    """Open a review task about the event."""
    session.add(
        EventReview(
            source=feed.name,
            event_id=event.event_id,
            kind=kind,
            status="open",
            person_id=person_id,
            case_id=case_id,
            detail=detail[:4000],
            cites=json.dumps(cites),
            opened_at=_now(),
        )
    )


def apply(
    session: Session, ctx: AccessContext, feed: Feed, event: Checked, link: Link, today: date
) -> Effect:
    """Do what the event, linked as ``link`` says, may do; return what was done."""

    me = f"{feed.name}:{event.event_id}"
    if not link.linked:
        why = "; ".join(link.reasons)
        rivals = ", ".join(f"{p} p={q}" for p, q in link.rivals) or "none"
        candidates = [
            f"person:{p}"
            for p in dict.fromkeys(
                [*([link.person_id] if link.person_id else []), *(p for p, _ in link.rivals)]
            )
        ]
        cites = [me, *(r for r in [link.record_id] if r), *candidates]
        review(
            session,
            feed,
            event,
            "match",
            f"not linked: {why} (candidates: {rivals})",
            link.person_id,
            None,
            cites,
        )
        status = "review" if link.person_id else "unmatched"
        return Effect(status, None, f"sent to review: {why}", review="match")
    person = str(link.person_id)
    conn = session.connection()
    on = min(event.occurred_at.date(), today)
    cite = _cite(feed, event)
    if event.kind == "entry":
        last = conn.execute(_LAST_CASE, {"p": person}).one_or_none()
        if last is None:
            return Effect("no_case", None, "entry recorded; the person has no case")
        case = session.get(Case, int(last.id))
        assert case is not None
        file = case_file(session, case)
        if file.state == State.DEPARTURE_VERIFIED and entry_after_departure(on, file.departed_on):
            exit_ = conn.execute(_VERIFYING_EXIT, {"p": person, "c": case.id}).one_or_none()
            earlier = f"{exit_.source}:{exit_.event_id}" if exit_ else f"case {case.id}'s record"
            detail = (
                f"entry on {on} ({cite}) after the departure verified on "
                f"{file.departed_on} ({earlier}); nothing was reopened: decide whether "
                "a new case is warranted"
            )
            review(
                session,
                feed,
                event,
                "entry_after_departure",
                detail,
                person,
                case.id,
                [me, earlier],
            )
            return Effect("review", case.id, detail, review="entry_after_departure")
        if file.departure_reported_on is not None and file.state not in TERMINAL:
            detail = (
                f"entry on {on} ({cite}) after a departure reported on "
                f"{file.departure_reported_on}: the report may be false; set it aside "
                "or verify it"
            )
            review(session, feed, event, "entry_after_departure", detail, person, case.id, [me])
            return Effect("review", case.id, detail, review="entry_after_departure")
        return Effect("no_effect", case.id, "entry recorded")
    row = conn.execute(_OPEN_CASE, {"p": person}).one_or_none()
    if event.kind in EXIT_KINDS:
        last_entry = conn.execute(_LAST_ENTRY, {"p": person}).scalar()
        if isinstance(last_entry, str):
            last_entry = datetime.fromisoformat(last_entry)
        if exit_is_stale(event.occurred_at, last_entry):
            detail = (
                f"exit at {event.occurred_at:%Y-%m-%d %H:%M} ({cite}) arrived after an "
                f"entry at {last_entry:%Y-%m-%d %H:%M}: the person may be back; "
                "nothing was closed"
            )
            review(
                session,
                feed,
                event,
                "exit_before_entry",
                detail,
                person,
                row.id if row else None,
                [me],
            )
            return Effect("review", row.id if row else None, detail, review="exit_before_entry")
    if row is None:
        last = conn.execute(_LAST_CASE, {"p": person}).one_or_none()
        if last is not None and last.state == State.DEPARTURE_VERIFIED.value:
            return Effect(
                "no_effect", int(last.id), f"departure already verified on case {last.id}"
            )
        return Effect(
            "no_case", None, f"{event.kind.replace('_', ' ')} recorded; the person has no open case"
        )
    case_id = int(row.id)
    case = session.get(Case, case_id)
    assert case is not None
    before = case_file(session, case)
    births = [str(b) for b in conn.execute(_BIRTHS, {"p": person}).scalars()]
    contradiction = dated_before(event.occurred_at.date(), births, before)
    if contradiction:
        detail = f"{event.kind.replace('_', ' ')} {cite}: {contradiction}; nothing was closed"
        review(session, feed, event, "date_contradiction", detail, person, case_id, [me])
        return Effect("review", case_id, detail, review="date_contradiction")
    steps: list[str] = []
    if event.kind == "self_report":
        if before.departure_reported_on is not None:
            return Effect(
                "no_effect", case_id, f"a departure is already reported on case {case_id}"
            )
        assignments = conn.execute(_ASSIGNMENTS, {"c": case_id}).scalar() or 0
        record_event(
            session,
            ctx,
            case_id,
            lc.ReportDeparture(on, "", "", basis="", report=f"self-report {cite}; {_match(link)}"),
        )
        steps.append("report_departure")
        due = on + timedelta(days=VERIFY_REPORT_DAYS)
        said = (
            f"case {case_id}: departure reported; field action held"
            + (f", {assignments} assignment(s) cancelled" if assignments else "")
            + f"; verification due {due}"
        )
        return Effect("applied", case_id, said, steps)
    assignments = conn.execute(_ASSIGNMENTS, {"c": case_id}).scalar() or 0
    check_ins = conn.execute(_CHECK_INS, {"c": case_id}).scalar() or 0
    parts = [f"case {case_id}"]
    if before.state == State.ON_MANIFEST:
        record_event(
            session,
            ctx,
            case_id,
            lc.TakeOffManifest(on, "", "", reason=f"departure verified by {cite}"),
        )
        steps.append("take_off_manifest")
        parts.append(f"taken off flight {before.flight}")
    meaning = executed_order(before)
    proof = f"exit record {cite}; {_match(link)}" + (f"; {meaning}" if meaning else "")
    record_event(session, ctx, case_id, lc.VerifyDeparture(on, "", "", proof=proof))
    steps.append("verify_departure")
    parts.append(f"departure verified ({meaning or 'no order to execute'})")
    if assignments:
        parts.append(f"{assignments} field assignment(s) cancelled")
    if check_ins:
        parts.append(f"{check_ins} check-in(s) ended")
    return Effect("applied", case_id, "; ".join(parts), steps)


def audit_event(
    session: Session, ctx: AccessContext, feed: Feed, event: Checked, link: Link, effect: Effect
) -> None:
    """The event's one audit entry: the event, the person and case, what it did, why."""
    resources = [f"event:{feed.name}:{event.event_id}"]
    if link.person_id:
        resources.append(f"person:{link.person_id}")
    if effect.case_id is not None:
        resources.append(f"case:{effect.case_id}")
    how = _match(link) if link.linked else "not linked"
    audit.append(
        session,
        user=ctx.user,
        role=ctx.role,
        purpose=ctx.purpose,
        action="monitor_event",
        resources=resources,
        decision="allow",
        detail=f"{event.kind} {effect.status}: {effect.text}; {how}"[:2000],
        request_id=ctx.request_id or None,
    )


def explanation(compared: dict[str, Any] | None, model_json: str) -> str | None:
    """The link's waterfall as JSON (comparison, level, values, weight)."""
    if not compared:
        return None

    model = json.loads(model_json)
    steps = steps_of(model, compared)
    return json.dumps(
        [
            {
                "comparison": s.comparison,
                "level": s.level,
                "values": s.values,
                "weight": round(s.weight, 3),
                "tf": round(s.tf_adjustment, 3),
            }
            for s in steps
        ]
    )
