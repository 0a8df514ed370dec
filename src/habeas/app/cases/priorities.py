"""Priorities: open cases scored by the written policy, new index flags raised first."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from habeas.app.cases.common import CasesBase
from habeas.cases.from_records import sync_flags
from habeas.errors import HabeasError
from habeas.prioritize.policy import DEFAULT_POLICY, load_policy
from habeas.prioritize.service import prioritize_cases

if TYPE_CHECKING:
    from habeas.app.core import Principal
    from habeas.prioritize.service import PrioritizeReport


class Priorities(CasesBase):
    """Use cases: priorities."""

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
