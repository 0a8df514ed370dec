"""What the lifecycle knows about a case: its state, its flags, its field request, its
instruments and orders, and a refusal naming every reason. Plain values, read by the
transitions (``lifecycle``) and the gates (``gates``) alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from habeas.cases.instruments import Appeal, Instrument, Motion, Order, Stay


class State(StrEnum):
    """Where a case stands."""

    IDENTIFIED = "identified"
    UNDER_REVIEW = "under_review"
    CHARGED = "charged"
    WARRANT_ISSUED = "warrant_issued"
    FIELD_REQUESTED = "field_action_requested"
    APPROVED = "approved_for_field_action"
    ASSIGNED = "assigned"
    ENCOUNTERED = "encountered"
    CUSTODY_DECIDED = "custody_decided"
    IN_PROCEEDINGS = "in_proceedings"
    APPEAL_WINDOW = "appeal_window"
    APPEAL_PENDING = "appeal_pending"
    FINAL_ORDER = "final_order"
    READY_FOR_REMOVAL = "ready_for_removal"
    ON_MANIFEST = "on_manifest"
    REMOVED = "removed"
    DEPARTURE_VERIFIED = "departure_verified"
    FUGITIVE = "fugitive"
    RELEASED = "released"
    CLOSED = "closed"


TERMINAL = frozenset({State.REMOVED, State.DEPARTURE_VERIFIED, State.CLOSED})

LIFECYCLE_ACTOR = "habeas-lifecycle"
"""The actor of an event the law makes happen with time (an alternate order of removal
taking effect when a voluntary departure deadline passes)."""


@dataclass(frozen=True)
class Flag:
    """A flag from the person index (citizenship or lawful status) and its resolution."""

    kind: str  # citizenship | lawful_status
    detail: str
    record_ids: tuple[str, ...]
    resolved_by: str = ""
    reason: str = ""
    evidence: str = ""
    raised_on: date | None = None

    @property
    def open(self) -> bool:
        """Unresolved."""
        return not self.resolved_by


@dataclass(frozen=True)
class FieldRequest:
    """A request for field action and its approval by a second person."""

    requested_by: str
    requested_on: date
    approved_by: str = ""
    approved_on: date | None = None


@dataclass(frozen=True)
class CaseFile:
    """Everything the lifecycle rules read about one case."""

    case_id: str
    person_id: str
    state: State = State.IDENTIFIED
    instruments: tuple[Instrument, ...] = ()
    stays: tuple[Stay, ...] = ()
    order: Order | None = None
    final_on: date | None = None
    appeal: Appeal | None = None
    flags: tuple[Flag, ...] = ()
    field_request: FieldRequest | None = None
    encounter: str = ""  # arrested | located_not_detained | not_located
    custody: str = ""  # detained | bond | recognizance | atd | order_of_supervision
    custody_on: date | None = None
    check_ins: tuple[date, ...] = ()
    team: str = ""
    destination: str = ""
    barred: tuple[str, ...] = ()  # countries barred by withholding or torture-convention relief
    flight: str = ""
    closed_reason: str = ""
    protected_on: date | None = None  # latest stay, citizenship flag or protection recorded
    charged_on: date | None = None
    proceedings_on: date | None = None
    motion: Motion | None = None
    petition: Appeal | None = None  # a petition for review in a federal court
    assigned_on: date | None = None
    encountered_on: date | None = None
    ready_on: date | None = None
    manifest_on: date | None = None
    departed_on: date | None = None
    departure_reported_on: date | None = None
    departure_report: str = ""


@dataclass(frozen=True)
class Refused:
    """Why an event may not happen now: every reason, each specific."""

    event: str
    state: State
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.event} refused in state {self.state}: " + "; ".join(self.reasons)
