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

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from habeas.cases.casefile import TERMINAL
from habeas.governance import audit
from habeas.prioritize.facts import FACT_SOURCES, facts_for_persons
from habeas.prioritize.policy import DEFAULT_POLICY, Policy, load_policy
from habeas.prioritize.service import Rescored, score_case
from habeas.sources.registry import effective_purposes
from habeas.store.models import Case
from habeas.store.staging import StagingStore

SYSTEM_ACTOR = "habeas:priorities"
"""The account a re-score is recorded as: no person asked for it."""
SCORING_PURPOSE = "case_review"
"""Cases are prioritized for case review: only sources declared for it give facts."""


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
        change = score_case(session, case, pol, facts[case.person_id], now, trigger)
        if change is None:
            continue
        audit.append(
            session,
            user=SYSTEM_ACTOR,
            role="system",
            purpose=SCORING_PURPOSE,
            action="reprioritize",
            resources=[f"case:{case.id}"],
            decision="allow",
            detail=f"{trigger}: tier {change.old_tier} → {change.tier}, score "
            f"{change.old_score} → {change.score}; policy {pol.version}; "
            f"facts {(case.facts_hash or '')[:16]}",
            now=now,
        )
        out.append(change)
    session.flush()
    return out
