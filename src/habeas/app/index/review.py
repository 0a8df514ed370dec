"""The review of links: the queue of pairs the model is unsure about, and reviewers'
decisions (same, different, unsure; unmerges and their undoing), written to the batch
engine for the next run and shown in the published index at once."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from habeas.app.index.grants import check_page, entry, grants, not_found, refuse
from habeas.app.index.schemas import DecisionRecorded, ReviewPair, ReviewQueue
from habeas.errors import HabeasError, NotFound
from habeas.governance import audit
from habeas.resolve import queries
from habeas.resolve.publish import publish_decisions, sealed_sources
from habeas.resolve.review import decide, undo_unmerge, unmerge
from habeas.store.models import IndexDecision

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal, Work


class Reviewing:
    """Use cases: the review queue and decisions."""

    app: Habeas

    def review_queue(
        self,
        principal: Principal | None,
        purpose: str | None,
        limit: int = 20,
        offset: int = 0,
    ) -> ReviewQueue:
        """Pairs the model is unsure about, the decisions that would change most first (see
        ``habeas.resolve.review.prioritized_sql``), of sources the purpose may review."""
        check_page(limit, offset)
        with self.app.work(principal, purpose, "review_queue") as w:
            ctx, s = w.ctx, w.session
            sources = sealed_sources(s)
            allowed = grants(ctx, "review_link", sources)
            if not allowed:
                raise refuse(
                    ctx,
                    "review_queue",
                    ["review_queue"],
                    "no source's records may be reviewed by this role for this purpose",
                )
            total, rows = queries.review_pairs(s, allowed.clause, limit, offset)
            pairs = [
                ReviewPair(
                    record_id_l=p.record_id_l,
                    record_id_r=p.record_id_r,
                    person_l=p.person_l,
                    person_r=p.person_r,
                    source_l=sl,
                    source_r=sr,
                    name_l=nl,
                    name_r=nr,
                    dob_l=dl,
                    dob_r=dr,
                    match_probability=p.match_probability,
                    priority=p.priority,
                    why=p.why,
                )
                for p, sl, sr, nl, nr, dl, dr in rows
            ]
            audit.append(
                s,
                **entry(
                    ctx,
                    "review_queue",
                    ["review_queue"],
                    True,
                    f"{len(pairs)} of {total} pairs; sources: {', '.join(allowed.names())}",
                ),
            )
            return ReviewQueue(pairs=pairs, total=total, limit=limit, offset=offset)

    def _review_records(self, w: Work, action: str, record_ids: list[str]) -> None:
        """Allow a review action only when every record's source may be reviewed."""
        s, ctx = w.session, w.ctx
        res = [f"record:{r}" for r in record_ids]
        sources = sealed_sources(s)
        recs = queries.records_by_id(s, record_ids)
        missing = [r for r in record_ids if r not in recs]
        if missing:
            raise not_found(ctx, action, res, f"record {missing[0]}", "no such record")
        ok = grants(ctx, "review_link", sources)
        refused = sorted({r.source for r in recs.values() if not ok(r)})
        if refused:
            raise refuse(
                ctx,
                action,
                res,
                f"sources {', '.join(refused)} may not be reviewed by {ctx.role} for {ctx.purpose}",
            )
        named = sorted({r.source for r in recs.values()})
        audit.append(s, **entry(ctx, action, res, True, "sources: " + ", ".join(named)))

    def decide(
        self,
        principal: Principal | None,
        purpose: str | None,
        left: str,
        right: str,
        decision: str,
        reason: str,
    ) -> DecisionRecorded:
        """Record a reviewer's decision on a pair (same, different, unsure); it overrides
        the model from the next run."""

        if decision not in ("same", "different", "unsure"):
            raise HabeasError(f"decision must be same, different or unsure, not {decision!r}")
        with self.app.work(principal, purpose, "review_decide", write=True) as w:
            self._review_records(w, "review_decide", [left, right])
            with self.app.staging() as st:
                rec = decide(
                    st.con, left, right, decision, w.ctx.user, reason, self.app.clock.now()
                )
                publish_decisions(w.session, st, [rec.decision_id])
            w.done(f"decision {rec.decision_id}: {decision}", [f"record:{left}", f"record:{right}"])
            return DecisionRecorded(decision_id=rec.decision_id, warnings=list(rec.warnings))

    def unmerge(
        self,
        principal: Principal | None,
        purpose: str | None,
        person_id: str,
        records: list[str],
        reason: str,
    ) -> DecisionRecorded:
        """Split records off a person; they stay apart in later runs until undone."""

        with self.app.work(principal, purpose, "review_unmerge", write=True) as w:
            members = queries.person_record_ids(w.session, person_id)
            self._review_records(w, "review_unmerge", members or records)
            with self.app.staging() as st:
                rec = unmerge(st.con, person_id, records, w.ctx.user, reason, self.app.clock.now())
                publish_decisions(w.session, st, [rec.decision_id])
            w.done(f"unmerge decision {rec.decision_id}", [f"person:{person_id}"])
            return DecisionRecorded(decision_id=rec.decision_id, warnings=[])

    def undo(
        self, principal: Principal | None, purpose: str | None, decision_id: int, reason: str
    ) -> DecisionRecorded:
        """Withdraw an unmerge (recorded as a decision of its own)."""

        with self.app.work(principal, purpose, "review_undo", write=True) as w:
            d = w.session.get(IndexDecision, decision_id) if 0 < decision_id < 2**31 else None
            if d is None:
                raise NotFound(f"no published decision {decision_id}")
            self._review_records(w, "review_undo", json.loads(d.record_ids))
            with self.app.staging() as st:
                rec = undo_unmerge(st.con, decision_id, w.ctx.user, reason, self.app.clock.now())
                publish_decisions(w.session, st, [decision_id, rec.decision_id])
            w.done(
                f"unmerge {decision_id} undone by {rec.decision_id}", [f"decision:{decision_id}"]
            )
            return DecisionRecorded(decision_id=rec.decision_id, warnings=[])
