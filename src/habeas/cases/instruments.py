"""Legal instruments, stays and orders as first-class records (pure data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

InstrumentKind = Literal[
    "nta",  # notice to appear: starts removal proceedings
    "expedited_removal",  # INA 235(b)(1)
    "reinstatement",  # INA 241(a)(5), of a prior order
    "administrative_removal",  # INA 238(b)
    "i200",  # administrative warrant of arrest
    "i205",  # warrant of removal
    "travel_document",  # issued by the destination country
    "medical_clearance",  # fit to travel
]
CHARGING_KINDS: tuple[str, ...] = (
    "nta", "expedited_removal", "reinstatement", "administrative_removal",
)  # fmt: skip
SUMMARY_KINDS: tuple[str, ...] = ("expedited_removal", "reinstatement", "administrative_removal")
"""Charging documents that are themselves removal orders (no hearing before a judge)."""

StayAuthority = Literal["immigration_judge", "bia", "federal_court", "agency", "automatic"]
APPEAL_DAYS = 30
"""Days to appeal an immigration judge's decision to the Board; removal waits meanwhile."""


@dataclass(frozen=True)
class Instrument:
    """A legal instrument: its kind, who issued it, when, until when, and its status."""

    kind: InstrumentKind
    reference: str
    issuing_authority: str
    issued_on: date
    expires_on: date | None = None
    status: Literal["active", "served", "withdrawn", "cancelled"] = "active"
    country: str = ""  # travel documents: the country that issued it

    def valid_on(self, day: date) -> bool:
        """Active, already issued, and not expired on ``day``."""
        return (
            self.status == "active"
            and self.issued_on <= day
            and (self.expires_on is None or day <= self.expires_on)
        )

    def describe(self) -> str:
        """The instrument in words, for refusals and explanations."""
        until = f", expires {self.expires_on}" if self.expires_on else ""
        by = self.issuing_authority
        return f"{self.kind} {self.reference} issued {self.issued_on} by {by}{until}"


@dataclass(frozen=True)
class Stay:
    """An order halting removal, until lifted."""

    stay_id: str
    authority: StayAuthority
    granted_on: date
    reason: str
    lifted_on: date | None = None
    lifted_by: str = ""

    def active_on(self, day: date) -> bool:
        """In force on ``day``."""
        return self.granted_on <= day and (self.lifted_on is None or day < self.lifted_on)

    def describe(self) -> str:
        """E.g. 'stay granted 2026-03-02 by bia, not lifted'."""
        return f"stay granted {self.granted_on} by {self.authority} ({self.reason}), not lifted"


@dataclass(frozen=True)
class Order:
    """An immigration judge's decision (or a summary order) and what follows from it."""

    kind: Literal["removal_order", "voluntary_departure", "relief_granted"]
    decided_on: date
    authority: str
    in_absentia: bool = False
    departure_deadline: date | None = None  # voluntary departure
    appeal_waived: bool = False
    summary: bool = False  # expedited removal, reinstatement, administrative removal

    @property
    def appeal_window_ends(self) -> date:
        """The last day to appeal (no window for a summary order)."""
        return self.decided_on + timedelta(days=APPEAL_DAYS)

    def window_open_on(self, day: date) -> bool:
        """True while the appeal window holds removal."""
        return not (self.appeal_waived or self.summary) and day <= self.appeal_window_ends


@dataclass(frozen=True)
class Appeal:
    """An appeal to the Board (or a petition for review in a federal court)."""

    filed_on: date
    body: Literal["bia", "federal_court"]
    decided_on: date | None = None
    outcome: Literal["", "dismissed", "sustained", "remanded"] = ""

    @property
    def pending(self) -> bool:
        """Filed and not yet decided."""
        return self.decided_on is None
