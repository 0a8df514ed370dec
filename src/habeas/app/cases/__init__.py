"""Cases and priorities: open, list, show, record a step, counsel, resolve a flag,
deadlines and scoring. Every step is authorized (Cedar, per step), checked by the
lifecycle's gates with the flags the index holds at that moment, stored and audited in
one transaction; the actor and role of a step are always the account's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from habeas.app.cases.documents import Documents
from habeas.app.cases.priorities import Priorities
from habeas.app.cases.reading import Reading
from habeas.app.cases.recording import Recording
from habeas.governance.disclosure import facade

if TYPE_CHECKING:
    from habeas.app.core import Habeas


@facade
class Cases(Reading, Recording, Documents, Priorities):
    """Use cases on cases, deadlines and priorities (one module per group)."""

    def __init__(self, app: Habeas) -> None:
        self.app = app
