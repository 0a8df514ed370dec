"""Legal instruments, stays, orders, appeals and motions as first-class records (pure data,
no I/O). An instrument is a document: its form, its number as issued, who signed it, when,
and where one exists the SHA-256 of the document itself."""

from __future__ import annotations

import re
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
    "nta",
    "expedited_removal",
    "reinstatement",
    "administrative_removal",
)
SUMMARY_KINDS: tuple[str, ...] = ("expedited_removal", "reinstatement", "administrative_removal")
"""Charging documents that are themselves removal orders (no hearing before a judge)."""
WARRANT_KINDS: tuple[str, ...] = ("i200", "i205")
"""Warrants, which only an authorized supervisory officer signs (8 CFR 236.1(b), 241.2(a))."""

FORMS: dict[str, str] = {
    "nta": "Notice to Appear (Form I-862)",
    "expedited_removal": "Expedited removal order (Form I-860)",
    "reinstatement": "Notice of intent/decision to reinstate a prior order (Form I-871)",
    "administrative_removal": "Final administrative removal order (Form I-851A)",
    "i200": "Warrant for arrest of alien (Form I-200)",
    "i205": "Warrant of removal/deportation (Form I-205)",
    "travel_document": "Travel document",
    "medical_clearance": "Medical clearance to travel",
}
"""Each instrument kind's form, as a court reads it."""

StayAuthority = Literal["immigration_judge", "bia", "federal_court", "agency", "automatic"]
STAY_AUTHORITIES: tuple[str, ...] = ("immigration_judge", "bia", "federal_court", "agency")
STAY_RANK: dict[str, int] = {
    "agency": 1,
    "immigration_judge": 2,
    "automatic": 2,
    "bia": 3,
    "federal_court": 4,
}
"""Who may lift whose stay: the authority that granted it, or a higher one. An automatic
stay (a motion to reopen an in-absentia order) ends with the decision on the motion, by
the immigration judge or higher."""
APPEAL_DAYS = 30
"""Days to appeal an immigration judge's decision to the Board; removal waits meanwhile."""

_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./#:_-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def number_problem(number: str) -> str | None:
    """Why ``number`` is not a document number as issued (None when it is one)."""
    if not number.strip():
        return "the document's number as issued is missing"
    if not _NUMBER.fullmatch(number):
        return (
            f"{number[:70]!r} is not a document number (1-64 letters, digits, spaces "
            "and . / # : _ -)"
        )
    return None


def sha256_problem(digest: str) -> str | None:
    """Why ``digest`` is not a SHA-256 in lowercase hex (None when it is one, or empty)."""
    if digest and not _SHA256.fullmatch(digest):
        return f"document_sha256 {digest[:70]!r} is not 64 lowercase hex digits"
    return None


@dataclass(frozen=True)
class Instrument:
    """A legal instrument: its form, its number as issued, the office and the account that
    signed it, when, until when, its status, and the document's hash or the record that
    shows it."""

    kind: InstrumentKind
    reference: str  # the number as issued; "" only for one a court record shows unnumbered
    issuing_authority: str
    issued_on: date | None  # None: the date is not on the record that shows it
    expires_on: date | None = None
    status: Literal["active", "served", "withdrawn", "cancelled"] = "active"
    country: str = ""  # travel documents: the country that issued it
    signed_by: str = ""  # the account that signed (or recorded a foreign document)
    document_sha256: str = ""
    basis: str = ""  # the ingested record that shows it, when there is one

    def valid_on(self, day: date) -> bool:
        """Active, already issued, and not expired on ``day``."""
        return (
            self.status == "active"
            and (self.issued_on is None or self.issued_on <= day)
            and (self.expires_on is None or day <= self.expires_on)
        )

    def describe(self) -> str:
        """The instrument in words, for refusals and explanations."""
        until = f", expires {self.expires_on}" if self.expires_on else ""
        number = self.reference or f"(number not on record {self.basis})"
        when = self.issued_on or "on a date not on the record"
        by = self.issuing_authority + (f", signed by {self.signed_by}" if self.signed_by else "")
        return f"{self.kind} {number} issued {when} by {by}{until}"


@dataclass(frozen=True)
class Stay:
    """An order halting removal, until lifted (or until its own end date)."""

    stay_id: str
    authority: StayAuthority
    granted_on: date | None  # None: the grant's date is not on the record (in force throughout)
    reason: str
    lifted_on: date | None = None
    lifted_by: str = ""
    until: date | None = None  # an administrative stay granted for a period
    basis: str = ""

    def active_on(self, day: date) -> bool:
        """In force on ``day``."""
        return (
            (self.granted_on is None or self.granted_on <= day)
            and (self.lifted_on is None or day < self.lifted_on)
            and (self.until is None or day <= self.until)
        )

    def describe(self) -> str:
        """E.g. 'stay granted 2026-03-02 by bia, not lifted'."""
        when = self.granted_on or "on a date not on the record"
        end = f", until {self.until}" if self.until else ", not lifted"
        return f"stay granted {when} by {self.authority} ({self.reason}){end}"


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
    alternate: bool = False  # the alternate order of removal after a missed departure deadline

    @property
    def appeal_window_ends(self) -> date:
        """The last day to appeal (no window for a summary order)."""
        return self.decided_on + timedelta(days=APPEAL_DAYS)

    def window_open_on(self, day: date) -> bool:
        """True while the appeal window holds removal."""
        return not (self.appeal_waived or self.summary) and day <= self.appeal_window_ends


@dataclass(frozen=True)
class Appeal:
    """An appeal to the Board, or a petition for review in a federal court (which does not
    stop removal by itself: only a court's stay does)."""

    filed_on: date | None  # None: a cited record shows the decision, not the filing
    body: Literal["bia", "federal_court"]
    decided_on: date | None = None
    outcome: str = ""
    court: str = ""

    @property
    def pending(self) -> bool:
        """Filed and not yet decided."""
        return self.decided_on is None


@dataclass(frozen=True)
class Motion:
    """A motion to reopen or reconsider, before the immigration judge or the Board. Only a
    motion to reopen an in-absentia order stays removal automatically (INA 240(b)(5)(C))."""

    kind: Literal["reopen", "reconsider"]
    filed_on: date
    body: str
    stay_id: str = ""  # the automatic stay it carries, if any
    decided_on: date | None = None
    outcome: str = ""

    @property
    def pending(self) -> bool:
        """Filed and not yet decided."""
        return self.decided_on is None
