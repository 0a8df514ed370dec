"""Deadlines as tasks (pure): voluntary departure due dates, post-order custody reviews
at 90 and 180 days, and check-ins for people released with a reporting duty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from habeas.cases.casefile import TERMINAL, CaseFile

CHECK_IN_EVERY = 30
"""Days between check-ins for alternatives to detention and orders of supervision."""
CHECK_IN_FOR = 180
"""How long the first schedule runs; it is renewed by the next custody decision."""
VERIFY_REPORT_DAYS = 14
"""Days to verify a reported departure (an exit record, a consular notice) or set it aside."""
GRACE = 3
"""Days after a check-in's due date before it counts as missed."""


@dataclass(frozen=True)
class TaskSpec:
    """A deadline: what, when, why; and whether it is done (``done_on``)."""

    kind: str
    due_on: date
    detail: str
    done_on: date | None = None
    missed: bool = False  # settled as missed: what the law makes of it is on the case

    def status(self, today: date) -> str:
        """done, missed (past due and its grace), or open."""
        if self.done_on is not None:
            return "done"
        if self.missed:
            return "missed"
        grace = GRACE if self.kind == "check_in" else 0
        return "missed" if today > self.due_on + timedelta(days=grace) else "open"


def tasks_for(case: CaseFile) -> list[TaskSpec]:
    """Every deadline the case's history creates."""
    if case.state in TERMINAL:
        return []
    out: list[TaskSpec] = []
    order = case.order
    if case.encounter == "arrested" and case.encountered_on is not None:
        decided = (
            case.custody_on if case.custody_on and case.custody_on >= case.encountered_on else None
        )
        out.append(
            TaskSpec(
                "custody_decision",
                case.encountered_on + timedelta(days=2),
                f"arrested {case.encountered_on}: decide custody within 48 hours (8 CFR 287.3(d))",
                decided,
            )
        )
    if order is not None and order.kind == "voluntary_departure" and order.departure_deadline:
        out.append(
            TaskSpec(
                "voluntary_departure_due",
                order.departure_deadline,
                f"voluntary departure granted {order.decided_on} must be completed "
                "and verified by this date",
            )
        )
    elif order is not None and order.alternate and order.departure_deadline:
        out.append(
            TaskSpec(
                "voluntary_departure_due",
                order.departure_deadline,
                f"voluntary departure granted {order.decided_on} must be completed "
                "and verified by this date",
                missed=True,
            )
        )
    if case.departure_reported_on is not None:
        out.append(
            TaskSpec(
                "verify_reported_departure",
                case.departure_reported_on + timedelta(days=VERIFY_REPORT_DAYS),
                f"departure reported {case.departure_reported_on} "
                f"({case.departure_report[:120]}): verify it against an exit record "
                "or a consular notice, or set it aside",
            )
        )
    if case.final_on is not None and case.custody == "detained":
        start = max(case.final_on, case.custody_on or case.final_on)
        for days in (90, 180):
            out.append(
                TaskSpec(
                    f"custody_review_{days}",
                    start + timedelta(days=days),
                    f"post-order custody review, {days} days into detention under "
                    f"the final order of {case.final_on}",
                )
            )
    if case.custody in ("atd", "order_of_supervision") and case.custody_on is not None:
        for k in range(1, CHECK_IN_FOR // CHECK_IN_EVERY + 1):
            due = case.custody_on + timedelta(days=k * CHECK_IN_EVERY)
            early, late = due - timedelta(days=7), due + timedelta(days=GRACE)
            done = next((d for d in case.check_ins if early <= d <= late), None)
            out.append(TaskSpec("check_in", due, f"check-in {k} of {case.custody}", done))
    return out
