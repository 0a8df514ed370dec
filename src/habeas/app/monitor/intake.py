"""Events received from a feed (over HTTP, from a watched folder, from a NATS stream: one
call), checked, matched, committed with their inbox row, effect and audit entry in one
transaction; repeats acknowledged; refusals quarantined."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from habeas.app.monitor.schemas import EventResult, Receipt
from habeas.cases.common import keep_refused_attempt
from habeas.errors import AccessDenied, GateRefused, HabeasError, NotFound
from habeas.governance import audit
from habeas.governance.audit import DEFERRED
from habeas.governance.authz import Resource, authorize
from habeas.monitor import effects, queries
from habeas.monitor.effects import explanation
from habeas.monitor.feeds import FeedRegistry
from habeas.monitor.inbox import inbox_seal, inbox_sealed
from habeas.monitor.intake import MAX_EVENTS, Checked, Rejected, check_batch
from habeas.monitor.matching import Matcher, identifiers, published_model
from habeas.monitor.rules import decide_link
from habeas.store.keys import key_for
from habeas.store.models import EventConsumer, EventQuarantine, InboxEvent

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal
    from habeas.monitor.feeds import Feed
    from habeas.monitor.intake import Checked, Rejected


QUARANTINE_DAYS = 180
STATUS_WINDOW = 60
"""Seconds of recent events the status's rates and latencies are read over."""


def utc_now() -> datetime:
    """Now, in UTC, as the store keeps it (naive)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Intake:
    """Use cases: receiving events. Holds the feeds in force and the matcher."""

    app: Habeas
    feeds: FeedRegistry
    matcher: Matcher
    _model: Any
    _model_at: float
    _lock: threading.Lock

    def _authorize(self, principal: Principal | None, purpose: str | None, source: str) -> Feed:
        """The feed, if the caller may post its events and record what they do."""
        with self.app.work(principal, purpose, "monitor_receive") as w:
            feed = self.feeds.get(source, self.app.today())
            res = Resource("Source", feed.name, {"purposes": list(feed.declaration.purposes)})
            steps = Resource(
                "Case",
                "any",
                {
                    "person": {"__entity": {"type": "Habeas::Person", "id": "any"}},
                    "person_id": "any",
                    "counsel": "",
                    "state": "",
                },
                (
                    {
                        "uid": {"type": "Habeas::Person", "id": "any"},
                        "attrs": {"flags": []},
                        "parents": [],
                    },
                ),
            )
            posts = authorize(w.ctx, "post_events", res)
            acts = authorize(w.ctx, "write", steps, step="verify_departure")
            if not (posts.allowed and acts.allowed):
                why = posts.why() if not posts.allowed else acts.why()

                entry: dict[str, Any] = dict(
                    user=w.ctx.user,
                    role=w.ctx.role,
                    purpose=w.ctx.purpose,
                    action="monitor_receive",
                    resources=[f"source:{feed.name}"],
                    decision="deny",
                    detail=why,
                    request_id=w.ctx.request_id or None,
                )
                audit.append(w.session, **entry)
                raise AccessDenied(
                    f"{w.ctx.user} ({w.ctx.role}, purpose {w.ctx.purpose}) may "
                    f"not post {feed.name} events: {why} (a feed posts with an "
                    "event_feed account, purpose identity_resolution)",
                    entry,
                    why,
                )
            return feed

    def model(self) -> Any:
        """The published model, read again at most every few seconds (a new run is
        picked up without a restart)."""

        with self._lock:
            if self._model is None or time.monotonic() - self._model_at > 5:
                with self.app.reader() as s:
                    self._model = published_model(s.connection())
                self._model_at = time.monotonic()
            return self._model

    def receive(
        self,
        principal: Principal | None,
        purpose: str | None,
        source: str,
        events: list[Any],
        via: str = "http",
        received_at: datetime | None = None,
        first: int = 1,
    ) -> Receipt:
        """Take a batch of ``source``'s events: each new one is matched and its effect
        committed with its inbox row; repeats are acknowledged; bad ones quarantined."""

        if not isinstance(events, list):
            raise HabeasError("a batch is a JSON array of events (objects)")
        if len(events) > MAX_EVENTS:
            raise HabeasError(f"a batch holds at most {MAX_EVENTS} events, not {len(events):,}")
        if via not in ("http", "folder", "nats", "cli"):
            raise HabeasError(f"unknown way in {via!r}")
        arrived = received_at or utc_now()
        feed = self._authorize(principal, purpose, source)
        batch = check_batch(feed, events, utc_now(), first)
        results = [
            EventResult(
                position=r.position, event_id=r.event_id, status="quarantined", reason=r.describe()
            )
            for r in batch.rejected
        ]
        if batch.rejected:
            self._quarantine(principal, purpose, feed, batch.rejected, via, arrived)
        fresh, dups, conflicts = self._split_known(feed, batch.checked)
        if conflicts:
            self._quarantine(principal, purpose, feed, conflicts, via, arrived)
            results += [
                EventResult(
                    position=r.position,
                    event_id=r.event_id,
                    status="quarantined",
                    reason=r.describe(),
                )
                for r in conflicts
            ]
        results += [
            EventResult(
                position=e.position,
                event_id=e.event_id,
                status="duplicate",
                reason="already received; nothing done again",
            )
            for e in dups
        ]
        results += [
            EventResult(
                position=p,
                event_id=i,
                status="duplicate",
                reason="sent twice in this batch; the first counts",
            )
            for p, i in batch.repeated
        ]
        if fresh:
            results += self._process(principal, purpose, feed, fresh, via, arrived)
        results.sort(key=lambda r: r.position)
        counts = Counter(r.status for r in results)
        return Receipt(
            source=feed.name,
            received=len(events),
            new=len(results) - counts["duplicate"] - counts["quarantined"],
            duplicates=counts["duplicate"],
            quarantined=counts["quarantined"],
            results=results,
        )

    def _split_known(
        self, feed: Feed, events: list[Checked]
    ) -> tuple[list[Checked], list[Checked], list[Rejected]]:
        """New events, true repeats, and conflicts: an event id received before with
        other content, or whose inbox row does not carry its seal (written outside
        habeas: a forged row must not swallow the real event as a 'duplicate')."""

        with self.app.reader() as s:
            key = key_for(s.connection())
            known = queries.known_events(s, feed.name, [e.event_id for e in events])
        fresh, dups, conflicts = [], [], []
        for e in events:
            row = known.get(e.event_id)
            if row is None:
                fresh.append(e)
            elif not inbox_sealed(key, row):
                conflicts.append(
                    Rejected(
                        e.position,
                        e.event_id,
                        None,
                        "inbox_row_unsealed",
                        "the inbox already holds this event id, but its row "
                        "does not carry its seal (written outside habeas): "
                        "nothing was done; report it to oversight",
                    )
                )
            elif row.record != json.dumps(e.record, sort_keys=True):
                conflicts.append(
                    Rejected(
                        e.position,
                        e.event_id,
                        None,
                        "event_id_conflict",
                        "this event id was received before with other "
                        "content: not a repeat; nothing was done",
                    )
                )
            else:
                dups.append(e)
        return fresh, dups, conflicts

    def _quarantine(
        self,
        principal: Principal | None,
        purpose: str | None,
        feed: Feed,
        rejected: list[Rejected],
        via: str,
        arrived: datetime,
    ) -> None:
        """Keep every refused event's reason (values of allowed fields only, cut short)."""
        keep = min(feed.declaration.retention_days, QUARANTINE_DAYS)
        declared = set(feed.declaration.fields)
        with self.app.work(principal, purpose, "monitor_quarantine", write=True) as w:
            for r in rejected:
                value = r.value if r.field in declared else None
                w.session.add(
                    EventQuarantine(
                        source=feed.name,
                        event_id=r.event_id,
                        via=via,
                        position=r.position,
                        received_at=arrived,
                        field=r.field,
                        rule=r.rule,
                        reason=r.reason[:2000],
                        value=value[:200] if value else None,
                        retain_until=arrived.date() + timedelta(days=keep),
                    )
                )
            w.done(f"{len(rejected)} {feed.name} event(s) quarantined", [f"source:{feed.name}"])

    def _kept_apart(self) -> list[tuple[str, frozenset[tuple[str, str]]]]:

        with self.app.reader() as s:
            rows = queries.kept_apart(s)
        return [(pid, identifiers(json.loads(rec))) for pid, rec in rows]

    def _process(
        self,
        principal: Principal | None,
        purpose: str | None,
        feed: Feed,
        events: list[Checked],
        via: str,
        arrived: datetime,
    ) -> list[EventResult]:

        model = self.model()
        with self.app.reader() as s:
            scored = self.matcher.score(s.connection(), model, feed.name, events)
        apart = self._kept_apart()
        links = []
        for e in sorted(events, key=lambda x: x.occurred_at):
            cands, compared = scored.get(e.event_id, ([], {}))
            mine = identifiers(e.record)
            kept = frozenset(p for p, ids in apart if ids & mine)
            link = decide_link(cands, mine, model.threshold, kept)
            links.append((e, link, compared.get(link.record_id or "")))
        with self.app.work(principal, purpose, "monitor_event") as w:
            return [
                self._commit(w, feed, e, link, compared, via, arrived, model)
                for e, link, compared in links
            ]

    def _commit(
        self,
        w: Any,
        feed: Feed,
        e: Checked,
        link: Any,
        compared: dict[str, Any] | None,
        via: str,
        arrived: datetime,
        model: Any,
    ) -> EventResult:
        """One event's effect, inbox row and audit entry, under a savepoint of the batch's
        transaction: all three or none (a repeat, a refusal undoes only its own event)."""

        session = w.session
        deferred = session.info.setdefault(DEFERRED, [])
        mark = len(deferred)
        try:
            with session.begin_nested():
                effect = effects.apply(session, w.ctx, feed, e, link, self.app.today())
                self._inbox(session, feed, e, link, effect, compared, model, via, arrived)
                effects.audit_event(session, w.ctx, feed, e, link, effect)
        except IntegrityError:  # another consumer committed the same event first
            del deferred[mark:]
            return EventResult(
                position=e.position,
                event_id=e.event_id,
                status="duplicate",
                reason="already received; nothing done again",
            )
        except (GateRefused, AccessDenied, HabeasError) as exc:
            if isinstance(exc, NotFound):
                raise
            del deferred[mark:]
            self._keep_refusal(session, exc)
            # the law or a policy refused the step: the event is kept, for a person
            with session.begin_nested():
                effect = effects.Effect("review", None, f"the case step was refused: {exc}")
                effects.review(
                    session,
                    feed,
                    e,
                    "refused",
                    effect.text,
                    link.person_id,
                    None,
                    [f"{feed.name}:{e.event_id}"],
                )
                self._inbox(session, feed, e, link, effect, compared, model, via, arrived)
                effects.audit_event(session, w.ctx, feed, e, link, effect)
        return EventResult(position=e.position, event_id=e.event_id, status=effect.status)

    @staticmethod
    def _keep_refusal(session: Any, exc: BaseException) -> None:
        """A refused step's own audit entry and refusal row, kept after its savepoint was
        rolled back (as the application keeps them after a rollback)."""

        entry = getattr(exc, "entry", None)
        if entry:
            audit.append(session, **entry)
        refusal = getattr(exc, "refusal", None)
        if refusal:
            keep_refused_attempt(session.connection(), refusal)

    def _inbox(
        self,
        session: Any,
        feed: Feed,
        e: Checked,
        link: Any,
        effect: Any,
        compared: dict[str, Any] | None,
        model: Any,
        via: str,
        arrived: datetime,
    ) -> None:
        session.add(
            InboxEvent(
                source=feed.name,
                event_id=e.event_id,
                kind=e.kind,
                occurred_at=e.occurred_at,
                received_at=arrived,
                committed_at=utc_now(),
                via=via,
                status=effect.status,
                person_id=link.person_id if link.linked else None,
                record_id=link.record_id if link.linked else None,
                case_id=effect.case_id,
                match_probability=link.probability,
                match_weight=link.weight,
                explanation=explanation(compared, model.model_json),
                effect=effect.text[:4000],
                record=json.dumps(e.record, sort_keys=True),
                dropped=", ".join(e.dropped) or None,
                retain_until=e.occurred_at.date() + timedelta(days=feed.declaration.retention_days),
            )
        )
        reseal(session, feed.name, e.event_id)
        session.flush()  # a repeat fails here, before anything else commits

    def post_stream(
        self,
        principal: Principal | None,
        items: list[tuple[str, Any]],
        batch: int = 50,
        via: str = "cli",
    ) -> dict[str, int]:
        """Post a stream of (feed, event) in order, each feed's events in batches of up to
        ``batch`` (within a window of the stream, so feeds interleave as they arrived);
        returns the tally of what became of the events."""
        tally: dict[str, int] = {}
        window = batch * 4
        for start in range(0, len(items), window):
            groups: dict[str, list[Any]] = {}
            for feed, event in items[start : start + window]:
                groups.setdefault(feed, []).append(event)
            for feed, events in groups.items():
                for k in range(0, len(events), batch):
                    receipt = self.receive(
                        principal, "identity_resolution", feed, events[k : k + batch], via=via
                    )
                    for r in receipt.results:
                        tally[r.status] = tally.get(r.status, 0) + 1
        return tally

    def refuse_undeclared(
        self,
        principal: Principal | None,
        purpose: str | None,
        source: str,
        count: int,
        why: str,
        via: str,
    ) -> None:
        """Keep, in quarantine, that ``count`` events came from a stream subject naming no
        declared feed (their content is not kept: no declaration allows any of it)."""
        with self.app.work(principal, purpose, "monitor_quarantine", write=True) as w:
            now = utc_now()
            for k in range(count):
                w.session.add(
                    EventQuarantine(
                        source=source[:64],
                        event_id=None,
                        via=via,
                        position=k + 1,
                        received_at=now,
                        field=None,
                        rule="undeclared-feed",
                        reason=why[:2000],
                        value=None,
                        retain_until=now.date() + timedelta(days=QUARANTINE_DAYS),
                    )
                )
            w.done(
                f"{count} event(s) of undeclared feed {source[:64]!r} quarantined",
                [f"source:{source[:64]}"],
            )

    def report_consumer(self, name: str, via: str, backlog: int, delivered: int) -> None:
        """A consumer's own report of what waits for it (no personal data)."""
        with self.app.sessions() as s, s.begin():
            row = s.get(EventConsumer, name)
            if row is None:
                s.add(
                    EventConsumer(
                        name=name, via=via, backlog=backlog, delivered=delivered, seen_at=utc_now()
                    )
                )
            else:
                row.backlog, row.delivered, row.seen_at = backlog, delivered, utc_now()


def reseal(session: Any, source: str, event_id: str) -> None:
    """Seal an inbox row as it now stands (after it was written or decided)."""

    session.flush()
    row = session.get(InboxEvent, (source, event_id))
    if row is not None:
        row.seal = inbox_seal(key_for(session.connection()), row)
