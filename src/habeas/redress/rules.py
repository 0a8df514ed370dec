"""The rules of a dispute, pure: what may be disputed, how a decision is checked, and how a
corrected value is checked against the canonical field it replaces."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from habeas.errors import HabeasError
from habeas.store.canonical import CANONICAL_FIELDS, MAX_TEXT_LENGTH

TargetKind = Literal["record", "link", "flag"]
TARGET_KINDS: tuple[str, ...] = ("record", "link", "flag")
DecisionKind = Literal["corrected", "split", "denied"]
DECISIONS: tuple[str, ...] = ("corrected", "split", "denied")
MAX_REASON = 4000
MAX_STATEMENT = 8000
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024

_DIGITS = {
    "a_number": (re.compile(r"\d{9}"), "nine digits"),
    "ssn": (re.compile(r"\d{9}"), "nine digits"),
    "itin": (re.compile(r"9\d{8}"), "nine digits starting with 9"),
    "tin": (re.compile(r"\d{9}"), "nine digits"),
    "zip": (re.compile(r"\d{5}"), "five digits"),
    "phone": (re.compile(r"\d{10}"), "ten digits"),
    "state": (re.compile(r"[A-Z]{2}"), "two capital letters"),
    "passport": (re.compile(r"[A-Z0-9]{5,20}"), "5 to 20 letters or digits"),
    "fbi_number": (re.compile(r"[A-Z0-9]{5,12}"), "5 to 12 letters or digits"),
    "license": (re.compile(r"[A-Z0-9-]{3,20}"), "3 to 20 letters, digits or dashes"),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_text(what: str, text: str, least: int, most: int) -> str:
    """A reason, statement or evidence: stripped, at least ``least`` characters, at most
    ``most``, no control characters but newlines."""
    value = (text or "").strip()
    if len(value) < least:
        raise HabeasError(f"{what} is required (at least {least} characters)")
    if len(value) > most:
        raise HabeasError(f"{what} is {len(value):,} characters long; at most {most:,}")
    if _CONTROL.search(value.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise HabeasError(f"{what} holds a control character")
    return value


def correctable(field: str) -> bool:
    """True for a canonical field of a record (lineage columns are not the record's facts)."""
    return field in CANONICAL_FIELDS


def check_correction(field: str, value: str | None) -> str | None:
    """The corrected value of ``field`` as stored text, or None to clear it; a value the
    canonical field would refuse is refused here, naming the field and the rule."""
    if not correctable(field):
        names = ", ".join(sorted(CANONICAL_FIELDS)[:8])
        raise HabeasError(
            f"field {field[:40]!r} is not a field of a record that can be corrected "
            f"(canonical fields: {names}, …)"
        )
    if value is None or not value.strip():
        return None
    v = value.strip()
    spec = CANONICAL_FIELDS[field]
    if len(v) > MAX_TEXT_LENGTH or _CONTROL.search(v):
        raise HabeasError(f"field {field}: the value is too long or holds a control character")
    if spec.check == "date":
        try:
            return date.fromisoformat(v).isoformat()
        except ValueError:
            raise HabeasError(f"field {field}: {v[:40]!r} is not a day (YYYY-MM-DD)") from None
    if spec.check in ("integer", "float"):
        try:
            number = float(v) if spec.check == "float" else int(v)
        except ValueError:
            raise HabeasError(f"field {field}: {v[:40]!r} is not a number") from None
        low, high = spec.min_value, spec.max_value
        if (low is not None and number < low) or (high is not None and number > high):
            raise HabeasError(f"field {field}: {v} is outside {low} to {high}")
        return str(number)
    if spec.check == "code":
        if v not in spec.codes:
            raise HabeasError(
                f"field {field}: {v[:40]!r} is not one of {', '.join(sorted(spec.codes))}"
            )
        return v
    shape = _DIGITS.get(spec.check)
    if shape is not None:
        clean = re.sub(r"[\s-]", "", v).upper() if spec.check != "license" else v.upper()
        if not shape[0].fullmatch(clean):
            raise HabeasError(f"field {field}: the value must be {shape[1]}")
        return clean
    return v


def check_decision(decision: str) -> str:
    """One of corrected, split, denied."""
    if decision not in DECISIONS:
        raise HabeasError(f"a decision is one of {', '.join(DECISIONS)}, not {decision[:40]!r}")
    return decision


def state_of(acknowledged: bool, decided: bool) -> str:
    """open → acknowledged → decided."""
    if decided:
        return "decided"
    return "acknowledged" if acknowledged else "open"
