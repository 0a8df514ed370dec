"""Before the field: a review begins, charges are filed, warrants issued, instruments added
and withdrawn."""

from __future__ import annotations

from dataclasses import replace

from habeas.cases.casefile import (
    CaseFile,
)
from habeas.cases.casefile import State as S
from habeas.cases.events import (
    AddInstrument,
    Charge,
    Event,
    IssueWarrant,
    WithdrawInstrument,
)
from habeas.cases.instruments import (
    CHARGING_KINDS,
    FORMS,
    SUMMARY_KINDS,
    WARRANT_KINDS,
    Instrument,
    Order,
)
from habeas.cases.steps.common import document_reasons


def instrument(event: IssueWarrant | AddInstrument | Charge, kind: str) -> Instrument:
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


def begin_review(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    return replace(case, state=S.UNDER_REVIEW)


def charge(case: CaseFile, e: Charge, reasons: list[str]) -> CaseFile:
    if e.instrument not in CHARGING_KINDS:
        reasons.append(f"{e.instrument!r} is not a charging document ({', '.join(CHARGING_KINDS)})")
        return case
    document_reasons(case, e, e.instrument, reasons)
    doc = instrument(e, e.instrument)
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


def issue_warrant(case: CaseFile, e: IssueWarrant, reasons: list[str]) -> CaseFile:
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
    document_reasons(case, e, e.instrument, reasons)
    state = S.WARRANT_ISSUED if case.state == S.CHARGED else case.state
    return replace(case, state=state, instruments=(*case.instruments, instrument(e, e.instrument)))


def add_instrument(case: CaseFile, e: AddInstrument, reasons: list[str]) -> CaseFile:
    if e.instrument not in ("travel_document", "medical_clearance"):
        reasons.append(
            f"{e.instrument!r}: use charge or issue_warrant for charging documents and warrants"
        )
        return case
    if e.instrument == "travel_document" and not e.country:
        reasons.append("a travel document names the country that issued it")
    document_reasons(case, e, e.instrument, reasons)
    return replace(case, instruments=(*case.instruments, instrument(e, e.instrument)))


def withdraw(case: CaseFile, e: WithdrawInstrument, reasons: list[str]) -> CaseFile:
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
