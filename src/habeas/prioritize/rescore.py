"""Priorities that follow every new fact: the cases of the persons a change touched are
re-scored in the change's own unit of work, as the system account.

Whatever changed the facts a policy reads (a publish of the index, a correction, a
re-link after a split) calls ``rescore`` with the persons it touched and a trigger that
names it. A case is re-scored only when its facts hash differs (values, the records
behind them, the policy version), so a full recompute over every open case gives the
same priorities; each change is a row of the priority history (trigger, old → new) and
one audit entry, and a case whose facts did not change is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from habeas.cases.casefile import TERMINAL
from habeas.governance import audit
from habeas.prioritize.facts import FACT_SOURCES, facts_for_persons
from habeas.prioritize.policy import DEFAULT_POLICY, Policy, evaluate, load_policy
from habeas.prioritize.service import facts_hash
from habeas.sources.registry import effective_purposes
from habeas.store.models import Case, PriorityHistory
from habeas.store.staging import StagingStore

SYSTEM_ACTOR = "habeas:priorities"
"""The account a re-score is recorded as: no person asked for it."""
SCORING_PURPOSE = "case_review"
"""Cases are prioritized for case review: only sources declared for it give facts."""


@dataclass(frozen=True)
class Rescored:
    """One case whose priority changed."""

    case_id: int
    person_id: str
    old_tier: int | None
    old_score: float | None
    tier: int
    score: float


@cache
def policy_in_force(path: Path = DEFAULT_POLICY) -> Policy:
    """The written policy (read and checked once per process)."""
    return load_policy(path)


def scoring_sources(store: StagingStore) -> list[str]:
    """The fact sources whose records may be read for case review."""
    purposes = effective_purposes(store)
    return sorted(s for s in FACT_SOURCES if SCORING_PURPOSE in purposes.get(s, []))


def rescore(
    db: Session | Connection,
    store: StagingStore,
    persons: Iterable[str] | None,
    today: date,
    now: datetime,
    trigger: str,
    policy: Policy | None = None,
) -> list[Rescored]:
    """Re-score the open cases of ``persons`` (every open case when None) whose facts
    changed, in ``db``'s transaction; returns the changes."""
    if isinstance(db, Session):
        return _rescore(db, store, persons, today, now, trigger, policy)
    with Session(bind=db) as session:
        return _rescore(session, store, persons, today, now, trigger, policy)


def _rescore(
    session: Session,
    store: StagingStore,
    persons: Iterable[str] | None,
    today: date,
    now: datetime,
    trigger: str,
    policy: Policy | None,
) -> list[Rescored]:
    pol = policy or policy_in_force()
    q = select(Case).where(Case.state.not_in([t.value for t in TERMINAL])).order_by(Case.id)
    if persons is not None:
        wanted = sorted(set(persons))
        if not wanted:
            return []
        q = q.where(Case.person_id.in_(wanted))
    cases = list(session.execute(q).scalars())
    if not cases:
        return []
    facts = facts_for_persons(
        store, sorted({c.person_id for c in cases}), today, scoring_sources(store)
    )
    out = []
    for case in cases:
        f = facts[case.person_id]
        h = facts_hash(pol.version, f)
        if h == case.facts_hash:
            continue
        p = evaluate(pol, f)
        change = Rescored(
            case.id, case.person_id, case.priority_tier, case.priority_score, p.tier, float(p.score)
        )
        case.priority_tier, case.priority_score = p.tier, float(p.score)
        case.policy_version = p.policy_version
        case.priority_explanation = json.dumps([asdict(x) for x in p.fired], default=str)
        case.facts_hash = h
        case.updated_at = now
        session.add(
            PriorityHistory(
                case_id=case.id,
                valid_from=now,
                policy_version=p.policy_version,
                tier=p.tier,
                score=float(p.score),
                explanation=case.priority_explanation,
                facts_hash=h,
                trigger=trigger[:200],
                old_tier=change.old_tier,
                old_score=change.old_score,
            )
        )
        audit.append(
            session,
            user=SYSTEM_ACTOR,
            role="system",
            purpose=SCORING_PURPOSE,
            action="reprioritize",
            resources=[f"case:{case.id}"],
            decision="allow",
            detail=f"{trigger}: tier {change.old_tier} → {p.tier}, score {change.old_score} → "
            f"{float(p.score)}; policy {p.policy_version}; facts {h[:16]}",
            now=now,
        )
        out.append(change)
    session.flush()
    return out
