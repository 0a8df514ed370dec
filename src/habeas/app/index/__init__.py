"""The person index as people read it: persons, search, records, explanations and the
review of links. Reads come from the index published into the operational store, so they
never wait on a resolution run; reviewers' decisions are written to the batch engine,
where the next run applies them.

Every read is decided by Cedar (the person, then each source's records) and is one audit
entry naming what was shown. A refusal never says whether the person exists: a caller
the policies let read persons for the purpose gets "not found" for a person they may not
see, exactly as for one who does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from habeas.app.index.explain import Explaining
from habeas.app.index.persons import Persons
from habeas.app.index.review import Reviewing
from habeas.governance.disclosure import facade

if TYPE_CHECKING:
    from habeas.app.core import Habeas


@facade
class PersonIndex(Persons, Explaining, Reviewing):
    """Use cases on the published person index (one module per group)."""

    def __init__(self, app: Habeas) -> None:
        self.app = app
