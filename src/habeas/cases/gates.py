"""The gates before force (safeguards 6 and 7): pure functions over a case file that
return every reason a step may not happen on a given day (an empty list: the gate opens).
"""

from __future__ import annotations

from datetime import date

from habeas.cases.casefile import CaseFile


def flag_reasons(case: CaseFile, kinds: tuple[str, ...]) -> list[str]:
    """One reason per unresolved flag of these kinds, naming the records behind it."""
    return [
        f"unresolved {f.kind} flag ({f.detail}) from record(s) {', '.join(f.record_ids)}: "
        "a supervisor must resolve it with a reason first"
        for f in case.flags
        if f.open and f.kind in kinds
    ]


def hold_reasons(case: CaseFile, day: date) -> list[str]:
    """What holds a final order from being executed on ``day``: stays, a pending appeal,
    an open appeal window (each named, with its date and authority)."""
    out = [s.describe() for s in case.stays if s.active_on(day)]
    if case.appeal is not None and case.appeal.pending:
        filed = case.appeal.filed_on or "on a date not on the record"
        out.append(f"appeal to the {case.appeal.body} filed {filed}, pending")
    if case.order is not None and case.order.window_open_on(day):
        out.append(
            f"appeal window open until {case.order.appeal_window_ends} "
            "(removal is stayed meanwhile unless appeal is waived)"
        )
    return out


def final_order_reasons(case: CaseFile, day: date) -> list[str]:
    """Why there is no final, executable order of removal on ``day``."""
    order = case.order
    if case.final_on is None or order is None:
        return ["no final order of removal"]
    out = []
    if order.kind == "relief_granted":
        out.append("relief was granted: there is no order of removal")
    deadline = order.departure_deadline
    if order.kind == "voluntary_departure" and deadline and day <= deadline:
        out.append(f"voluntary departure runs until {order.departure_deadline}")
    return out + hold_reasons(case, day)


def instrument_reasons(case: CaseFile, day: date) -> list[str]:
    """A valid instrument for a field action: an I-200, or an I-205 on a final, executable
    order. Empty when one holds; otherwise why neither does."""
    i200 = [i for i in case.instruments if i.kind == "i200"]
    i205 = [i for i in case.instruments if i.kind == "i205"]
    if any(i.valid_on(day) for i in i200):
        return []
    if any(i.valid_on(day) for i in i205):
        held = final_order_reasons(case, day)
        if not held:
            return []
        return ["the I-205 warrant of removal cannot be executed: " + "; ".join(held)]
    if i200 or i205:
        seen = "; ".join(f"{i.describe()} ({i.status})" for i in (*i200, *i205))
        return [f"no warrant valid on {day}: {seen}"]
    return [
        "no valid instrument: neither an I-200 administrative warrant nor an I-205 "
        "warrant of removal on a final order"
    ]


def field_action_reasons(case: CaseFile, day: date) -> list[str]:
    """Every reason a field assignment may not go ahead on ``day``."""
    out = instrument_reasons(case, day)
    out += flag_reasons(case, ("citizenship", "lawful_status"))
    if case.departure_reported_on is not None:
        out.append(
            f"a departure was reported on {case.departure_reported_on} "
            f"({case.departure_report[:120]}): field action is held until it is "
            "verified or the report set aside"
        )
    req = case.field_request
    if req is None or not req.approved_by:
        out.append("no approval: a supervisor other than the requester must approve first")
    elif req.approved_by == req.requested_by:
        out.append(f"approved by the requester ({req.approved_by}); a second person must approve")
    return out


def removal_reasons(case: CaseFile, day: date, ready: bool = False) -> list[str]:
    """Every reason a person may not be made ready, put on a manifest or removed on ``day``."""
    out = final_order_reasons(case, day)
    docs = [i for i in case.instruments if i.kind == "travel_document"]
    if not case.destination:
        out.append("no destination country set")
    elif case.destination in case.barred:
        out.append(
            f"removal to {case.destination} is barred by a grant of protection "
            "(withholding or the torture convention)"
        )
    valid = [i for i in docs if i.valid_on(day) and i.country == case.destination]
    if not valid:
        if docs:
            seen = "; ".join(f"{i.describe()} for {i.country}" for i in docs)
            out.append(f"no travel document valid on {day} for {case.destination or '?'} ({seen})")
        else:
            out.append("no travel document")
    if ready:
        if not any(i.kind == "i205" and i.valid_on(day) for i in case.instruments):
            out.append("no valid I-205 warrant of removal")
        if not any(i.kind == "medical_clearance" and i.valid_on(day) for i in case.instruments):
            out.append("no valid medical clearance")
    out += flag_reasons(case, ("citizenship",))
    return out
