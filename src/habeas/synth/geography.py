"""Real US geography from the offline ZIP centroid table shipped by ``zipcodes``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Place:
    """A ZIP code's centroid and its city and state."""

    zip: str
    city: str
    state: str
    lat: float
    lon: float


@lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    """Standard, active ZIP codes of the 50 states and DC, in ZIP order."""
    import zipcodes  # loads a 40k-entry table: only when a world is generated

    out = []
    for z in zipcodes.list_all():  # type: ignore[no-untyped-call]
        if z["zip_code_type"] != "STANDARD" or not z["active"] or z["country"] != "US":
            continue
        if z["state"] in ("PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP"):
            continue
        try:
            lat, lon = float(z["lat"]), float(z["long"])
        except (TypeError, ValueError):
            continue
        out.append(Place(z["zip_code"], z["city"], z["state"], lat, lon))
    out.sort(key=lambda p: p.zip)
    return tuple(out)
