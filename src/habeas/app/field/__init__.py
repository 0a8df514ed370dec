"""Use cases of field operations: the supervisor's planner (approved cases in the office's
area on a map, each with its last known address and how sure that is), assignments to a
team, a day's routes, the officer's list for the day, and outcomes from the field.

Where a caller works (a supervisor's office, a field officer's team) is read from the
store, never taken from the request. Every assignment and every outcome goes through the
case's lifecycle, so the field gate is checked again each time; an outcome carries the
UUID the officer's device made, and a second submission of it is answered with the first
one's result, never a second effect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from habeas.app.field.assign import Assigning
from habeas.app.field.officer import Officer
from habeas.app.field.planner import Planner
from habeas.app.field.setup import SetUp
from habeas.governance.disclosure import facade

if TYPE_CHECKING:
    from habeas.app.core import Habeas


@facade
class Field(SetUp, Planner, Assigning, Officer):
    """Use cases of field operations (one module per group)."""

    def __init__(self, app: Habeas) -> None:
        self.app = app
