"""What the monitor answers: each event's fate, a feed's receipt, the status, a review."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    pass


class EventResult(BaseModel):
    """What became of one event (no personal data: a feed learns no one's identity)."""

    position: int
    event_id: str | None
    status: str
    """applied | no_case | no_effect | review | unmatched | duplicate | quarantined"""
    reason: str = ""


class Receipt(BaseModel):
    """A batch's answer."""

    source: str
    received: int
    new: int
    duplicates: int
    quarantined: int
    results: list[EventResult]


class MonitorStatus(BaseModel):
    """How the monitor is doing (aggregates only)."""

    at: datetime
    window_seconds: int
    events_in_window: int
    throughput_per_second: float
    latency_ms_p50: float | None
    """From an event's arrival at habeas to its committed effect, in the window."""
    latency_ms_p99: float | None
    lag_seconds_p50: float | None
    """From when the event happened to its committed effect, in the window."""
    backlog: int
    """Events the consumers report waiting (stream pending, files not yet read)."""
    consumers: list[dict[str, Any]]
    effects: dict[str, int]
    """Events by what they did (applied, no_case, review, …), all time."""
    by_kind: dict[str, int]
    quarantined: int
    pending_reviews: dict[str, int]


class ReviewRow(BaseModel):
    """An open review task about an event."""

    id: int
    source: str
    event_id: str
    kind: str
    person_id: str | None
    case_id: int | None
    detail: str
    cites: list[str]
    opened_at: datetime
