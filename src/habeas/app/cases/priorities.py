"""Priorities: open cases scored by the written policy, new index flags raised first."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from habeas.app.cases.common import CasesBase
from habeas.cases.from_records import sync_flags
from habeas.errors import HabeasError
from habeas.prioritize.policy import DEFAULT_POLICY, load_policy
from habeas.prioritize.reach import check_reach
from habeas.prioritize.service import prioritize_cases

if TYPE_CHECKING:
    from habeas.app.core import Principal
    from habeas.prioritize.service import PrioritizeReport


class PolicyCheck(BaseModel):
    """The policy in force, checked: an example of facts for each tier (None: no facts
    reach it), the range of scores, and what is wrong."""

    version: str
    tiers: dict[int, dict[str, int | bool | None] | None]
    min_score: int
    max_score: int
    problems: list[str]


class Priorities(CasesBase):
    """Use cases: priorities."""

    def policy_check(self, principal: Principal | None, purpose: str | None) -> PolicyCheck:
        """The written policy in force, checked for rigging: every tier reachable (the
        lowest included) and a score that can go down as well as up (the policy is
        public; any signed-in account may ask)."""
        with self.app.work(principal, purpose, "policy_check") as w:
            pol = load_policy(DEFAULT_POLICY)
            reach = check_reach(pol)
            w.done(f"policy {pol.version}: {'rigged' if reach.problems else 'not rigged'}")
        return PolicyCheck(
            version=pol.version,
            tiers=reach.tiers,
            min_score=reach.min_score,
            max_score=reach.max_score,
            problems=reach.problems,
        )

    def prioritize(
        self,
        principal: Principal | None,
        purpose: str | None,
        on: date,
        policy: Path | None = None,
    ) -> tuple[int, PrioritizeReport]:
        """Raise new index flags on open cases, then score every open case whose facts
        changed since its last score. Returns (flags raised, report)."""

        pol = load_policy(policy or DEFAULT_POLICY)
        with self.app.work(principal, purpose, "prioritize") as w:
            self.probe(w.ctx, "prioritize")
            raised = sync_flags(w.session, w.ctx, on)
            if raised:
                w.done(f"{raised} index flag(s) raised on open cases")
            ctx = w.ctx
        with self.app.staging() as st:
            try:
                report = prioritize_cases(self.app.engine, st, ctx, pol, on)
            except HabeasError as exc:
                self.app.record_failure(ctx, None, purpose, "prioritize", exc)
                raise
        return raised, report
