"""Prioritizing open cases: facts from the records the caller's purpose may read, the
policy's evaluation stored on each case with its version and explanation, audited.

A case is re-scored only when its facts (values and the records behind them) or the
policy version changed since its last score, so running this after a new resolution,
new records or a correction re-scores exactly the cases those touched.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from habeas.cases.access import case_resource
from habeas.cases.casefile import TERMINAL
from habeas.errors import AccessDenied
from habeas.governance import audit
from habeas.governance.authz import AccessContext, authorize_batch
from habeas.prioritize.facts import FACT_SOURCES, Fact, facts_for_persons
from habeas.prioritize.policy import Policy, evaluate
from habeas.sources.access import readable_sources
from habeas.store.models import Case, PriorityHistory
from habeas.store.operational import session_factory
from habeas.store.staging import StagingStore


@dataclass
class PrioritizeReport:
    """What a prioritization run did."""

    policy_version: str
    scored: int = 0
    unchanged: int = 0
    refused: int = 0
    by_tier: Counter[int] = field(default_factory=Counter)
    sources: list[str] = field(default_factory=list)


def facts_hash(policy_version: str, facts: dict[str, Fact]) -> str:
    """A fingerprint of the facts (values and record ids) and the policy version."""
    data = {k: [v.value, list(v.record_ids)] for k, v in sorted(facts.items())}
    blob = json.dumps([policy_version, data], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Rescored:
    """One case whose priority changed."""

    case_id: int
    person_id: str
    old_tier: int | None
    old_score: float | None
    tier: int
    score: float


def score_case(
    s: Session, case: Case, policy: Policy, facts: dict[str, Fact], now: datetime, trigger: str
) -> Rescored | None:
    """Score one case from its facts unless their fingerprint is unchanged (then None):
    the case's priority set and a row of its priority history added (trigger, old → new)."""
    h = facts_hash(policy.version, facts)
    if h == case.facts_hash:
        return None
    p = evaluate(policy, facts)
    change = Rescored(
        case.id, case.person_id, case.priority_tier, case.priority_score, p.tier, float(p.score)
    )
    case.priority_tier, case.priority_score = p.tier, float(p.score)
    case.policy_version = p.policy_version
    case.priority_explanation = json.dumps([asdict(x) for x in p.fired], default=str)
    case.facts_hash = h
    case.updated_at = now
    s.add(
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
    return change


def prioritize_cases(
    engine: Engine, store: StagingStore, ctx: AccessContext, policy: Policy, today: date
) -> PrioritizeReport:
    """Score every open case the caller may write, from the sources its purpose may read."""
    why = readable_sources(store, ctx)
    sources = sorted(s for s in FACT_SOURCES if why.get(s) == "allowed")
    report = PrioritizeReport(policy.version, sources=sources)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        cases = list(
            s.execute(
                select(Case).where(Case.state.not_in([t.value for t in TERMINAL])).order_by(Case.id)
            ).scalars()
        )
        decisions = (
            authorize_batch(ctx, "write", [case_resource(c) for c in cases], step="prioritize")
            if cases
            else []
        )
        allowed = [c for c, d in zip(cases, decisions, strict=True) if d.allowed]
        report.refused = len(cases) - len(allowed)
        if cases and not allowed:
            audit.append(
                s,
                user=ctx.user,
                role=ctx.role,
                purpose=ctx.purpose,
                action="prioritize",
                resources=["cases"],
                decision="deny",
                detail=decisions[0].why(),
                request_id=ctx.request_id or None,
            )
        else:
            facts = facts_for_persons(store, [c.person_id for c in allowed], today, sources)
            changed = []
            now = datetime.now(UTC).replace(tzinfo=None)
            for case in allowed:
                f = facts[case.person_id]
                change = score_case(s, case, policy, f, now, f"prioritize by {ctx.user}")
                if change is None:
                    report.unchanged += 1
                    report.by_tier[case.priority_tier or 0] += 1
                    continue
                changed.append(case)
                report.by_tier[change.tier] += 1
            report.scored = len(changed)
            audit.append(
                s,
                user=ctx.user,
                role=ctx.role,
                purpose=ctx.purpose,
                action="prioritize",
                resources=[f"case:{c.id}" for c in changed],
                decision="allow",
                detail=f"policy {policy.version}; {len(changed)} scored, {report.unchanged} "
                f"unchanged; facts from {', '.join(sources) or 'no source'}",
                request_id=ctx.request_id or None,
            )
    if cases and not allowed:
        raise AccessDenied(
            f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not prioritize "
            f"cases: {decisions[0].why()}"
        )
    return report
