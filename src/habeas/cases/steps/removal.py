"""Removal and departure: destination and protection, readiness, the manifest, removal,
departures verified or reported, fugitives, closing."""

from __future__ import annotations

from dataclasses import replace

from habeas.cases import gates
from habeas.cases.casefile import (
    CaseFile,
)
from habeas.cases.casefile import State as S
from habeas.cases.events import (
    AddToManifest,
    Close,
    Event,
    GrantProtection,
    MarkFugitive,
    RejectDepartureReport,
    ReportDeparture,
    SetDestination,
    TakeOffManifest,
    VerifyDeparture,
)
from habeas.cases.steps.common import dated
from habeas.cases.steps.court import later


def destination(case: CaseFile, e: SetDestination, reasons: list[str]) -> CaseFile:
    if not e.country:
        reasons.append("a destination names a country")
    return replace(case, destination=e.country)


def protection(case: CaseFile, e: GrantProtection, reasons: list[str]) -> CaseFile:
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
        protected_on=later(case.protected_on, e.on),
    )


def ready(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    reasons.extend(gates.removal_reasons(case, dated(e), ready=True))
    return replace(case, state=S.READY_FOR_REMOVAL, ready_on=e.on)


def manifest(case: CaseFile, e: AddToManifest, reasons: list[str]) -> CaseFile:
    if not e.flight:
        reasons.append("a manifest entry names the flight")
    reasons.extend(gates.removal_reasons(case, dated(e), ready=True))
    return replace(case, state=S.ON_MANIFEST, flight=e.flight, manifest_on=e.on)


def off_manifest(case: CaseFile, e: TakeOffManifest, reasons: list[str]) -> CaseFile:
    if not e.reason:
        reasons.append("taking a person off a manifest needs a reason")
    return replace(case, state=S.READY_FOR_REMOVAL, flight="", manifest_on=None)


def removed(case: CaseFile, e: Event, reasons: list[str]) -> CaseFile:
    reasons.extend(gates.removal_reasons(case, dated(e), ready=True))
    return replace(case, state=S.REMOVED)


def departed(case: CaseFile, e: VerifyDeparture, reasons: list[str]) -> CaseFile:
    if not e.proof:
        reasons.append("a departure is verified by an exit record or proof, named here")
    return replace(case, state=S.DEPARTURE_VERIFIED, departed_on=e.on)


def reported(case: CaseFile, e: ReportDeparture, reasons: list[str]) -> CaseFile:
    if not e.report:
        reasons.append("a reported departure names the report (who sent it, where from)")
    return replace(case, departure_reported_on=dated(e), departure_report=e.report)


def report_rejected(case: CaseFile, e: RejectDepartureReport, reasons: list[str]) -> CaseFile:
    if case.departure_reported_on is None:
        reasons.append("no reported departure awaits verification on this case")
    if not e.reason:
        reasons.append("setting a reported departure aside needs the reason")
    return replace(case, departure_reported_on=None, departure_report="")


def fugitive(case: CaseFile, e: MarkFugitive, reasons: list[str]) -> CaseFile:
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
    elif granted and deadline is not None and dated(e) <= deadline:
        reasons.append(
            f"the step is dated {dated(e)}, inside the voluntary departure period, "
            f"which runs until {deadline}"
        )
    return replace(case, state=S.FUGITIVE)


def close(case: CaseFile, e: Close, reasons: list[str]) -> CaseFile:
    if not e.reason:
        reasons.append("closing a case needs a reason")
    return replace(case, state=S.CLOSED, closed_reason=e.reason)
