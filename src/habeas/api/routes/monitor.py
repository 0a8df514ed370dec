"""The monitor's routes: a feed's events in, the monitor's status (once, or as a stream
of server-sent events the pages can read), and the review queue of events that may not
act alone."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from habeas.api.deps import C, H, edge
from habeas.app.monitor.schemas import MonitorStatus, Receipt, ReviewRow
from habeas.errors import HabeasError
from habeas.monitor.intake import RepeatedKey, no_repeated_keys

SourceName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,62}$")]
STREAM_SECONDS = 15 * 60
"""How long one status stream runs; the browser's EventSource reconnects by itself."""
STREAM_EVERY = 2.0


class ReviewDecision(BaseModel):
    """A person's decision on a review task, with the reason."""

    decision: Literal["same", "different", "dismiss"]
    reason: str = Field(min_length=5, max_length=2000)
    person_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")


def repeated_key(raw: bytes | None) -> None:
    """Refuse a batch whose JSON names a key twice in one object (the parser the route
    uses keeps the last value silently); the body is the one already read and bounded."""

    if not raw:
        return
    try:
        json.loads(raw, object_pairs_hook=no_repeated_keys)
    except RepeatedKey as exc:
        raise HabeasError(
            f"an event of the batch names the key {str(exc)[:64]!r} twice: which value is "
            "meant is not known; nothing of the batch was taken"
        ) from None
    except ValueError:
        return  # not JSON: the route's own parsing has said so already


router = APIRouter()


@router.post("/events/{source}", tags=["monitor"])
@edge
def receive(h: H, c: C, source: SourceName, body: list[Any], request: Request) -> Receipt:
    """A batch (a JSON array, at most 1,000) of a declared feed's events, posted with
    the feed's integration account (role event_feed, purpose identity_resolution).
    Each new event commits with its effect; a repeat is acknowledged and does
    nothing; a bad one is quarantined with the field and the rule it broke. A batch
    in which an event names one key twice is refused whole (nothing is taken): which
    value was meant is not known."""
    repeated_key(getattr(request, "_body", None))
    return h.monitor.receive(c.principal, c.purpose, source, body, via="http")


@router.get("/monitor/status", tags=["monitor"])
@edge
def status(h: H, c: C) -> MonitorStatus:
    """Throughput, latency, lag, backlog, effects by kind, pending reviews."""
    return h.monitor.status(c.principal, c.purpose)


@router.get("/monitor/stream", tags=["monitor"])
async def stream(h: H, request: Request, c: C) -> StreamingResponse:
    """The status as server-sent events, every two seconds, for 15 minutes."""

    async def beats() -> AsyncIterator[str]:
        started = datetime.now(UTC)
        while (datetime.now(UTC) - started).total_seconds() < STREAM_SECONDS:
            if await request.is_disconnected():
                return
            now = await asyncio.to_thread(h.monitor.status, c.principal, c.purpose)
            yield f"event: status\ndata: {json.dumps(now.model_dump(mode='json'))}\n\n"
            await asyncio.sleep(STREAM_EVERY)

    h.monitor.status(c.principal, c.purpose)  # refused before the stream starts
    return StreamingResponse(
        beats(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


@router.get("/monitor/reviews", tags=["monitor"])
@edge
def reviews(h: H, c: C, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ReviewRow]:
    """Open review tasks raised by events (case officers, supervisors; case_review)."""
    return h.monitor.reviews(c.principal, c.purpose, limit)


@router.post("/monitor/reviews/{review_id}", tags=["monitor"])
@edge
def decide(
    h: H, c: C, review_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ReviewDecision
) -> dict[str, str]:
    """Decide a review: same (the event's effect is applied now), different, dismiss."""
    said = h.monitor.decide(
        c.principal, c.purpose, review_id, body.decision, body.reason, body.person_id
    )
    return {"decided": said}
