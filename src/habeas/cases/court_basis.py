"""Whether a cited court record supports the step that cites it (pure).

A step that records a court's act and cites an ingested court record (``basis``) must be
what that record says: a waiver cites a record whose appeal was waived, a stay lifted
cites one whose stay was lifted on that day, a decision cites one whose order is of that
kind and date. A record that says otherwise (or nothing) does not make an officer's
word a court's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

COURT_FACT_COLUMNS: tuple[str, ...] = (
    "charge_date",
    "hearing_date",
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
"""The columns of a court record published with the index as its court facts."""

COURT_CATEGORIES = frozenset({"immigration_court"})
"""Source categories whose records are a court's."""

_ORDER_KIND = {
    "removal": "removal_order",
    "voluntary_departure": "voluntary_departure",
    "relief_granted": "relief_granted",
}
_REQUIRED: dict[str, tuple[str, frozenset[str]]] = {
    "waive_appeal": ("appeal_status", frozenset({"waived"})),
    "file_appeal": ("appeal_status", frozenset({"pending", "dismissed", "sustained"})),
    "finalize_order": ("appeal_status", frozenset({"none", "waived", ""})),
    "grant_stay": ("stay_status", frozenset({"granted", "lifted"})),
    "lift_stay": ("stay_status", frozenset({"lifted"})),
    "deny_stay": ("stay_status", frozenset({"denied"})),
}
_DATED: dict[str, str] = {
    "decide": "order_date",
    "lift_stay": "stay_date",
    "deny_stay": "stay_date",
    "decide_appeal": "appeal_date",
}


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def support_problems(
    kind: str, on: date | None, fields: dict[str, Any], facts: dict[str, Any], record_id: str
) -> list[str]:
    """Why the court record ``record_id`` (its ``facts``) does not support the step."""
    out: list[str] = []
    if kind in _REQUIRED:
        column, wanted = _REQUIRED[kind]
        raw = facts.get(column)
        value = str(raw) if raw not in (None, "") else ("none" if column == "appeal_status" else "")
        if value not in wanted:
            out.append(
                f"court record {record_id} shows {column} {value or 'empty'!r}, not "
                f"{' or '.join(sorted(w for w in wanted if w))}: it does not support "
                f"{kind.replace('_', ' ')}"
            )
    if kind == "decide":
        shown = _ORDER_KIND.get(str(facts.get("order_type") or ""), "")
        if shown != fields.get("outcome", "removal_order"):
            out.append(
                f"court record {record_id} shows order {facts.get('order_type')!r}, "
                f"not {fields.get('outcome', 'removal_order')}"
            )
    if kind == "decide_appeal" and str(facts.get("appeal_status") or "") != fields.get(
        "outcome", "dismissed"
    ):
        out.append(
            f"court record {record_id} shows appeal {facts.get('appeal_status')!r}, "
            f"not {fields.get('outcome', 'dismissed')}"
        )
    if kind == "finalize_order" and str(facts.get("order_type") or "") not in (
        "removal",
        "voluntary_departure",
    ):
        out.append(f"court record {record_id} shows no order of removal or voluntary departure")
    dated = _DATED.get(kind)
    shown_on = _day(facts.get(dated)) if dated else None
    if dated and on is not None and shown_on is not None and shown_on != on:
        out.append(f"court record {record_id} dates it {shown_on} ({dated}), not {on}")
    return out
