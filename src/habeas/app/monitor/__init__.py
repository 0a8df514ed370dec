"""Use cases of the monitor: events received from a feed (over HTTP, from a watched
folder, from a NATS stream — the edges differ, this is one call), the monitor's status,
and the review queue of events that may not act alone.

A feed posts with an integration account (role ``event_feed``), for the purpose
identity_resolution; the account's role is the store's. Each new event commits with its
inbox row, its effect and its audit entry in one transaction; a repeat of an event
already in the inbox is acknowledged and does nothing; a refused event is quarantined
with its reason. The answer to a feed says what became of each event, never who it is.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from habeas.app.monitor.reviews import Reviews
from habeas.app.monitor.status import Status
from habeas.governance.disclosure import facade
from habeas.monitor.feeds import FeedRegistry
from habeas.monitor.matching import Matcher

if TYPE_CHECKING:
    from habeas.app.core import Habeas


@facade
class Monitor(Reviews, Status):
    """The monitor's use cases over one application (one module per group)."""

    def __init__(self, app: Habeas) -> None:

        self.app = app
        self.feeds = FeedRegistry(app.settings.staging_path)
        self.matcher = Matcher()
        self._model: Any = None
        self._model_at = float("-inf")
        self._lock = threading.Lock()
