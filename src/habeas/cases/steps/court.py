"""The court: proceedings, decisions, appeals, the final order, stays, motions, petitions
for review, and the alternate order a missed voluntary departure deadline puts in
effect."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from habeas.cases.casefile import (
    CaseFile,
)
from habeas.cases.casefile import State as S
from habeas.cases.events import (
    AlternateOrderEffective,
    Decide,
    DecideAppeal,
    DecideMotion,
    DecidePetition,
    DenyStay,
    Event,
    FileMotionToReconsider,
    FileMotionToReopen,
    FilePetitionForReview,
    GrantAdministrativeStay,
    GrantStay,
    LiftStay,
)
from habeas.cases.instruments import (
    STAY_AUTHORITIES,
    STAY_RANK,
    Appeal,
    Motion,
    Order,
    Stay,
)
from habeas.cases.steps.common import dated


def proceedings(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    if not any(i.kind == "nta" and i.status == "active" for i in case.instruments):
        reasons.append("proceedings start with a notice to appear, and the case has none")
    return replace(case, state=S.IN_PROCEEDINGS, proceedings_on=e.on)


def decide(case: CaseFile, e: Decide, reasons: list[str]) -> CaseFile:
    on = dated(e)
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


def waive(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    assert case.order is not None or reasons
    order = replace(case.order, appeal_waived=True) if case.order else None
    return replace(case, state=S.FINAL_ORDER, order=order, final_on=e.on)


def file_appeal(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    if case.order is not None and e.on is not None and e.on > case.order.appeal_window_ends:
        reasons.append(f"the appeal window closed on {case.order.appeal_window_ends}")
    return replace(case, state=S.APPEAL_PENDING, appeal=Appeal(e.on, "bia"))


def decide_appeal(case: CaseFile, e: DecideAppeal, reasons: list[str]) -> CaseFile:
    if e.outcome not in ("dismissed", "sustained", "remanded"):
        reasons.append(f"appeal outcome {e.outcome!r} is not dismissed, sustained or remanded")
    appeal = replace(case.appeal, decided_on=e.on, outcome=e.outcome) if case.appeal else None
    if e.outcome == "dismissed":
        return replace(case, state=S.FINAL_ORDER, appeal=appeal, final_on=e.on)
    if e.outcome == "sustained":
        return replace(case, state=S.CLOSED, appeal=appeal, closed_reason="appeal sustained")
    return replace(case, state=S.IN_PROCEEDINGS, appeal=appeal, order=None)


def finalize(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    on = dated(e)
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


def stay_authority(authority: str, reasons: list[str]) -> None:
    if authority not in STAY_AUTHORITIES:
        reasons.append(f"stay authority {authority!r} is not {', '.join(STAY_AUTHORITIES)}")


def grant_stay(case: CaseFile, e: GrantStay, reasons: list[str]) -> CaseFile:
    stay_authority(e.authority, reasons)
    return with_stay(
        case, e, e.stay_id, e.authority, e.reason or "stay of removal", reasons, e.until
    )


def admin_stay(case: CaseFile, e: GrantAdministrativeStay, reasons: list[str]) -> CaseFile:
    if case.final_on is None:
        reasons.append("an I-246 administrative stay is of a final order, and there is none")
    if not e.document.strip():
        reasons.append("an I-246 stay attaches the signed decision (document and document_sha256)")
    if e.until is not None and e.until < dated(e):
        reasons.append(f"the stay ends {e.until}, before it was granted on {e.on}")
    return with_stay(
        case, e, e.stay_id, "agency", e.reason or "I-246 administrative stay", reasons, e.until
    )


def later(a: date | None, b: date | None) -> date | None:
    if b is None:
        return a
    return b if a is None or b > a else a


def with_stay(
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
        protected_on=later(case.protected_on, e.on),
    )


def deny_stay(case: CaseFile, e: DenyStay, reasons: list[str]) -> CaseFile:
    stay_authority(e.authority, reasons)
    return case


def lift_stay(case: CaseFile, e: LiftStay, reasons: list[str]) -> CaseFile:
    on = dated(e)
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


def motion(case: CaseFile, e: FileMotionToReopen, reasons: list[str]) -> CaseFile:
    on = dated(e)
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
        case = with_stay(case, e, sid, "automatic", why, reasons)
        return replace(case, motion=Motion("reopen", on, e.body, sid))
    return replace(case, motion=Motion("reopen", on, e.body))  # no automatic stay


def reconsider(case: CaseFile, e: FileMotionToReconsider, reasons: list[str]) -> CaseFile:
    if case.order is None:
        reasons.append("a motion to reconsider is of a decision, and the case has none")
    if e.body not in ("immigration_judge", "bia"):
        reasons.append(f"a motion is filed with the immigration_judge or the bia, not {e.body!r}")
    if case.motion is not None and case.motion.pending:
        reasons.append(f"a motion to {case.motion.kind} filed {case.motion.filed_on} is pending")
    return replace(case, motion=Motion("reconsider", dated(e), e.body))


def vacated(case: CaseFile) -> CaseFile:
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


def decide_motion(case: CaseFile, e: DecideMotion, reasons: list[str]) -> CaseFile:
    on = dated(e)
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
    return vacated(decided) if e.outcome == "granted" else decided


def petition(case: CaseFile, e: FilePetitionForReview, reasons: list[str]) -> CaseFile:
    if case.final_on is None:
        reasons.append("a petition for review is of a final order, and there is none")
    if not e.court.strip():
        reasons.append("a petition for review names the court of appeals (court)")
    if case.petition is not None and case.petition.pending:
        reasons.append(f"a petition for review filed {case.petition.filed_on} is pending")
    return replace(case, petition=Appeal(dated(e), "federal_court", court=e.court.strip()))


def decide_petition(case: CaseFile, e: DecidePetition, reasons: list[str]) -> CaseFile:
    if case.petition is None or not case.petition.pending:
        reasons.append("no petition for review is pending")
        return case
    if e.outcome not in ("denied", "dismissed", "granted"):
        reasons.append(f"a petition is denied, dismissed or granted, not {e.outcome!r}")
    decided = replace(case, petition=replace(case.petition, decided_on=e.on, outcome=e.outcome))
    return vacated(decided) if e.outcome == "granted" else decided


def alternate(case: CaseFile, e: AlternateOrderEffective, reasons: list[str]) -> CaseFile:
    on, order = dated(e), case.order
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
