"""The follow-ups every area registers at application start, in the order they run.

A case step (``cases.follow_ups.AFTER_STEP``):
  1. custody ends the open placement when the case leaves custody;
  2. the field settles the case's open assignments (done, or cancelled with reasons).
A publish (``resolve.publish.AFTER_PUBLISH``), whole or of the persons a correction or a
split re-linked:
  1. the cases of the persons it touched are re-scored where their facts changed;
  2. the field cancels the open assignments of people a new citizenship or lawful-status
     flag now covers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from habeas.cases.follow_ups import AFTER_STEP
from habeas.custody.facilities import end_placement_on_exit
from habeas.field.assignments import cancel_after_publish, settle_after
from habeas.prioritize.rescore import rescore
from habeas.resolve.publish import AFTER_PUBLISH, Published


def rescore_after_publish(published: Published) -> None:
    """Follow-up of a publish: the cases whose facts changed are re-scored, citing it."""
    if published.store is None:
        return
    now = published.now or datetime.now(UTC).replace(tzinfo=None)
    trigger = published.cause or f"publish {published.run_id}"
    rescore(published.conn, published.store, published.persons, now.date(), now, trigger)


def install() -> None:
    """Register every follow-up (idempotent; ``Habeas`` calls it when it is built)."""
    AFTER_STEP.register("custody: end the open placement", end_placement_on_exit)
    AFTER_STEP.register("field: settle open assignments", settle_after)
    AFTER_PUBLISH.register("cases: re-score where facts changed", rescore_after_publish)
    AFTER_PUBLISH.register("field: cancel assignments of flagged people", cancel_after_publish)
