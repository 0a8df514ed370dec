"""The case lifecycle as states and events: pure functions, no I/O.

``transition(case, event)`` returns the case after the event, or a ``Refused`` naming
every reason the event may not happen now ("stay granted 2026-03-02 by bia (…), not
lifted"), never a bare no. The gates of safeguards 6 and 7 live in ``habeas.cases.gates``
and are applied here to every enforcement step.

Every event carries two dates: the legal date it happened (``on``; None only for a fact a
cited record shows without its date) and the day it was recorded (``recorded``, set by
the store). Nothing is dated after its recording, nothing before the events it follows
(no decision before proceedings began, no final order before the decision, no removal
before the final order); every instrument carries its number as issued and its signer;
every fact a court made cites the court record or the order itself.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from habeas.cases import gates
from habeas.cases.casefile import (
    LIFECYCLE_ACTOR,
    TERMINAL,
    CaseFile,
    Refused,
    State,
)
from habeas.cases.events import *  # noqa: F403 - the events are the lifecycle's vocabulary
from habeas.cases.events import (
    AlternateOrderEffective,
    Event,
)
from habeas.cases.instruments import (
    sha256_problem,
)
from habeas.cases.steps.court import (
    admin_stay,
    alternate,
    decide,
    decide_appeal,
    decide_motion,
    decide_petition,
    deny_stay,
    file_appeal,
    finalize,
    grant_stay,
    lift_stay,
    motion,
    petition,
    proceedings,
    reconsider,
    waive,
)
from habeas.cases.steps.custody import check_in, custody, release
from habeas.cases.steps.field import approve, assign, encounter, refuse_request, request
from habeas.cases.steps.flags import raise_flag, resolve_flag
from habeas.cases.steps.removal import (
    close,
    departed,
    destination,
    fugitive,
    manifest,
    off_manifest,
    protection,
    ready,
    removed,
    report_rejected,
    reported,
)
from habeas.cases.steps.review import (
    add_instrument,
    begin_review,
    charge,
    issue_warrant,
    withdraw,
)

# ---- transitions ------------------------------------------------------------------------

S = State
FROM: dict[str, frozenset[State] | None] = {
    "begin_review": frozenset({S.IDENTIFIED}),
    "charge": frozenset({S.UNDER_REVIEW}),
    "request_field_action": frozenset({S.WARRANT_ISSUED, S.FINAL_ORDER, S.FUGITIVE}),
    "approve_field_action": frozenset({S.FIELD_REQUESTED}),
    "refuse_field_action": frozenset({S.FIELD_REQUESTED}),
    "assign": frozenset({S.APPROVED, S.ENCOUNTERED}),
    "record_encounter": frozenset({S.ASSIGNED}),
    "decide_custody": frozenset({S.ENCOUNTERED}),
    "begin_proceedings": frozenset({S.CHARGED, S.WARRANT_ISSUED, S.CUSTODY_DECIDED, S.RELEASED}),
    "decide": frozenset({S.IN_PROCEEDINGS}),
    "waive_appeal": frozenset({S.APPEAL_WINDOW}),
    "file_appeal": frozenset({S.APPEAL_WINDOW}),
    "decide_appeal": frozenset({S.APPEAL_PENDING}),
    "finalize_order": frozenset({S.APPEAL_WINDOW, S.CHARGED, S.WARRANT_ISSUED, S.CUSTODY_DECIDED}),
    "mark_ready": frozenset({S.FINAL_ORDER, S.CUSTODY_DECIDED}),
    "add_to_manifest": frozenset({S.READY_FOR_REMOVAL}),
    "take_off_manifest": frozenset({S.ON_MANIFEST}),
    "confirm_removal": frozenset({S.ON_MANIFEST}),
    "mark_fugitive": frozenset({S.FINAL_ORDER, S.RELEASED, S.CUSTODY_DECIDED, S.ENCOUNTERED}),
    "release": frozenset(
        {
            S.ENCOUNTERED,
            S.CUSTODY_DECIDED,
            S.IN_PROCEEDINGS,
            S.APPEAL_WINDOW,
            S.APPEAL_PENDING,
            S.FINAL_ORDER,
            S.READY_FOR_REMOVAL,
        }
    ),
}
"""The states each event may happen in; None (absent) means any state but a terminal one."""

SUPERVISOR_ONLY = frozenset(
    {
        "approve_field_action",
        "refuse_field_action",
        "resolve_flag",
        "issue_warrant",
        "grant_administrative_stay",
    }
)
SYSTEM_ONLY = frozenset({"alternate_order_effective"})
"""Events the law makes happen (recorded by the lifecycle, or by an officer noting them)."""


def _basis_reasons(e: Event) -> list[str]:
    """A court's act cites the court: an ingested court record (``basis``) or the order
    itself (``document`` with its ``document_sha256``)."""
    out = []
    problem = sha256_problem(e.document_sha256)
    if problem:
        out.append(problem)
    if e.document_sha256 and not e.document.strip():
        out.append("a document hash needs the document's reference (document)")
    if e.document.strip() and not e.document_sha256:
        out.append(
            f"document {e.document[:70]!r} is attached without its SHA-256 (document_sha256)"
        )
    if type(e).court_fact and not e.basis.strip() and not e.document.strip():
        out.append(
            f"{e.kind.replace('_', ' ')} is a court's act: cite the ingested court "
            "record (basis) or attach the order (document and document_sha256); an "
            "officer's word is not a court's"
        )
    return out


def _dependencies(case: CaseFile, e: Event) -> list[tuple[str, date | None]]:
    """The dated events ``e`` follows (label, date): it may not be dated before them."""
    k, order, req = e.kind, case.order, case.field_request
    decided = order.decided_on if order is not None else None
    if k == "begin_proceedings":
        return [("charge", case.charged_on)]
    if k == "decide":
        return [("charge", case.charged_on), ("start of proceedings", case.proceedings_on)]
    if k in ("waive_appeal", "file_appeal", "file_motion_to_reopen", "file_motion_to_reconsider"):
        return [("decision", decided)]
    if k == "finalize_order":
        return [("decision", decided), ("charge", case.charged_on)]
    if k == "decide_appeal":
        return [("appeal", case.appeal.filed_on if case.appeal else None)]
    if k == "decide_motion":
        return [("motion", case.motion.filed_on if case.motion else None)]
    if k == "mark_fugitive":
        return [("final order", case.final_on)]
    if k in ("file_petition_for_review", "mark_ready", "grant_administrative_stay"):
        return [("final order", case.final_on)]
    if k == "decide_petition":
        return [("petition for review", case.petition.filed_on if case.petition else None)]
    if k == "issue_warrant":
        if getattr(e, "instrument", "") == "i205":
            return [("final order", case.final_on)]
        return [("charge", case.charged_on)]
    if k in ("approve_field_action", "refuse_field_action"):
        return [("request for field action", req.requested_on if req else None)]
    if k == "assign":
        return [("approval", req.approved_on if req else None)]
    if k == "record_encounter":
        return [("assignment", case.assigned_on)]
    if k == "decide_custody":
        return [("encounter", case.encountered_on)]
    if k == "add_to_manifest":
        return [("final order", case.final_on), ("readiness for removal", case.ready_on)]
    if k == "confirm_removal":
        return [("final order", case.final_on), ("manifest entry", case.manifest_on)]
    if k in ("release", "check_in"):
        return [("custody decision", case.custody_on), ("encounter", case.encountered_on)]
    if k == "resolve_flag":
        flag = getattr(e, "flag", "")
        return [("flag", f.raised_on) for f in case.flags if f.kind == flag and f.open]
    if k == "withdraw_instrument":
        ref = getattr(e, "reference", "")
        return [("instrument's issue", i.issued_on) for i in case.instruments if i.reference == ref]
    if k == "lift_stay":
        sid = getattr(e, "stay_id", "")
        return [("stay", s.granted_on) for s in case.stays if s.stay_id == sid]
    return []


def _date_reasons(case: CaseFile, e: Event) -> list[str]:
    """Nothing dated after its recording; nothing dated before what it follows."""
    assert e.on is not None
    out = []
    if e.recorded is not None and e.on > e.recorded:
        out.append(
            f"dated {e.on}, after {e.recorded}, the day it is recorded: a step is "
            "recorded on or after the day it happened, never before"
        )
    for label, then in _dependencies(case, e):
        if then is not None and e.on < then:
            out.append(f"dated {e.on}, before the {label} of {then} it follows")
    return out


def transition(case: CaseFile, event: Event) -> CaseFile | Refused:
    """The case after ``event``, or every reason it may not happen now."""
    kind = event.kind
    reasons: list[str] = []
    if case.state in TERMINAL:
        return Refused(kind, case.state, (f"the case is {case.state}: no further steps",))
    allowed = FROM.get(kind)
    if allowed is not None and case.state not in allowed:
        expected = ", ".join(sorted(allowed))
        reasons.append(f"not possible in state {case.state} (only in: {expected})")
    if kind in SUPERVISOR_ONLY and event.role != "supervisor":
        reasons.append(f"only a supervisor may {kind.replace('_', ' ')} (not a {event.role})")
    if kind in SYSTEM_ONLY and event.role not in ("system", "case_officer", "supervisor"):
        reasons.append(
            f"{kind.replace('_', ' ')} is recorded by the lifecycle or a case "
            f"officer, not a {event.role}"
        )
    reasons.extend(_basis_reasons(event))
    if event.on is None:
        if not type(event).undated_ok:
            reasons.append(f"{kind.replace('_', ' ')} carries the date it happened (on)")
            return Refused(kind, case.state, tuple(dict.fromkeys(reasons)))
        if not event.basis.strip():
            reasons.append(
                "a step whose date is not known cites the record that shows it "
                "(basis): a date is never borrowed"
            )
    else:
        reasons.extend(_date_reasons(case, event))
    if event.enforcement:
        reasons.extend(gates.flag_reasons(case, ("citizenship",)))
        if case.protected_on is not None and event.on is not None and event.on < case.protected_on:
            reasons.append(
                f"dated {event.on}, before {case.protected_on}, when a stay, flag or "
                "protection was recorded: an enforcement step is not backdated past it"
            )
    handler = _HANDLERS.get(kind)
    if handler is None:  # pragma: no cover - every kind has a handler (tested)
        return Refused(kind, case.state, (f"no rule for event {kind}",))
    result: CaseFile = handler(case, event, reasons)
    if reasons:
        return Refused(kind, case.state, tuple(dict.fromkeys(reasons)))
    assert result is not None
    return result


Handler = Any  # (case, event, reasons) -> CaseFile | None: appends to reasons when refusing


def due_effects(case: CaseFile, today: date) -> list[Event]:
    """Events the law makes happen by ``today`` that the history does not show yet: the
    alternate order of removal, the day after a missed voluntary departure deadline."""
    order = case.order
    if case.state in TERMINAL or order is None or order.kind != "voluntary_departure":
        return []
    deadline = order.departure_deadline
    if deadline is None or case.final_on is None or today <= deadline:
        return []
    if case.appeal is not None and case.appeal.pending:
        return []
    why = (
        f"voluntary departure deadline {deadline} passed with no verified departure: the "
        "alternate order of removal takes effect (8 CFR 1240.26(d))"
    )
    return [
        AlternateOrderEffective(
            deadline + timedelta(days=1), LIFECYCLE_ACTOR, "system", basis=why, deadline=deadline
        )
    ]


_HANDLERS: dict[str, Handler] = {
    "begin_review": begin_review,
    "charge": charge,
    "issue_warrant": issue_warrant,
    "add_instrument": add_instrument,
    "withdraw_instrument": withdraw,
    "request_field_action": request,
    "approve_field_action": approve,
    "refuse_field_action": refuse_request,
    "assign": assign,
    "record_encounter": encounter,
    "decide_custody": custody,
    "begin_proceedings": proceedings,
    "decide": decide,
    "waive_appeal": waive,
    "file_appeal": file_appeal,
    "decide_appeal": decide_appeal,
    "finalize_order": finalize,
    "grant_stay": grant_stay,
    "grant_administrative_stay": admin_stay,
    "deny_stay": deny_stay,
    "lift_stay": lift_stay,
    "file_motion_to_reopen": motion,
    "file_motion_to_reconsider": reconsider,
    "decide_motion": decide_motion,
    "file_petition_for_review": petition,
    "decide_petition": decide_petition,
    "alternate_order_effective": alternate,
    "set_destination": destination,
    "grant_protection": protection,
    "mark_ready": ready,
    "add_to_manifest": manifest,
    "take_off_manifest": off_manifest,
    "confirm_removal": removed,
    "verify_departure": departed,
    "report_departure": reported,
    "reject_departure_report": report_rejected,
    "mark_fugitive": fugitive,
    "release": release,
    "close": close,
    "check_in": check_in,
    "raise_flag": raise_flag,
    "resolve_flag": resolve_flag,
}


def replay(case: CaseFile, events: list[Event]) -> CaseFile:
    """The case after each stored event in turn (stored events were accepted once; a
    refusal on replay means the rules changed and is raised, naming the event)."""
    for i, event in enumerate(events):
        result = transition(case, event)
        if isinstance(result, Refused):
            raise ValueError(
                f"stored event {i + 1} ({event.kind} on {event.on}) no longer applies: {result}"
            )
        case = result
    return case
