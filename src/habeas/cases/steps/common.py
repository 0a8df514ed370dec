"""What the step handlers share."""

from __future__ import annotations

from datetime import date

from habeas.cases.casefile import (
    CaseFile,
)
from habeas.cases.events import (
    AddInstrument,
    Charge,
    Event,
    IssueWarrant,
)
from habeas.cases.instruments import (
    FORMS,
    WARRANT_KINDS,
    number_problem,
)


def dated(e: Event) -> date:
    """The event's date (``transition`` refused an undated event whose handler needs one)."""
    assert e.on is not None
    return e.on


def document_reasons(
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
