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

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from habeas.cases import gates
from habeas.cases.casefile import (
    LIFECYCLE_ACTOR,
    TERMINAL,
    CaseFile,
    FieldRequest,
    Flag,
    Refused,
    State,
)
from habeas.cases.events import *  # noqa: F403 - the events are the lifecycle's vocabulary
from habeas.cases.events import (
    AddInstrument,
    AddToManifest,
    AlternateOrderEffective,
    Assign,
    Charge,
    CheckIn,
    Close,
    Decide,
    DecideAppeal,
    DecideCustody,
    DecideMotion,
    DecidePetition,
    DenyStay,
    Event,
    FileMotionToReconsider,
    FileMotionToReopen,
    FilePetitionForReview,
    GrantAdministrativeStay,
    GrantProtection,
    GrantStay,
    IssueWarrant,
    LiftStay,
    MarkFugitive,
    RaiseFlag,
    RecordEncounter,
    RefuseFieldAction,
    RejectDepartureReport,
    Release,
    ReportDeparture,
    ResolveFlag,
    SetDestination,
    TakeOffManifest,
    VerifyDeparture,
    WithdrawInstrument,
)
from habeas.cases.instruments import (
    CHARGING_KINDS,
    FORMS,
    STAY_AUTHORITIES,
    STAY_RANK,
    SUMMARY_KINDS,
    WARRANT_KINDS,
    Appeal,
    Instrument,
    Motion,
    Order,
    Stay,
    number_problem,
    sha256_problem,
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


def _instrument(event: IssueWarrant | AddInstrument | Charge, kind: str) -> Instrument:
    return Instrument(
        kind=kind,  # type: ignore[arg-type]
        reference=event.reference.strip(),
        issuing_authority=event.authority.strip(),
        issued_on=event.on,
        expires_on=getattr(event, "expires_on", None),
        country=getattr(event, "country", ""),
        signed_by=event.actor,
        document_sha256=event.document_sha256,
        basis=event.basis,
    )


def _document_reasons(
    case: CaseFile, e: Charge | IssueWarrant | AddInstrument, kind: str, reasons: list[str]
) -> None:
    """An instrument is a document: its number as issued (unless a cited court record
    shows it without one), its issuing office, no duplicate, and for a warrant a
    supervisory signer and no other active warrant of its kind."""
    form = FORMS.get(kind, kind)
    if e.reference.strip() or not (isinstance(e, Charge) and e.basis):
        problem = number_problem(e.reference.strip())
        if problem:
            reasons.append(f"{form}: {problem} (no number is ever made up)")
    if not e.authority.strip():
        reasons.append(f"{form}: name the office or authority that issued it (authority)")
    for i in case.instruments:
        if e.reference.strip() and i.reference == e.reference.strip() and i.kind == kind:
            reasons.append(
                f"{form} number {i.reference} is already on the case "
                f"({i.describe()}): a duplicate is refused"
            )
    if kind in WARRANT_KINDS:
        if e.role != "supervisor":
            reasons.append(
                f"a {form} is signed by an authorized supervisory officer, not a {e.role}"
            )
        day = e.on or date.min
        active = [i for i in case.instruments if i.kind == kind and i.valid_on(day)]
        if active and not any(i.reference == e.reference.strip() for i in active):
            reasons.append(f"{active[0].describe()} is active: withdraw it before issuing another")
    expires = getattr(e, "expires_on", None)
    if expires is not None and e.on is not None and expires < e.on:
        reasons.append(f"{form}: expires {expires}, before it was issued on {e.on}")


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


def _on(e: Event) -> date:
    """The event's date (``transition`` refused an undated event whose handler needs one)."""
    assert e.on is not None
    return e.on


def _begin_review(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    return replace(case, state=S.UNDER_REVIEW)


def _charge(case: CaseFile, e: Charge, reasons: list[str]) -> CaseFile:
    if e.instrument not in CHARGING_KINDS:
        reasons.append(f"{e.instrument!r} is not a charging document ({', '.join(CHARGING_KINDS)})")
        return case
    _document_reasons(case, e, e.instrument, reasons)
    doc = _instrument(e, e.instrument)
    if e.instrument in SUMMARY_KINDS:  # the charging document is itself the order
        if e.on is None:
            reasons.append(f"{FORMS[e.instrument]} is itself an order: it needs its date")
            return case
        order = Order("removal_order", e.on, doc.issuing_authority, summary=True)
        return replace(
            case,
            state=S.CHARGED,
            instruments=(*case.instruments, doc),
            order=order,
            final_on=e.on,
            charged_on=e.on,
        )
    return replace(case, state=S.CHARGED, instruments=(*case.instruments, doc), charged_on=e.on)


def _issue_warrant(case: CaseFile, e: IssueWarrant, reasons: list[str]) -> CaseFile:
    if e.instrument == "i200":
        if case.state not in (S.CHARGED, S.WARRANT_ISSUED, S.FUGITIVE, S.RELEASED):
            reasons.append(f"an I-200 follows a charging document, not state {case.state}")
        if not any(i.kind in CHARGING_KINDS for i in case.instruments):
            reasons.append("an I-200 needs a charging document on the case first")
    elif e.instrument == "i205":
        if case.final_on is None:
            reasons.append("an I-205 warrant of removal needs a final order of removal")
    else:
        reasons.append(f"{e.instrument!r} is not a warrant (i200 or i205)")
        return case
    _document_reasons(case, e, e.instrument, reasons)
    state = S.WARRANT_ISSUED if case.state == S.CHARGED else case.state
    return replace(case, state=state, instruments=(*case.instruments, _instrument(e, e.instrument)))


def _add_instrument(case: CaseFile, e: AddInstrument, reasons: list[str]) -> CaseFile:
    if e.instrument not in ("travel_document", "medical_clearance"):
        reasons.append(
            f"{e.instrument!r}: use charge or issue_warrant for charging documents and warrants"
        )
        return case
    if e.instrument == "travel_document" and not e.country:
        reasons.append("a travel document names the country that issued it")
    _document_reasons(case, e, e.instrument, reasons)
    return replace(case, instruments=(*case.instruments, _instrument(e, e.instrument)))


def _withdraw(case: CaseFile, e: WithdrawInstrument, reasons: list[str]) -> CaseFile:
    found = [i for i in case.instruments if i.reference == e.reference and i.status == "active"]
    if not e.reference or not found:
        reasons.append(f"no active instrument {e.reference!r} on the case")
    if not e.reason:
        reasons.append("withdrawing an instrument needs a reason")
    if any(i.kind in WARRANT_KINDS for i in found) and e.role != "supervisor":
        reasons.append(f"a warrant is withdrawn by a supervisory officer, not a {e.role}")
    kept = tuple(
        replace(i, status="withdrawn") if i.reference == e.reference and e.reference else i
        for i in case.instruments
    )
    return replace(case, instruments=kept)


def _request(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    reasons.extend(gates.instrument_reasons(case, _on(e)))
    reasons.extend(gates.flag_reasons(case, ("lawful_status",)))
    return replace(case, state=S.FIELD_REQUESTED, field_request=FieldRequest(e.actor, _on(e)))


def _approve(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    req = case.field_request
    if req is not None and req.requested_by == e.actor:
        reasons.append(f"{e.actor} requested this field action and may not approve it too")
    reasons.extend(gates.instrument_reasons(case, _on(e)))
    reasons.extend(gates.flag_reasons(case, ("lawful_status",)))
    approved = replace(req, approved_by=e.actor, approved_on=e.on) if req else None
    return replace(case, state=S.APPROVED, field_request=approved)


def _refuse_request(case: CaseFile, e: RefuseFieldAction, reasons: list[str]) -> CaseFile:
    if not e.reason:
        reasons.append("refusing a field action needs a reason")
    back = S.FINAL_ORDER if case.final_on else S.WARRANT_ISSUED
    return replace(case, state=back, field_request=None)


def _assign(case: CaseFile, e: Assign, reasons: list[str]) -> CaseFile:
    if case.state == S.ENCOUNTERED and case.encounter != "not_located":
        reasons.append(f"the person was {case.encounter}: a new assignment needs a new request")
    reasons.extend(gates.field_action_reasons(case, _on(e)))
    if not e.team:
        reasons.append("an assignment names the field team")
    return replace(case, state=S.ASSIGNED, team=e.team, assigned_on=e.on)


def _encounter(case: CaseFile, e: RecordEncounter, reasons: list[str]) -> CaseFile:
    if e.outcome not in ("arrested", "located_not_detained", "not_located"):
        reasons.append(
            f"outcome {e.outcome!r} is not arrested, located_not_detained or not_located"
        )
    if e.outcome == "arrested":
        reasons.extend(gates.field_action_reasons(case, _on(e)))
    return replace(case, state=S.ENCOUNTERED, encounter=e.outcome, encountered_on=e.on)


CUSTODY_KINDS = ("detained", "bond", "recognizance", "atd", "order_of_supervision")


def _custody(case: CaseFile, e: DecideCustody, reasons: list[str]) -> CaseFile:
    if e.custody not in CUSTODY_KINDS:
        reasons.append(f"custody {e.custody!r} is not one of {', '.join(CUSTODY_KINDS)}")
    if case.encounter == "not_located":
        reasons.append("the person was not located: nobody to decide custody for")
    if e.custody == "detained" and case.encounter != "arrested":
        reasons.append("detention follows an arrest")
    return replace(case, state=S.CUSTODY_DECIDED, custody=e.custody, custody_on=e.on)


def _proceedings(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    if not any(i.kind == "nta" and i.status == "active" for i in case.instruments):
        reasons.append("proceedings start with a notice to appear, and the case has none")
    return replace(case, state=S.IN_PROCEEDINGS, proceedings_on=e.on)


def _decide(case: CaseFile, e: Decide, reasons: list[str]) -> CaseFile:
    on = _on(e)
    if e.outcome not in ("removal_order", "voluntary_departure", "relief_granted"):
        reasons.append(
            f"decision {e.outcome!r} is not removal_order, voluntary_departure or relief_granted"
        )
    if not e.authority.strip():
        reasons.append("a decision names the judge or court that made it (authority)")
    if e.outcome == "voluntary_departure" and (
        e.departure_deadline is None or e.departure_deadline <= on
    ):
        reasons.append("voluntary departure is granted with a deadline after the decision")
    order = Order(
        e.outcome,  # type: ignore[arg-type]
        on,
        e.authority.strip(),
        in_absentia=e.in_absentia,
        departure_deadline=e.departure_deadline,
    )
    if e.outcome == "relief_granted":
        return replace(case, state=S.CLOSED, order=order, closed_reason="relief granted")
    return replace(case, state=S.APPEAL_WINDOW, order=order)


def _waive(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    assert case.order is not None or reasons
    order = replace(case.order, appeal_waived=True) if case.order else None
    return replace(case, state=S.FINAL_ORDER, order=order, final_on=e.on)


def _file_appeal(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    if case.order is not None and e.on is not None and e.on > case.order.appeal_window_ends:
        reasons.append(f"the appeal window closed on {case.order.appeal_window_ends}")
    return replace(case, state=S.APPEAL_PENDING, appeal=Appeal(e.on, "bia"))


def _decide_appeal(case: CaseFile, e: DecideAppeal, reasons: list[str]) -> CaseFile:
    if e.outcome not in ("dismissed", "sustained", "remanded"):
        reasons.append(f"appeal outcome {e.outcome!r} is not dismissed, sustained or remanded")
    appeal = replace(case.appeal, decided_on=e.on, outcome=e.outcome) if case.appeal else None
    if e.outcome == "dismissed":
        return replace(case, state=S.FINAL_ORDER, appeal=appeal, final_on=e.on)
    if e.outcome == "sustained":
        return replace(case, state=S.CLOSED, appeal=appeal, closed_reason="appeal sustained")
    return replace(case, state=S.IN_PROCEEDINGS, appeal=appeal, order=None)


def _finalize(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    on = _on(e)
    if case.state == S.APPEAL_WINDOW:
        if case.order is not None and case.order.window_open_on(on):
            reasons.append(f"the appeal window is open until {case.order.appeal_window_ends}")
        return replace(case, state=S.FINAL_ORDER, final_on=on)
    if case.order is None or not case.order.summary:
        reasons.append(
            "only a summary order (expedited removal, reinstatement, administrative "
            "removal) is final without proceedings"
        )
    return replace(case, state=S.FINAL_ORDER)


def _stay_authority(authority: str, reasons: list[str]) -> None:
    if authority not in STAY_AUTHORITIES:
        reasons.append(f"stay authority {authority!r} is not {', '.join(STAY_AUTHORITIES)}")


def _grant_stay(case: CaseFile, e: GrantStay, reasons: list[str]) -> CaseFile:
    _stay_authority(e.authority, reasons)
    return _with_stay(
        case, e, e.stay_id, e.authority, e.reason or "stay of removal", reasons, e.until
    )


def _admin_stay(case: CaseFile, e: GrantAdministrativeStay, reasons: list[str]) -> CaseFile:
    if case.final_on is None:
        reasons.append("an I-246 administrative stay is of a final order, and there is none")
    if not e.document.strip():
        reasons.append("an I-246 stay attaches the signed decision (document and document_sha256)")
    if e.until is not None and e.until < _on(e):
        reasons.append(f"the stay ends {e.until}, before it was granted on {e.on}")
    return _with_stay(
        case, e, e.stay_id, "agency", e.reason or "I-246 administrative stay", reasons, e.until
    )


def _later(a: date | None, b: date | None) -> date | None:
    if b is None:
        return a
    return b if a is None or b > a else a


def _with_stay(
    case: CaseFile,
    e: Event,
    stay_id: str,
    authority: str,
    why: str,
    reasons: list[str],
    until: date | None = None,
) -> CaseFile:
    sid = stay_id or f"stay-{len(case.stays) + 1}"
    if any(s.stay_id == sid for s in case.stays):
        reasons.append(f"a stay {sid!r} is already on the case")
    stay = Stay(
        sid,
        authority,  # type: ignore[arg-type]
        e.on,
        why,
        until=until,
        basis=e.basis or e.document,
    )
    state = S.READY_FOR_REMOVAL if case.state == S.ON_MANIFEST else case.state
    flight = "" if case.state == S.ON_MANIFEST else case.flight
    return replace(
        case,
        stays=(*case.stays, stay),
        state=state,
        flight=flight,
        protected_on=_later(case.protected_on, e.on),
    )


def _deny_stay(case: CaseFile, e: DenyStay, reasons: list[str]) -> CaseFile:
    _stay_authority(e.authority, reasons)
    return case


def _lift_stay(case: CaseFile, e: LiftStay, reasons: list[str]) -> CaseFile:
    on = _on(e)
    stay = next((s for s in case.stays if s.stay_id == e.stay_id and s.active_on(on)), None)
    if stay is None:
        reasons.append(
            f"no stay {e.stay_id!r} in force on {e.on} (a stay is lifted on or "
            "after the day it was granted)"
        )
    elif e.authority not in STAY_RANK or e.authority == "automatic":
        known = ", ".join(STAY_AUTHORITIES)
        reasons.append(
            f"lifting a stay names the authority that lifted it ({known}), not {e.authority!r}"
        )
    elif STAY_RANK[e.authority] < STAY_RANK[stay.authority]:
        reasons.append(
            f"a stay granted by the {stay.authority} is lifted by the {stay.authority} "
            f"or a higher authority, not the {e.authority}"
        )
    elif stay.authority == "agency" and e.authority == "agency" and e.role != "supervisor":
        reasons.append(f"an agency stay is lifted by a supervisory officer, not a {e.role}")
    stays = tuple(
        replace(s, lifted_on=on, lifted_by=e.authority)
        if s.stay_id == e.stay_id and s.lifted_on is None
        else s
        for s in case.stays
    )
    return replace(case, stays=stays)


def _motion(case: CaseFile, e: FileMotionToReopen, reasons: list[str]) -> CaseFile:
    on = _on(e)
    if case.order is None:
        reasons.append("a motion to reopen is of a decision, and the case has none")
        return case
    if e.body not in ("immigration_judge", "bia"):
        reasons.append(f"a motion is filed with the immigration_judge or the bia, not {e.body!r}")
    if case.motion is not None and case.motion.pending:
        reasons.append(f"a motion to {case.motion.kind} filed {case.motion.filed_on} is pending")
    if case.order.in_absentia and e.body == "immigration_judge":
        sid = e.stay_id or f"stay-{len(case.stays) + 1}"
        why = "motion to reopen an in-absentia order (INA 240(b)(5)(C))"
        case = _with_stay(case, e, sid, "automatic", why, reasons)
        return replace(case, motion=Motion("reopen", on, e.body, sid))
    return replace(case, motion=Motion("reopen", on, e.body))  # no automatic stay


def _reconsider(case: CaseFile, e: FileMotionToReconsider, reasons: list[str]) -> CaseFile:
    if case.order is None:
        reasons.append("a motion to reconsider is of a decision, and the case has none")
    if e.body not in ("immigration_judge", "bia"):
        reasons.append(f"a motion is filed with the immigration_judge or the bia, not {e.body!r}")
    if case.motion is not None and case.motion.pending:
        reasons.append(f"a motion to {case.motion.kind} filed {case.motion.filed_on} is pending")
    return replace(case, motion=Motion("reconsider", _on(e), e.body))


def _vacated(case: CaseFile) -> CaseFile:
    """The order is vacated: proceedings resume, nothing executes it."""
    return replace(
        case,
        state=S.IN_PROCEEDINGS,
        order=None,
        final_on=None,
        appeal=None,
        flight="",
        ready_on=None,
        manifest_on=None,
    )


def _decide_motion(case: CaseFile, e: DecideMotion, reasons: list[str]) -> CaseFile:
    on = _on(e)
    motion = case.motion
    if motion is None or not motion.pending:
        reasons.append("no motion is pending")
        return case
    if e.outcome not in ("granted", "denied"):
        reasons.append(f"a motion is granted or denied, not {e.outcome!r}")
    stays = tuple(
        replace(s, lifted_on=on, lifted_by=motion.body)
        if motion.stay_id and s.stay_id == motion.stay_id and s.lifted_on is None
        else s
        for s in case.stays
    )
    decided = replace(case, stays=stays, motion=replace(motion, decided_on=on, outcome=e.outcome))
    return _vacated(decided) if e.outcome == "granted" else decided


def _petition(case: CaseFile, e: FilePetitionForReview, reasons: list[str]) -> CaseFile:
    if case.final_on is None:
        reasons.append("a petition for review is of a final order, and there is none")
    if not e.court.strip():
        reasons.append("a petition for review names the court of appeals (court)")
    if case.petition is not None and case.petition.pending:
        reasons.append(f"a petition for review filed {case.petition.filed_on} is pending")
    return replace(case, petition=Appeal(_on(e), "federal_court", court=e.court.strip()))


def _decide_petition(case: CaseFile, e: DecidePetition, reasons: list[str]) -> CaseFile:
    if case.petition is None or not case.petition.pending:
        reasons.append("no petition for review is pending")
        return case
    if e.outcome not in ("denied", "dismissed", "granted"):
        reasons.append(f"a petition is denied, dismissed or granted, not {e.outcome!r}")
    decided = replace(case, petition=replace(case.petition, decided_on=e.on, outcome=e.outcome))
    return _vacated(decided) if e.outcome == "granted" else decided


def _alternate(case: CaseFile, e: AlternateOrderEffective, reasons: list[str]) -> CaseFile:
    on, order = _on(e), case.order
    if order is None or order.kind != "voluntary_departure" or order.departure_deadline is None:
        reasons.append("no grant of voluntary departure with a deadline on the case")
        return case
    if case.final_on is None:
        reasons.append("the grant of voluntary departure is not final yet")
    if on <= order.departure_deadline:
        reasons.append(f"the voluntary departure period runs until {order.departure_deadline}")
    if e.deadline != order.departure_deadline:
        reasons.append(
            f"the deadline cited ({e.deadline}) is not the grant's ({order.departure_deadline})"
        )
    return replace(case, order=replace(order, kind="removal_order", alternate=True))


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


def _destination(case: CaseFile, e: SetDestination, reasons: list[str]) -> CaseFile:
    if not e.country:
        reasons.append("a destination names a country")
    return replace(case, destination=e.country)


def _protection(case: CaseFile, e: GrantProtection, reasons: list[str]) -> CaseFile:
    if e.protection not in ("withholding", "cat"):
        reasons.append(f"protection {e.protection!r} is not withholding or cat")
    if not e.country:
        reasons.append("protection names the country removal to which it bars")
    state, flight = case.state, case.flight
    if case.state == S.ON_MANIFEST and e.country == case.destination:
        state, flight = S.READY_FOR_REMOVAL, ""
    return replace(
        case,
        barred=(*case.barred, e.country),
        state=state,
        flight=flight,
        protected_on=_later(case.protected_on, e.on),
    )


def _ready(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    reasons.extend(gates.removal_reasons(case, _on(e), ready=True))
    return replace(case, state=S.READY_FOR_REMOVAL, ready_on=e.on)


def _manifest(case: CaseFile, e: AddToManifest, reasons: list[str]) -> CaseFile:
    if not e.flight:
        reasons.append("a manifest entry names the flight")
    reasons.extend(gates.removal_reasons(case, _on(e), ready=True))
    return replace(case, state=S.ON_MANIFEST, flight=e.flight, manifest_on=e.on)


def _off_manifest(case: CaseFile, e: TakeOffManifest, reasons: list[str]) -> CaseFile:
    if not e.reason:
        reasons.append("taking a person off a manifest needs a reason")
    return replace(case, state=S.READY_FOR_REMOVAL, flight="", manifest_on=None)


def _removed(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    reasons.extend(gates.removal_reasons(case, _on(e), ready=True))
    return replace(case, state=S.REMOVED)


def _departed(case: CaseFile, e: VerifyDeparture, reasons: list[str]) -> CaseFile:
    if not e.proof:
        reasons.append("a departure is verified by an exit record or proof, named here")
    return replace(case, state=S.DEPARTURE_VERIFIED, departed_on=e.on)


def _reported(case: CaseFile, e: ReportDeparture, reasons: list[str]) -> CaseFile:
    if not e.report:
        reasons.append("a reported departure names the report (who sent it, where from)")
    return replace(case, departure_reported_on=_on(e), departure_report=e.report)


def _report_rejected(case: CaseFile, e: RejectDepartureReport, reasons: list[str]) -> CaseFile:
    if case.departure_reported_on is None:
        reasons.append("no reported departure awaits verification on this case")
    if not e.reason:
        reasons.append("setting a reported departure aside needs the reason")
    return replace(case, departure_reported_on=None, departure_report="")


def _fugitive(case: CaseFile, e: MarkFugitive, reasons: list[str]) -> CaseFile:
    if not e.reason:
        reasons.append("marking a person fugitive needs the reason (deadline missed, no report)")
    order = case.order
    deadline = order.departure_deadline if order is not None else None
    # a grant of voluntary departure, even one an alternate order of removal has replaced
    # since: nobody is a fugitive on a day inside the period they had to leave
    granted = order is not None and (order.kind == "voluntary_departure" or order.alternate)
    if granted and deadline is None:
        reasons.append(
            "voluntary departure was granted with no known deadline: nobody is "
            "marked fugitive until the deadline is on the case"
        )
    elif granted and deadline is not None and _on(e) <= deadline:
        reasons.append(
            f"the step is dated {_on(e)}, inside the voluntary departure period, "
            f"which runs until {deadline}"
        )
    return replace(case, state=S.FUGITIVE)


def _release(case: CaseFile, e: Release, reasons: list[str]) -> CaseFile:
    if not e.reason:
        reasons.append("a release needs a reason")
    custody = "" if case.custody == "detained" else case.custody  # reporting duties remain
    return replace(case, state=S.RELEASED, custody=custody)


def _close(case: CaseFile, e: Close, reasons: list[str]) -> CaseFile:
    if not e.reason:
        reasons.append("closing a case needs a reason")
    return replace(case, state=S.CLOSED, closed_reason=e.reason)


def _check_in(case: CaseFile, e: CheckIn, reasons: list[str]) -> CaseFile:
    if case.custody not in ("atd", "order_of_supervision", "recognizance", "bond"):
        reasons.append(f"no reporting duty: custody is {case.custody or 'not decided'}")
    return replace(case, check_ins=(*case.check_ins, _on(e)))


def _raise_flag(case: CaseFile, e: RaiseFlag, reasons: list[str]) -> CaseFile:
    if e.flag not in ("citizenship", "lawful_status"):
        reasons.append(f"flag {e.flag!r} is not citizenship or lawful_status")
    if any(f.kind == e.flag and f.open for f in case.flags):
        return case  # already open: the records behind it are the person index's to show
    # a citizenship flag stops every enforcement step, so nothing is backdated past it; a
    # lawful-status flag holds field action only (and is checked there, whatever the date)
    protected = _later(case.protected_on, e.on) if e.flag == "citizenship" else case.protected_on
    return replace(
        case,
        flags=(*case.flags, Flag(e.flag, e.detail, e.record_ids, raised_on=e.on)),
        protected_on=protected,
    )


def _resolve_flag(case: CaseFile, e: ResolveFlag, reasons: list[str]) -> CaseFile:
    if not any(f.kind == e.flag and f.open for f in case.flags):
        reasons.append(f"no open {e.flag} flag on the case")
    if len(e.reason.strip()) < 10:
        reasons.append("resolving a flag needs a written reason (10 characters at least)")
    if not e.evidence.strip():
        reasons.append("resolving a flag names the evidence examined")
    flags = tuple(
        replace(f, resolved_by=e.actor, reason=e.reason, evidence=e.evidence)
        if f.kind == e.flag and f.open
        else f
        for f in case.flags
    )
    return replace(case, flags=flags)


_HANDLERS: dict[str, Handler] = {
    "begin_review": _begin_review,
    "charge": _charge,
    "issue_warrant": _issue_warrant,
    "add_instrument": _add_instrument,
    "withdraw_instrument": _withdraw,
    "request_field_action": _request,
    "approve_field_action": _approve,
    "refuse_field_action": _refuse_request,
    "assign": _assign,
    "record_encounter": _encounter,
    "decide_custody": _custody,
    "begin_proceedings": _proceedings,
    "decide": _decide,
    "waive_appeal": _waive,
    "file_appeal": _file_appeal,
    "decide_appeal": _decide_appeal,
    "finalize_order": _finalize,
    "grant_stay": _grant_stay,
    "grant_administrative_stay": _admin_stay,
    "deny_stay": _deny_stay,
    "lift_stay": _lift_stay,
    "file_motion_to_reopen": _motion,
    "file_motion_to_reconsider": _reconsider,
    "decide_motion": _decide_motion,
    "file_petition_for_review": _petition,
    "decide_petition": _decide_petition,
    "alternate_order_effective": _alternate,
    "set_destination": _destination,
    "grant_protection": _protection,
    "mark_ready": _ready,
    "add_to_manifest": _manifest,
    "take_off_manifest": _off_manifest,
    "confirm_removal": _removed,
    "verify_departure": _departed,
    "report_departure": _reported,
    "reject_departure_report": _report_rejected,
    "mark_fugitive": _fugitive,
    "release": _release,
    "close": _close,
    "check_in": _check_in,
    "raise_flag": _raise_flag,
    "resolve_flag": _resolve_flag,
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
