"""What a recorded case step sets in motion outside the case: one ordered list.

Custody ends the open placement when the case leaves custody; the field settles the
case's open assignments (done, or cancelled with the reasons). Each registers its
handler at application start (``habeas.app.wiring``); ``record_event`` runs them, in
the step's transaction, after the step is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from habeas.cases.casefile import CaseFile, State
from habeas.follow_ups import FollowUps
from habeas.governance.authz import AccessContext

LEAVES_CUSTODY = frozenset(
    {State.RELEASED, State.REMOVED, State.DEPARTURE_VERIFIED, State.CLOSED, State.FUGITIVE}
)
"""States in which nobody is held: reaching one ends the open placement."""


@dataclass(frozen=True)
class StepTaken:
    """A case step just stored: the case before and after, what was recorded, when."""

    session: Session
    ctx: AccessContext
    case_id: int
    before: CaseFile
    after: CaseFile
    kind: str
    on: date
    """The step's legal date (the day it happened)."""
    today: date
    """The day it was recorded."""

    @property
    def left_custody(self) -> bool:
        """True when this step took the case out of custody."""
        return self.after.state in LEAVES_CUSTODY and self.before.state not in LEAVES_CUSTODY


AFTER_STEP: FollowUps[StepTaken] = FollowUps("a case step")
"""Run by ``record_event`` after every stored step."""
