"""A NATS JetStream consumer of departure feeds (for deployments beyond one machine).

Feeds publish to ``departures.<feed>``; one durable pull consumer takes batches, hands
each feed's events to the same call as an HTTP batch, and acknowledges the messages
only after their effects committed. A consumer killed in between has acknowledged
nothing: the stream delivers the messages again, the inbox finds them and they do
nothing the second time. An event's arrival is the moment JetStream stored it, so the
latency measured runs from there to its committed effect.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from habeas.errors import HabeasError, UndeclaredFeed

log = logging.getLogger("habeas.monitor")

SUBJECT_PREFIX = "departures."
STREAM = "DEPARTURES"
DURABLE = "habeas-monitor"
FETCH = 200
ACK_WAIT = 10.0
"""Seconds before an unacknowledged message is delivered again (a consumer died)."""


def _need_nats() -> Any:
    try:
        import nats
    except ImportError:
        raise HabeasError(
            "the NATS consumer needs the nats extra: pip install 'habeas[nats]' (or `make "
            "test`), and a NATS server (`bash scripts/ensure-system.sh nats`)"
        ) from None
    return nats


async def ensure_stream(js: Any) -> None:
    """Create the departures stream when missing (file storage, kept 7 days)."""
    from nats.js.api import StreamConfig
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=STREAM,
                subjects=[SUBJECT_PREFIX + ">"],
                max_age=7 * 24 * 3600,
                duplicate_window=120,
            )
        )


@dataclass
class Consumed:
    """What the consumer has done so far."""

    messages: int = 0
    batches: int = 0
    backlog: int = 0


Receive = Callable[[str, list[Any], datetime], Any]
"""(feed, events, arrival) → a Receipt; raises UndeclaredFeed for an unknown feed."""
Refuse = Callable[[str, int, str], None]
"""(feed, how many, why): keep events of a feed that is not one in quarantine."""


async def consume(
    url: str,
    receive: Receive,
    refuse: Refuse,
    stop: asyncio.Event,
    report: Callable[[Consumed], None] | None = None,
    idle: float = 0.2,
) -> Consumed:
    """Consume until ``stop`` is set; returns the tally."""
    nats = _need_nats()
    from nats.errors import TimeoutError as FetchTimeout
    from nats.js.api import AckPolicy, ConsumerConfig

    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=5)
    done = Consumed()
    try:
        js = nc.jetstream()
        await ensure_stream(js)
        sub = await js.pull_subscribe(
            SUBJECT_PREFIX + ">",
            durable=DURABLE,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT, max_ack_pending=20_000
            ),
        )
        while not stop.is_set():
            try:
                msgs = await sub.fetch(batch=FETCH, timeout=idle)
            except (TimeoutError, FetchTimeout):  # an idle stream: nats-py raises either
                if report is not None:
                    done.backlog = 0
                    report(done)
                continue
            groups: dict[str, list[Any]] = {}
            for m in msgs:
                groups.setdefault(m.subject.removeprefix(SUBJECT_PREFIX), []).append(m)
            for feed, part in groups.items():
                arrived = min(m.metadata.timestamp for m in part).astimezone(UTC)
                events = [_event(m.data) for m in part]
                try:
                    await asyncio.to_thread(receive, feed, events, arrived.replace(tzinfo=None))
                except UndeclaredFeed as exc:
                    await asyncio.to_thread(refuse, feed, len(part), str(exc))
                except Exception as exc:  # the store or the registry failed: nothing acked
                    log.warning(
                        "%s events not taken (%s: %s); delivered again in 1 s",
                        feed,
                        type(exc).__name__,
                        str(exc)[:300],
                    )
                    for m in part:
                        await m.nak(delay=1.0)
                    continue
                for m in part:
                    await m.ack()
            done.messages += len(msgs)
            done.batches += 1
            done.backlog = int(msgs[-1].metadata.num_pending) if msgs else 0
            if report is not None:
                report(done)
    finally:
        await nc.close()  # nothing unacknowledged is lost: the stream delivers it again
    return done


def _event(data: bytes) -> Any:
    """A message's event: its JSON value, or the raw bytes when it is not JSON (the
    checks quarantine it, naming why)."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return bytes(data)


async def publish(url: str, items: list[tuple[str, bytes, str]]) -> int:
    """Publish (feed, payload, message id) items; the stream drops a repeated id within
    its duplicate window (the inbox drops the rest). Returns how many were published."""
    nats = _need_nats()
    nc = await nats.connect(url, connect_timeout=5)
    try:
        js = nc.jetstream()
        await ensure_stream(js)
        for feed, payload, msg_id in items:
            await js.publish(SUBJECT_PREFIX + feed, payload, headers={"Nats-Msg-Id": msg_id})
    finally:
        await nc.flush()
        await nc.close()
    return len(items)
