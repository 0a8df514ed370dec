"""The review queue of events that may not act alone, and reviewers' decisions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from habeas.app.monitor.intake import Intake, reseal, utc_now
from habeas.app.monitor.schemas import ReviewRow
from habeas.errors import AccessDenied, HabeasError, HistoryBroken, NotFound
from habeas.monitor import effects, queries
from habeas.monitor.inbox import inbox_sealed
from habeas.monitor.intake import Checked
from habeas.monitor.rules import Link
from habeas.store.keys import key_for
from habeas.store.models import EventReview, InboxEvent

if TYPE_CHECKING:
    from habeas.app.core import Principal
    from habeas.monitor.intake import Checked


class Reviews(Intake):
    """Use cases: reviews (a decision applies an event's effect, as receiving does)."""

    def reviews(
        self, principal: Principal | None, purpose: str | None, limit: int = 100
    ) -> list[ReviewRow]:
        """The open review tasks (case officers and supervisors, purpose case_review)."""
        with self.app.work(principal, purpose, "monitor_reviews") as w:
            _may_review(w)
            rows = queries.open_reviews(w.session, limit)
            out = [
                ReviewRow(
                    id=r.id,
                    source=r.source,
                    event_id=r.event_id,
                    kind=r.kind,
                    person_id=r.person_id,
                    case_id=r.case_id,
                    detail=r.detail,
                    cites=json.loads(r.cites),
                    opened_at=r.opened_at,
                )
                for r in rows
            ]
            w.done(
                f"{len(out)} open review(s) read",
                [f"person:{r.person_id}" for r in out if r.person_id][:200],
            )
            return out

    def decide(
        self,
        principal: Principal | None,
        purpose: str | None,
        review_id: int,
        decision: str,
        reason: str,
        person_id: str | None = None,
    ) -> str:
        """Decide a review: ``same`` (the event is ``person_id``'s: its effect is applied
        now, as this reviewer's steps), ``different`` (not that person: kept apart from
        them from now on) or ``dismiss`` (seen, nothing to do), with the reason."""

        if decision not in ("same", "different", "dismiss"):
            raise HabeasError("a decision is same, different or dismiss")
        if len(reason.strip()) < 5:
            raise HabeasError("a decision needs its reason (5 characters or more)")
        with self.app.work(principal, purpose, "monitor_decide", write=True) as w:
            _may_review(w)
            r = w.session.get(EventReview, review_id)
            if r is None:
                raise NotFound(f"no review {review_id}")
            if r.status != "open":
                raise HabeasError(f"review {review_id} was decided by {r.decided_by}")
            said = decision
            if decision == "same":
                if r.kind != "match" or not person_id:
                    raise HabeasError("same names the person, on a review of a match")
                cited = json.loads(r.cites)
                candidates = {c.removeprefix("person:") for c in cited if c.startswith("person:")}
                if r.person_id:
                    candidates.add(r.person_id)
                if person_id not in candidates:
                    raise HabeasError(
                        "same may name only a person the event was matched against ("
                        + (", ".join(sorted(candidates)) or "none: the event matched nobody")
                        + f"), not {person_id}"
                    )
                row = w.session.get(InboxEvent, (r.source, r.event_id))
                assert row is not None
                feed = self.feeds.get(r.source, self.app.today())
                ev = Checked(0, r.event_id, row.kind, row.occurred_at, json.loads(row.record))
                link = Link(
                    True,
                    person_id,
                    None,
                    row.match_probability,
                    row.match_weight,
                    (f"decided by {w.ctx.user}: {reason}",),
                )
                effect = effects.apply(w.session, w.ctx, feed, ev, link, self.app.today())
                if not inbox_sealed(key_for(w.session.connection()), row):
                    raise HistoryBroken(
                        f"the inbox row of event {r.source}:{r.event_id} does "
                        "not carry its seal (written outside habeas): nothing "
                        "is done on it; report it to oversight"
                    )
                row.status, row.person_id, row.case_id = effect.status, person_id, effect.case_id
                row.effect = f"{effect.text} (after review {review_id} by {w.ctx.user})"[:4000]
                w.session.flush()
                reseal(w.session, row.source, row.event_id)
                said = f"same as {person_id}: {effect.text}"
            r.status, r.decided_by, r.decision = "decided", w.ctx.user, decision
            r.reason, r.decided_at = reason.strip()[:2000], utc_now()
            if decision == "different" and person_id:
                r.person_id = person_id
            w.done(
                f"review {review_id}: {said}"[:500],
                [
                    f"event:{r.source}:{r.event_id}",
                    *([f"person:{r.person_id}"] if r.person_id else []),
                ],
            )
            return said


def _may_review(w: Any) -> None:
    if w.ctx.role not in ("case_officer", "supervisor") or w.ctx.purpose != "case_review":
        raise AccessDenied(
            f"{w.ctx.user} ({w.ctx.role}, purpose {w.ctx.purpose}) may not "
            "review departure events: case officers and supervisors do, for "
            "case_review",
            None,
            "monitor reviews: case_review only",
        )
