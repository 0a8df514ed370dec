"""What every group of the cases' use cases shares: the application, the probe that
refuses a caller who may read no case, and the effects time has made due."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from habeas.cases.access import case_resource, require_case
from habeas.cases.service import record_due_effects
from habeas.errors import AccessDenied
from habeas.governance.authz import authorize
from habeas.store.models import Case

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal


class CasesBase:
    """The base of the cases' use-case groups."""

    app: Habeas

    def probe(self, ctx: Any, action: str) -> None:
        """Refuse (403, audited) a caller who may read no case at all for this purpose."""

        # counsel probes as their client's counsel; everyone else as for any case
        client = getattr(ctx, "client", "") or ""
        anyone = Case(
            id=0, person_id=client or "*", state="identified", counsel=ctx.user if client else ""
        )
        d = authorize(ctx, "read", case_resource(anyone))
        if not d.allowed:
            raise AccessDenied(
                f"{ctx.user} ({ctx.role}, purpose {ctx.purpose}) may not {action}: {d.why()}",
                {
                    "user": ctx.user,
                    "role": ctx.role,
                    "purpose": ctx.purpose,
                    "action": action,
                    "resources": ["cases"],
                    "decision": "deny",
                    "detail": d.why(),
                    "request_id": ctx.request_id or None,
                },
                d.why(),
            )

    def take_due_effects(
        self,
        principal: Principal | None,
        purpose: str | None,
        case_ids: list[int],
        client: str = "",
    ) -> int:
        """Record on these cases the events the law has made happen by today (an alternate
        order of removal after a missed voluntary departure deadline), as the lifecycle's;
        the reader's unit of work names them. Returns how many were recorded."""

        with self.app.work(principal, purpose, "case_due_effects", client=client) as w:
            for case_id in case_ids:
                require_case(w.session, w.ctx, case_id, "case_due_effects")
            n = sum(record_due_effects(w.session, w.ctx, c, self.app.today()) for c in case_ids)
            if n:
                w.done(f"{n} event(s) the law made happen", [f"case:{c}" for c in case_ids])
            return n
