"""The monitor's status: throughput, latency, lag, backlog, effects, pending reviews."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from habeas.app.monitor.intake import STATUS_WINDOW, utc_now
from habeas.app.monitor.schemas import MonitorStatus
from habeas.monitor import queries

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal


class Status:
    """Use cases: the status."""

    app: Habeas

    def status(self, principal: Principal | None, purpose: str | None) -> MonitorStatus:
        """Throughput, latency, lag, backlog, effects and pending reviews (aggregates)."""
        now = utc_now()
        since = now - timedelta(seconds=STATUS_WINDOW)
        with self.app.work(principal, purpose, "monitor_status") as w:
            s = w.session
            recent = queries.committed_since(s, since)
            counted = queries.counts(s)
            consumers: list[dict[str, Any]] = [
                {
                    "name": c.name,
                    "via": c.via,
                    "backlog": c.backlog,
                    "delivered": c.delivered,
                    "seen_at": c.seen_at.isoformat(timespec="seconds"),
                }
                for c in queries.consumers(s)
            ]
        lat = sorted((c - r).total_seconds() * 1000 for r, c, _ in recent)
        lag = sorted((c - o).total_seconds() for _, c, o in recent)
        recently = (now - timedelta(minutes=5)).isoformat(timespec="seconds")
        fresh = [c for c in consumers if str(c["seen_at"]) > recently]
        return MonitorStatus(
            at=now,
            window_seconds=STATUS_WINDOW,
            events_in_window=len(recent),
            throughput_per_second=round(len(recent) / STATUS_WINDOW, 2),
            latency_ms_p50=_pct(lat, 0.5),
            latency_ms_p99=_pct(lat, 0.99),
            lag_seconds_p50=_pct(lag, 0.5),
            backlog=sum(int(str(c["backlog"])) for c in fresh),
            consumers=consumers,
            effects=counted.effects,
            by_kind=counted.by_kind,
            quarantined=counted.quarantined,
            pending_reviews=counted.reviews,
        )


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)
