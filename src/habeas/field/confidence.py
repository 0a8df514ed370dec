"""How sure the last known address is, in parts a supervisor can check: how recent it
is, how many sources agree on it, and how far apart the addresses the sources hold are.

The score (0–100) is the sum of the parts; each part says what it counted. Nothing here
guesses an address no source holds: a candidate without a street, a ZIP code or a
geocode is not an address.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import NamedTuple

RECENCY_POINTS = 40
AGREEMENT_POINTS = 35
SPREAD_POINTS = 25
FRESH_DAYS = 90
"""An address seen within this many days is as recent as it gets."""
STALE_DAYS = 3 * 365
"""An address last seen this long ago earns nothing for recency."""
FAR_KM = 50.0
"""Sources that place the person this far apart earn nothing for spread."""
UNDATED_POINTS = 8
"""Recency points for an address no source dates: something, never much."""


class AddressSeen(NamedTuple):
    """One record's address, as its source holds it (a tuple: the planner makes one per
    record it reads, hundreds of thousands at a time)."""

    record_id: str
    source: str
    street: str | None
    city: str | None
    state: str | None
    zip: str | None
    lat: float | None
    lon: float | None
    seen: str | None  # 2024, 2024-05 or 2024-05-03, as precise as the source


@dataclass(frozen=True)
class Part:
    """One part of the confidence: its points out of its maximum, and why."""

    name: str
    points: int
    out_of: int
    why: str


@dataclass(frozen=True)
class AddressEstimate:
    """The last known address, its geocode and where that came from, and its confidence."""

    street: str
    city: str
    state: str
    zip: str
    lat: float
    lon: float
    geocode: str  # "source" (a source's own geocode) or "ZIP centroid"
    seen: str | None
    sources: tuple[str, ...]
    records: tuple[str, ...]
    confidence: int
    parts: tuple[Part, ...]
    others: tuple[dict[str, object], ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        """The estimate as JSON-ready data (the assignment keeps it as it was given)."""
        return {
            "street": self.street,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
            "lat": self.lat,
            "lon": self.lon,
            "geocode": self.geocode,
            "seen": self.seen,
            "sources": list(self.sources),
            "records": list(self.records),
            "confidence": self.confidence,
            "parts": [p.__dict__ for p in self.parts],
            "others": list(self.others),
        }


@lru_cache(maxsize=1)
def _zip_table() -> dict[str, tuple[float, float, str]]:
    import zipcodes  # a 40k-entry table, loaded once

    out: dict[str, tuple[float, float, str]] = {}
    for z in zipcodes.list_all():  # type: ignore[no-untyped-call]
        try:
            out[z["zip_code"]] = (float(z["lat"]), float(z["long"]), str(z["state"]))
        except (TypeError, ValueError, KeyError):
            continue
    return out


def zip_centroid(zip_code: str | None) -> tuple[float, float] | None:
    """The centroid of a 5-digit ZIP code, from the offline table; None when unknown."""
    if not zip_code or not re.fullmatch(r"\d{5}", zip_code[:5]):
        return None
    hit = _zip_table().get(zip_code[:5])
    return (hit[0], hit[1]) if hit else None


def zip_state(zip_code: str | None) -> str:
    """The state of a 5-digit ZIP code, from the offline table; "" when unknown."""
    if not zip_code or not re.fullmatch(r"\d{5}", zip_code[:5]):
        return ""
    hit = _zip_table().get(zip_code[:5])
    return hit[2] if hit else ""


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points, in kilometres."""
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(h)))


_PUNCT = re.compile(r"[^a-z0-9 ]")


def _norm(text: str | None) -> str:
    words = _PUNCT.sub(" ", (text or "").lower()).split()
    short = {
        "street": "st",
        "avenue": "ave",
        "road": "rd",
        "drive": "dr",
        "boulevard": "blvd",
        "lane": "ln",
        "court": "ct",
        "place": "pl",
        "apartment": "apt",
        "north": "n",
        "south": "s",
        "east": "e",
        "west": "w",
    }
    return " ".join(short.get(w, w) for w in words)


def _key(a: AddressSeen) -> str:
    """Two records hold the same address when street and ZIP agree (case, punctuation
    and the usual abbreviations aside); without a street, a geocode or ZIP stands alone."""
    if a.street and a.street.strip():
        return f"{_norm(a.street)}|{(a.zip or '')[:5]}"
    if a.lat is not None and a.lon is not None:
        return f"@{a.lat:.3f},{a.lon:.3f}"
    return f"zip|{(a.zip or '')[:5]}"


def _day(seen: str | None) -> date | None:
    """The last day a partial date can mean (2024-05 → 2024-05-31): generous to recency
    only as far as the source's own precision allows."""
    if not seen:
        return None
    try:
        if len(seen) == 4:
            return date(int(seen), 12, 31)
        if len(seen) == 7:
            y, m = int(seen[:4]), int(seen[5:7])
            nxt = date(y + (m == 12), m % 12 + 1, 1)
            return date.fromordinal(nxt.toordinal() - 1)
        return date.fromisoformat(seen[:10])
    except ValueError:
        return None


def _where(group: list[AddressSeen]) -> tuple[tuple[float, float], str] | None:
    pts = [(a.lat, a.lon) for a in group if a.lat is not None and a.lon is not None]
    if pts:
        lat = sum(float(p[0] or 0) for p in pts) / len(pts)
        lon = sum(float(p[1] or 0) for p in pts) / len(pts)
        return (lat, lon), "source"
    for a in group:
        c = zip_centroid(a.zip)
        if c is not None:
            return c, "ZIP centroid"
    return None


def estimate(seen: list[AddressSeen], today: date) -> AddressEstimate | None:
    """The last known address among ``seen`` and its confidence; None when no candidate
    can be placed on a map (no geocode and no known ZIP code)."""
    usable = [a for a in seen if (a.street or a.zip or a.lat is not None)]
    groups: dict[str, list[AddressSeen]] = {}
    if len(usable) == 1:
        groups["only"] = usable  # nothing to compare it with
    for a in usable if len(usable) > 1 else ():
        groups.setdefault(_key(a), []).append(a)
    placed = [(k, g, _where(g)) for k, g in groups.items()]
    placed = [(k, g, w) for k, g, w in placed if w is not None]
    if not placed:
        return None

    def latest(g: list[AddressSeen]) -> date:
        return max((_day(a.seen) or date.min for a in g), default=date.min)

    def rank(item: tuple[str, list[AddressSeen], object]) -> tuple[date, int, int, str]:
        _, g, _w = item
        has_street = int(any(a.street for a in g))
        return (latest(g), len({a.source for a in g}), has_street, item[0])

    placed.sort(key=rank, reverse=True)
    _, group, where = placed[0]
    assert where is not None
    point, geocode = where
    last = latest(group)
    parts: list[Part] = []
    # recency
    if last == date.min:
        parts.append(
            Part("recency", UNDATED_POINTS, RECENCY_POINTS, "no source dates this address")
        )
    else:
        age = max(0, (today - last).days)
        if age <= FRESH_DAYS:
            pts = RECENCY_POINTS
        else:
            pts = round(
                RECENCY_POINTS * max(0.0, 1 - (age - FRESH_DAYS) / (STALE_DAYS - FRESH_DAYS))
            )
        seen_text = max((a.seen for a in group if a.seen), default="")
        parts.append(Part("recency", pts, RECENCY_POINTS, f"last seen {seen_text}, {age} days ago"))
    # agreement
    agreeing = len({a.source for a in group})
    total = len({a.source for a in usable})
    pts = round(AGREEMENT_POINTS * min(agreeing, 3) / 3 * agreeing / total)
    parts.append(
        Part(
            "agreement",
            pts,
            AGREEMENT_POINTS,
            f"{agreeing} of {total} source(s) with an address hold this one",
        )
    )
    # spread: the other places sources hold, dated near the chosen one (or undated)
    others: list[dict[str, object]] = []
    far = 0.0
    for _k, g, w in placed[1:]:
        assert w is not None
        d = distance_km(point, w[0])
        g_last = latest(g)
        near_in_time = g_last == date.min or last == date.min or abs((last - g_last).days) <= 730
        if near_in_time:
            far = max(far, d)
        others.append(
            {
                "street": g[0].street or "",
                "zip": g[0].zip or "",
                "sources": sorted({a.source for a in g}),
                "seen": max((a.seen for a in g if a.seen), default=None),
                "km": round(d, 1),
            }
        )
    pts = round(SPREAD_POINTS * max(0.0, 1 - far / FAR_KM))
    why = (
        f"other addresses held within two years lie up to {far:.1f} km away"
        if far
        else "no source places the person elsewhere"
    )
    parts.append(Part("spread", pts, SPREAD_POINTS, why))
    first = next((a for a in group if a.street), group[0])
    return AddressEstimate(
        street=(first.street or "").strip(),
        city=(next((a.city for a in group if a.city), "") or "").strip(),
        state=(next((a.state for a in group if a.state and a.state.strip()), "") or "")
        .strip()
        .upper()
        or zip_state(next((a.zip for a in group if a.zip), None)),
        zip=(next((a.zip for a in group if a.zip), "") or "")[:5],
        lat=round(point[0], 6),
        lon=round(point[1], 6),
        geocode=geocode,
        seen=max((a.seen for a in group if a.seen), default=None),
        sources=tuple(sorted({a.source for a in group})),
        records=tuple(sorted(a.record_id for a in group)),
        confidence=sum(p.points for p in parts),
        parts=tuple(parts),
        others=tuple(others),
    )
