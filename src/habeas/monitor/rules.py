"""What a matched event may do (pure): the link's conditions, and the wording of effects.

An event acts on a person only when one person's link is at or above the clustering
threshold, no other person comes near it, none of the event's identifiers conflicts
with the person's, and no reviewer has said the event's identity is someone else's.
Anything less goes to a person in the review queue; it never closes anyone's case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from habeas.cases.casefile import CaseFile
from habeas.governance.disclosure import mask
from habeas.resolve.cluster import osa_distance

RIVAL_FLOOR = 0.5
"""A second person linked at this probability or more makes the event ambiguous."""


@dataclass(frozen=True)
class Candidate:
    """A person the event was scored against: the strongest pair through their records."""

    person_id: str
    record_id: str
    probability: float
    weight: float
    identifiers: frozenset[tuple[str, str]] = frozenset()
    """Every (kind, value) identifier the person's published records hold."""


@dataclass(frozen=True)
class Link:
    """The decision on one event: ``linked`` (may act), else why it goes to review."""

    linked: bool
    person_id: str | None
    record_id: str | None
    probability: float | None
    weight: float | None
    reasons: tuple[str, ...] = ()
    rivals: tuple[tuple[str, float], ...] = field(default=())


def _near(a: str, b: str) -> bool:
    """The same number, or one keyed-in digit or transposition off."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False

    return osa_distance(a, b) <= 1


def identifier_conflicts(
    event: frozenset[tuple[str, str]], person: frozenset[tuple[str, str]]
) -> list[str]:
    """Each identifier of the event that the person holds under another value (an
    A-number, a passport): two people, not one person mistyped."""
    out = []
    for kind, value in sorted(event):
        theirs = sorted(v for k, v in person if k == kind)
        if theirs and not any(_near(value, v) for v in theirs):
            shown = ", ".join(mask(v) or "" for v in theirs[:3])
            out.append(
                f"{kind.replace('_', ' ')} {mask(value)} on the event, {shown} "
                "on the person's records"
            )
    return out


def decide_link(
    candidates: list[Candidate],
    event_identifiers: frozenset[tuple[str, str]],
    threshold: float,
    kept_apart: frozenset[str] = frozenset(),
) -> Link:
    """Link the event to one person, or say why not. ``kept_apart``: persons a reviewer
    has said this event's identity is not."""
    best: dict[str, Candidate] = {}
    for c in candidates:
        if c.person_id not in best or c.probability > best[c.person_id].probability:
            best[c.person_id] = c
    ranked = sorted(best.values(), key=lambda c: (-c.probability, c.person_id))
    rivals = tuple((c.person_id, round(c.probability, 4)) for c in ranked[:3])
    if not ranked:
        return Link(False, None, None, None, None, ("no person in the index resembles the event",))
    top = ranked[0]
    reasons: list[str] = []
    if top.probability < threshold:
        reasons.append(
            f"the strongest link (person {top.person_id}, p={top.probability:.3f}) is "
            f"below the threshold {threshold}"
        )
    if top.person_id in kept_apart:
        reasons.append(f"a reviewer decided this identity is not person {top.person_id}")
    conflicts = identifier_conflicts(event_identifiers, top.identifiers)
    reasons += conflicts
    if len(ranked) > 1 and ranked[1].probability >= RIVAL_FLOOR:
        reasons.append(
            f"person {ranked[1].person_id} is linked too (p={ranked[1].probability:.3f})"
            ": two people resemble the event"
        )
    return Link(
        not reasons,
        top.person_id,
        top.record_id,
        top.probability,
        top.weight,
        tuple(reasons),
        rivals,
    )


def executed_order(case: CaseFile) -> str:
    """What a verified departure does to the case's order, said plainly (or '')."""
    order = case.order
    if order is not None and order.kind == "voluntary_departure":
        return f"the voluntary departure granted {order.decided_on} is complied with (8 CFR 240.25)"
    if case.final_on is not None and order is not None and order.kind == "removal_order":
        return (
            f"the final order of removal of {case.final_on} counts as executed by "
            "self-departure (8 U.S.C. 1101(g))"
        )
    return ""


def exit_is_stale(exit_at: datetime, last_entry: datetime | None) -> bool:
    """An exit older than an entry already received: the person came back since."""
    return last_entry is not None and exit_at < last_entry


def entry_after_departure(entry_on: date, departed_on: date | None) -> bool:
    """An entry on or after the day a departure was verified."""
    return departed_on is not None and entry_on >= departed_on


def _earliest(text: str) -> date | None:
    """The first day a published date (1967, 1967-05 or 1967-05-03) can be."""
    parts = text.split("-")
    try:
        return date(
            int(parts[0]),
            int(parts[1]) if len(parts) > 1 else 1,
            int(parts[2]) if len(parts) > 2 else 1,
        )
    except (ValueError, IndexError):
        return None


def dated_before(on: date, births: list[str], case: CaseFile) -> str | None:
    """Why a departure dated ``on`` cannot be what it says, naming both dates: before the
    person could have been born (by every birth date their records give), or before the
    order it would execute. None when the date fits."""
    born = [d for d in (_earliest(b) for b in births if b) if d is not None]
    if born and on < min(born):
        return (
            f"the event is dated {on}, before the person was born ({min(born)} at the "
            "earliest, by their records): a wrong date or a wrong person"
        )
    order = case.order
    decided = order.decided_on if order is not None else None
    if decided is not None and on < decided:
        return (
            f"the event is dated {on}, before the order of {decided} it would execute: a "
            "departure before an order does not execute it"
        )
    return None
