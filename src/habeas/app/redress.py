"""Redress (safeguard 9): disputes on a person's record, link or flag, their clocks, and
decisions that travel.

A dispute is opened by counsel for their client, or by a case officer or a supervisor;
a supervisor who did not open it acknowledges and decides it (Cedar: ``dispute`` and
``decide_dispute``). A correction supersedes the value (the old one kept), then, in the
decision's unit of work and each audited citing it: the persons the record touches are
re-linked with the published model, their index is published again (flags clear or
appear), their cases re-scored, open assignments a new flag forbids cancelled, earlier
recipients of the record notified, and a person id that lost records redirects. A split
does the same through a recorded judgement that later runs keep. A denial lets the
subject file a statement of disagreement, which travels with the record.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from habeas.app.index.grants import entry, person_resource, refuse
from habeas.cases.queries import cases_of_person
from habeas.errors import HabeasError, NotFound
from habeas.governance import audit
from habeas.governance.authz import AccessContext, Resource, authorize
from habeas.governance.disclosure import FIELD_KINDS, facade, saw
from habeas.redress import disputes as store
from habeas.redress.clocks import overdue
from habeas.redress.rules import (
    MAX_REASON,
    MAX_STATEMENT,
    check_correction,
    check_decision,
    check_text,
    state_of,
)
from habeas.resolve import queries
from habeas.resolve.publish import publish_decisions, publish_persons
from habeas.resolve.relink import Correction, Relinked, relink
from habeas.resolve.review import unmerge
from habeas.sources.corrections import staged_value
from habeas.store.models import Dispute

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from habeas.app.core import Habeas, Principal, Work


class DisputeOut(BaseModel):
    """A dispute as its reader sees it, with its clocks and what its decision did."""

    dispute_id: int
    person_id: str
    target_kind: str
    target: str
    record_ids: list[str]
    field: str | None
    claimed_value: str | None
    reason: str
    documents: list[dict[str, str]]
    opened_by: str
    opened_role: str
    opened_at: datetime
    state: str
    acknowledge_by: date
    decide_by: date
    overdue: list[str]
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision: str | None
    decision_reason: str | None
    outcome: dict[str, Any] | None
    statement: str | None
    statement_at: datetime | None
    verified: bool


class Redirect(BaseModel):
    """Where records of a person id went."""

    old_person_id: str
    new_person_id: str
    records: int
    cause: str
    reason: str
    at: datetime


def _utc_now() -> datetime:
    """Moments are kept in UTC, as the index history and the audit log keep them."""
    return datetime.now(UTC).replace(tzinfo=None)


def _out(s: Session, d: Dispute, today: date) -> DisputeOut:
    if d.field in FIELD_KINDS and d.claimed_value:  # an identifier leaves masked as its kind
        saw(FIELD_KINDS[d.field], d.claimed_value)
    return DisputeOut(
        dispute_id=d.id,
        person_id=d.person_id,
        target_kind=d.target_kind,
        target=d.target,
        record_ids=json.loads(d.record_ids),
        field=d.field,
        claimed_value=d.claimed_value,
        reason=d.reason,
        documents=json.loads(d.documents),
        opened_by=d.opened_by,
        opened_role=d.opened_role,
        opened_at=d.opened_at,
        state=state_of(d.acknowledged_at is not None, d.decided_at is not None),
        acknowledge_by=d.acknowledge_by,
        decide_by=d.decide_by,
        overdue=overdue(
            today,
            d.acknowledge_by,
            d.decide_by,
            d.acknowledged_at is not None,
            d.decided_at is not None,
        ),
        acknowledged_by=d.acknowledged_by,
        acknowledged_at=d.acknowledged_at,
        decided_by=d.decided_by,
        decided_at=d.decided_at,
        decision=d.decision,
        decision_reason=d.decision_reason,
        outcome=json.loads(d.outcome) if d.outcome else None,
        statement=d.statement,
        statement_at=d.statement_at,
        verified=store.sealed(s, d),
    )


def _dispute_resource(s: Session, d: Dispute) -> Resource:
    person = person_resource(s, d.person_id, cases_of_person(s, d.person_id))
    uid = {"type": "Habeas::Person", "id": d.person_id}
    return Resource(
        "Dispute",
        f"dispute:{d.id}",
        {"person": {"__entity": uid}, "opened_by": d.opened_by},
        ({"uid": uid, "attrs": person.attrs, "parents": []},),
    )


def _check(ctx: AccessContext, action: str, res: Resource, what: list[str]) -> None:
    """Cedar decides (and counsel acts for the client they name, no one else); a refusal
    is audited with its reason and raised."""
    if ctx.role == "counsel" and res.kind == "Person" and ctx.client != res.id:
        raise refuse(ctx, action, what, "counsel acts only for the client they name")
    decision = authorize(ctx, action, res)
    if not decision.allowed:
        raise refuse(ctx, action, what, decision.why())


@facade
class Redress:
    """Use cases: disputes, their decisions and what they set in motion."""

    def __init__(self, app: Habeas) -> None:
        self.app = app

    # -- opening -------------------------------------------------------------------------

    def open(
        self,
        principal: Principal | None,
        purpose: str | None,
        person_id: str,
        kind: str,
        target: str,
        reason: str,
        field: str | None = None,
        claimed_value: str | None = None,
        documents: list[tuple[str, bytes]] | None = None,
        client: str = "",
    ) -> DisputeOut:
        """Open a dispute on one of a person's records, links or flags."""
        why = check_text("the reason", reason, 10, MAX_REASON)
        claimed = check_correction(field, claimed_value) if field else None
        with self.app.work(principal, purpose, "dispute_open", client=client, write=True) as w:
            s, ctx = w.session, w.ctx
            res = person_resource(s, person_id, cases_of_person(s, person_id))
            _check(ctx, "dispute", res, [f"person:{person_id}"])
            if not queries.person_record_ids(s, person_id):
                raise NotFound(f"no person {person_id}")
            ids = store.target_records(s, person_id, kind, target)
            d = store.open_dispute(
                s,
                person_id=person_id,
                kind=kind,
                target=target.strip(),
                record_ids=ids,
                field=field,
                claimed_value=claimed,
                reason=why,
                documents=documents or [],
                user=ctx.user,
                role=ctx.role,
                now=_utc_now(),
                today=self.app.today(),
            )
            w.done(
                f"dispute {d.id} on {kind} {target[:80]}: acknowledge by "
                f"{d.acknowledge_by}, decide by {d.decide_by}",
                [f"dispute:{d.id}", f"person:{person_id}", *(f"record:{r}" for r in ids)],
            )
            return _out(s, d, self.app.today())

    # -- reading -------------------------------------------------------------------------

    def disputes(
        self,
        principal: Principal | None,
        purpose: str | None,
        person_id: str | None = None,
        overdue_only: bool = False,
        client: str = "",
    ) -> list[DisputeOut]:
        """Disputes of a person (or every dispute, for oversight and supervisors), with
        their clocks; ``overdue_only``: those past a due date."""
        today = self.app.today()
        with self.app.work(principal, purpose, "dispute_list", client=client) as w:
            s, ctx = w.session, w.ctx
            rows = store.disputes(s, person_id)
            if person_id is not None:
                res = person_resource(s, person_id, cases_of_person(s, person_id))
                _check(ctx, "dispute", res, [f"person:{person_id}"])
            elif ctx.role not in ("supervisor", "oversight"):
                raise refuse(
                    ctx,
                    "dispute_list",
                    ["disputes"],
                    "only a supervisor or oversight lists every dispute",
                )
            out = [_out(s, d, today) for d in rows]
            if overdue_only:
                out = [d for d in out if d.overdue]
            w.done(f"{len(out)} dispute(s)", [f"dispute:{d.dispute_id}" for d in out])
            return out

    def redirects(
        self, principal: Principal | None, purpose: str | None, person_id: str, client: str = ""
    ) -> list[Redirect]:
        """Where the records of a person id went (after a split or a correction), for
        whoever may dispute that person's data."""
        with self.app.work(principal, purpose, "person_redirects", client=client) as w:
            res = person_resource(w.session, person_id, cases_of_person(w.session, person_id))
            _check(w.ctx, "dispute", res, [f"person:{person_id}"])
            rows = store.redirects_from(w.session, person_id)
            w.done(f"{len(rows)} redirect(s)", [f"person:{person_id}"])
            return [
                Redirect(
                    old_person_id=r.old_person_id,
                    new_person_id=r.new_person_id,
                    records=r.records,
                    cause=r.cause,
                    reason=r.reason,
                    at=r.at,
                )
                for r in rows
            ]

    # -- deciding ------------------------------------------------------------------------

    def _deciding(self, w: Work, dispute_id: int) -> Dispute:
        d = store.get_dispute(w.session, dispute_id)
        _check(w.ctx, "decide_dispute", _dispute_resource(w.session, d), [f"dispute:{d.id}"])
        if not store.sealed(w.session, d):
            raise HabeasError(
                f"dispute {d.id} does not carry its seal: it was edited outside habeas"
            )
        return d

    def acknowledge(
        self, principal: Principal | None, purpose: str | None, dispute_id: int
    ) -> DisputeOut:
        """Acknowledge receipt (the 10-working-day clock stops)."""
        with self.app.work(principal, purpose, "dispute_acknowledge", write=True) as w:
            d = self._deciding(w, dispute_id)
            if d.acknowledged_at is not None:
                raise HabeasError(f"dispute {d.id} was acknowledged by {d.acknowledged_by}")
            d.acknowledged_at, d.acknowledged_by = _utc_now(), w.ctx.user
            store.reseal(w.session, d)
            late = d.acknowledged_at.date() > d.acknowledge_by
            w.done(f"dispute {d.id} acknowledged{' late' if late else ''}", [f"dispute:{d.id}"])
            return _out(w.session, d, self.app.today())

    def decide(
        self,
        principal: Principal | None,
        purpose: str | None,
        dispute_id: int,
        decision: str,
        reason: str,
        record_id: str | None = None,
        field: str | None = None,
        value: str | None = None,
        split_records: list[str] | None = None,
    ) -> DisputeOut:
        """Decide a dispute: ``corrected`` (``record_id``'s ``field`` becomes ``value``),
        ``split`` (``split_records`` leave the person, for good) or ``denied``."""
        check_decision(decision)
        why = check_text("the decision's reason", reason, 10, MAX_REASON)
        with self.app.work(principal, purpose, "dispute_decide", write=True) as w:
            d = self._deciding(w, dispute_id)
            if d.decided_at is not None:
                raise HabeasError(f"dispute {d.id} was decided ({d.decision}) by {d.decided_by}")
            now = _utc_now()
            if d.acknowledged_at is None:
                d.acknowledged_at, d.acknowledged_by = now, w.ctx.user
            if decision == "corrected":
                outcome = self._correct(w, d, record_id, field, value, why, now)
            elif decision == "split":
                outcome = self._split(w, d, split_records or [], why, now)
            else:
                outcome = {"denied": why}
            d.decided_at, d.decided_by, d.decision = now, w.ctx.user, decision
            d.decision_reason, d.outcome = why, json.dumps(outcome, sort_keys=True, default=str)
            store.reseal(w.session, d)
            w.done(f"dispute {d.id} {decision}", [f"dispute:{d.id}", f"person:{d.person_id}"])
            return _out(w.session, d, self.app.today())

    def _correct(
        self,
        w: Work,
        d: Dispute,
        record_id: str | None,
        field: str | None,
        value: str | None,
        evidence: str,
        now: datetime,
    ) -> dict[str, Any]:
        ids = json.loads(d.record_ids)
        rid = record_id or (ids[0] if len(ids) == 1 else None)
        if rid is None or rid not in ids:
            raise HabeasError(
                f"name the record to correct: one of {', '.join(ids)[:300]} (the dispute's)"
            )
        name = field or d.field
        if not name:
            raise HabeasError("name the field to correct (the dispute names none)")
        new = check_correction(name, value if value is not None else d.claimed_value)
        with self.app.staging() as st:
            old = staged_value(st, rid, name)
            if old == new:
                raise HabeasError(f"record {rid}'s {name} is already {new!r}: nothing to correct")
            c = store.add_correction(
                w.session,
                dispute_id=d.id,
                record_id=rid,
                field=name,
                old=old,
                new=new,
                evidence=evidence,
                user=w.ctx.user,
                role=w.ctx.role,
                now=now,
            )
            cause = f"correction {c.id} (dispute {d.id})"
            self._audit(
                w,
                cause,
                "record_corrected",
                [f"record:{rid}"],
                f"{name} superseded: the old value is kept beside the new one",
            )
            persons = [queries.records_by_id(w.session, [rid])[rid].person_id]
            rel = relink(st, persons, now, [Correction(c.id, rid, name, new)])
            c.run_id = rel.run_id
            store.seal_correction(w.session, c)
            outcome = self._propagate(w, st, d.id, rel, [rid], cause, evidence, now)
        outcome["correction"] = {"id": c.id, "record": rid, "field": name}
        return outcome

    def _split(
        self, w: Work, d: Dispute, records: list[str], why: str, now: datetime
    ) -> dict[str, Any]:
        if not records:
            raise HabeasError("name the records to split off the person")
        with self.app.staging() as st:
            rec = unmerge(st.con, d.person_id, records, w.ctx.user, why, now)
            publish_decisions(w.session, st, [rec.decision_id])
            cause = f"split {rec.decision_id} (dispute {d.id})"
            self._audit(
                w,
                cause,
                "person_split",
                [f"person:{d.person_id}"],
                f"{len(records)} record(s) kept apart from the rest, for good",
            )
            rel = relink(st, [d.person_id], now)
            outcome = self._propagate(w, st, d.id, rel, records, cause, why, now)
        outcome["split_decision"] = rec.decision_id
        return outcome

    def _audit(self, w: Work, cause: str, action: str, resources: list[str], detail: str) -> None:
        audit.append(
            w.session,
            **entry(w.ctx, action, resources, True, f"{cause}: {detail}"),
        )

    def _propagate(
        self,
        w: Work,
        st: Any,
        dispute_id: int,
        rel: Relinked,
        records: list[str],
        cause: str,
        why: str,
        now: datetime,
    ) -> dict[str, Any]:
        """Publish the re-linked persons (re-score and field follow-ups run there, citing
        the cause), record redirects and notify earlier recipients; each step audited."""
        s = w.session
        flags_before = {
            (f.person_id, f.flag, f.record_ids)
            for p in rel.persons
            for f in queries.person_flags(s, p)
        }
        moved_records = sorted({r for recs in rel.before.values() for r in recs})
        publish_persons(s.connection(), st, rel.run_id, rel.persons, moved_records, cause, now)
        s.expire_all()
        flags_after = {
            (f.person_id, f.flag, f.record_ids)
            for p in rel.persons
            for f in queries.person_flags(s, p)
        }
        cleared = sorted(f"{p}: {f}" for p, f, _ in flags_before - flags_after)
        raised = sorted(f"{p}: {f}" for p, f, _ in flags_after - flags_before)
        self._audit(
            w,
            cause,
            "persons_relinked",
            [f"person:{p}" for p in rel.persons],
            f"run {rel.run_id}; records moved: "
            + (", ".join(f"{a}→{b} ({n})" for a, b, n in rel.moved) or "none")
            + f"; flags cleared: {', '.join(cleared) or 'none'}"
            + f"; raised: {', '.join(raised) or 'none'}",
        )
        redirects = store.add_redirects(s, rel.moved, cause, why, now)
        productions = store.earlier_recipients(s, records)
        notices = store.notify(
            s,
            dispute_id,
            productions,
            f"{cause}: the records {', '.join(records)} you received were corrected; "
            "ask for a new packet",
            now,
        )
        for n in notices:
            self._audit(
                w,
                cause,
                "recipient_notified",
                [f"production:{n.production_id}", f"person:{n.person_id}"],
                f"notice to {n.recipient} of production {n.production_id}",
            )
        return {
            "run_id": rel.run_id,
            "persons": rel.persons,
            "moved": [list(m) for m in rel.moved],
            "flags_cleared": cleared,
            "flags_raised": raised,
            "redirects": [[r.old_person_id, r.new_person_id] for r in redirects],
            "notified": [[n.production_id, n.recipient] for n in notices],
        }

    # -- the subject's statement ---------------------------------------------------------

    def statement(
        self,
        principal: Principal | None,
        purpose: str | None,
        dispute_id: int,
        text: str,
        client: str = "",
    ) -> DisputeOut:
        """File the subject's statement of disagreement after a denial; it travels with
        the record in every later packet."""
        body = check_text("the statement", text, 10, MAX_STATEMENT)
        with self.app.work(principal, purpose, "dispute_statement", client=client, write=True) as w:
            s, ctx = w.session, w.ctx
            d = store.get_dispute(s, dispute_id)
            res = person_resource(s, d.person_id, cases_of_person(s, d.person_id))
            _check(ctx, "dispute", res, [f"dispute:{d.id}"])
            if d.decision != "denied":
                raise HabeasError(
                    f"dispute {d.id} is {d.decision or 'not decided'}: a statement of "
                    "disagreement follows a denial"
                )
            if d.statement is not None:
                raise HabeasError(f"dispute {d.id} already carries a statement")
            d.statement, d.statement_by, d.statement_at = body, ctx.user, _utc_now()
            store.reseal(s, d)
            w.done(f"statement of disagreement on dispute {d.id}", [f"dispute:{d.id}"])
            return _out(s, d, self.app.today())
