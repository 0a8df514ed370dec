"""The monitor's reads of the operational store: events already in the inbox, pairs a
reviewer kept apart, the aggregates the status shows, the open review tasks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from habeas.store.models import EventConsumer, EventQuarantine, EventReview, InboxEvent

_KNOWN = text(
    """SELECT source, event_id, kind, occurred_at, status, person_id, record_id, case_id,
              effect, record, seal FROM monitor_inbox WHERE source = :s AND event_id IN :ids"""
).bindparams(bindparam("ids", expanding=True))
_APART = text(
    """SELECT r.person_id, i.record FROM monitor_reviews r JOIN monitor_inbox i
         ON i.source = r.source AND i.event_id = r.event_id
       WHERE r.decision = 'different' AND r.person_id IS NOT NULL"""
)


def known_events(session: Session, feed: str, event_ids: Sequence[str]) -> dict[str, Any]:
    """The inbox rows of a feed's events already received, by event id."""
    rows = session.execute(_KNOWN, {"s": feed, "ids": list(event_ids)})
    return {r.event_id: r for r in rows}


def kept_apart(session: Session) -> list[tuple[str, str]]:
    """(person, the event's record as JSON) of every event a reviewer said is not the
    person it was matched to."""
    return [(pid, rec) for pid, rec in session.execute(_APART).all()]


def committed_since(session: Session, since: datetime) -> list[tuple[Any, Any, Any]]:
    """(received, committed, occurred) of the events committed since ``since`` (at most
    200,000: the status's window)."""
    q = (
        select(InboxEvent.received_at, InboxEvent.committed_at, InboxEvent.occurred_at)
        .where(InboxEvent.committed_at >= since)
        .limit(200_000)
    )
    return [(r, c, o) for r, c, o in session.execute(q).all()]


@dataclass(frozen=True)
class Counts:
    """Events by status (their effect) and by kind, open reviews by kind, quarantined."""

    effects: dict[str, int]
    by_kind: dict[str, int]
    reviews: dict[str, int]
    quarantined: int


def counts(session: Session) -> Counts:
    """Events by status and by kind, quarantined events, open reviews by kind."""
    by_status = select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
    by_kind = select(InboxEvent.kind, func.count()).group_by(InboxEvent.kind)
    reviews = (
        select(EventReview.kind, func.count())
        .where(EventReview.status == "open")
        .group_by(EventReview.kind)
    )
    quarantined = session.execute(select(func.count()).select_from(EventQuarantine)).scalar()
    return Counts(
        effects={str(k): int(v) for k, v in session.execute(by_status).all()},
        by_kind={str(k): int(v) for k, v in session.execute(by_kind).all()},
        reviews={str(k): int(v) for k, v in session.execute(reviews).all()},
        quarantined=int(quarantined or 0),
    )


def consumers(session: Session) -> list[EventConsumer]:
    """The consumers that have reported, by name."""
    return list(session.execute(select(EventConsumer).order_by(EventConsumer.name)).scalars())


def open_reviews(session: Session, limit: int) -> list[EventReview]:
    """The open review tasks, oldest first (at most ``limit``, 1 to 1,000)."""
    q = (
        select(EventReview)
        .where(EventReview.status == "open")
        .order_by(EventReview.id)
        .limit(max(1, min(limit, 1000)))
    )
    return list(session.execute(q).scalars().all())
