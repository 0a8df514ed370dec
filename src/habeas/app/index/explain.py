"""Why two records were linked or not: the published run's model, weight by weight."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from habeas.app.index.grants import entry, latest_run, not_found, some_records
from habeas.app.index.schemas import ExplanationOut, StepOut
from habeas.governance import audit
from habeas.resolve import queries
from habeas.resolve.explain import explain_features
from habeas.resolve.publish import sealed_sources

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal


class Explaining:
    """Use cases: explanations."""

    app: Habeas

    def explain(
        self, principal: Principal | None, purpose: str | None, left: str, right: str
    ) -> ExplanationOut:
        """Why two records were linked or not, with the published run's model: the prior,
        each comparison's level and weight, the total, and any reviewer's decision."""

        with self.app.work(principal, purpose, "explain_pair") as w:
            ctx, s = w.ctx, w.session
            res = [f"record:{left}", f"record:{right}"]
            allowed = some_records(ctx, "explain_pair", res, sealed_sources(s))
            run = latest_run(s)
            recs = queries.records_by_id(s, [left, right])
            for rid in (left, right):
                if rid not in recs or not allowed(recs[rid]):
                    raise not_found(
                        ctx,
                        "explain_pair",
                        res,
                        f"record {rid}",
                        "no such record"
                        if rid not in recs
                        else f"source {recs[rid].source} not readable",
                    )
            d = queries.pair_decision(s, left, right)
            decision = f"{d.decision} by {d.reviewer}: {d.reason}" if d else None
            e = explain_features(
                run.model_json,
                json.loads(run.input_schema),
                json.loads(recs[left].features),
                json.loads(recs[right].features),
                run.match_threshold,
            )
            named = ", ".join(sorted({recs[left].source, recs[right].source}))
            audit.append(s, **entry(ctx, "explain_pair", res, True, f"sources: {named}"))
            return ExplanationOut(
                left=left,
                right=right,
                prior_weight=e.prior_weight,
                steps=[StepOut(**vars(x)) for x in e.steps],
                match_weight=e.match_weight,
                match_probability=e.match_probability,
                threshold=e.threshold,
                person_left=recs[left].person_id,
                person_right=recs[right].person_id,
                decision=decision,
                run_id=run.run_id,
            )
