"""Synthetic departure feeds: their declarations, and a stream of events for a world.

The stream is what a monitor meets in service: exits of people with and without cases
(airline manifests, land-border crossings in both directions), self-departure reports
from an app (with a photo reference the declaration does not allow), consular
verification notices, name and date noise, the same event delivered twice, events
delivered out of order, a few malformed ones and a few for people the index has never
seen. The ledger says, for every event, who it is truly about and what should follow,
so a bench can count what was lost, doubled or matched to the wrong person.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from habeas.synth.agencies import PORTS, recorded_names
from habeas.synth.declarations import YEAR
from habeas.synth.noise import dob_error, typo
from habeas.synth.people import Person
from habeas.synth.population import generate_people

FEED_PURPOSES = ["identity_resolution", "case_review", "field_operation", "custody", "oversight"]
STAMP = "%Y-%m-%dT%H:%M:%S"
"""How the synthetic feeds write when an event happened (UTC, to the second)."""


def _f(to: str, **extra: Any) -> dict[str, Any]:
    return {"to": to, **extra}


def feed_declarations() -> dict[str, dict[str, Any]]:
    """The four departure feeds, declared like any source (agency, legal authority,
    purposes, allowed fields, retention), with their ``[event]`` section."""
    at = _f("event_date", date_format=STAMP, required=True)
    return {
        "airline_exits": {
            "name": "airline_exits",
            "agency": "U.S. Customs and Border Protection (synthetic)",
            "system": "Departure passenger manifests from airlines (synthetic, APIS-like)",
            "category": "border",
            "legal_authority": "8 U.S.C. 1221; 8 CFR 231.2; 19 CFR 122.75a",
            "purposes": FEED_PURPOSES,
            "retention_days": 75 * YEAR,
            "identifier_types": ["passport_number"],
            "natural_key": ["event_id"],
            "format": {"kind": "jsonl"},
            "event": {"kind": "exit", "id": "event_id", "at": "departed_at"},
            "fields": {
                "event_id": _f("reference", required=True),
                "departed_at": at,
                "document_number": _f("passport_number", required=True),
                "document_country": _f("passport_country"),
                "surname": _f("family_name", required=True),
                "given_names": _f("given_name"),
                "birth_date": _f("dob", required=True),
                "sex": _f("sex"),
                "airport": _f("location"),
            },
            "description": "One event per passenger on a departing international flight, "
            "sent by the carrier at wheels-up. The flight and destination are not kept.",
        },
        "land_border_crossings": {
            "name": "land_border_crossings",
            "agency": "U.S. Customs and Border Protection (synthetic)",
            "system": "Land-border entry and exit records (synthetic, biographic exit)",
            "category": "border",
            "legal_authority": "8 U.S.C. 1365b; 8 CFR 215.8; 8 CFR 235.1",
            "purposes": FEED_PURPOSES,
            "retention_days": 75 * YEAR,
            "identifier_types": ["passport_number"],
            "natural_key": ["crossing_id"],
            "format": {"kind": "jsonl"},
            "event": {
                "kind": "crossing",
                "id": "crossing_id",
                "at": "crossed_at",
                "direction": "direction",
            },
            "fields": {
                "crossing_id": _f("reference", required=True),
                "crossed_at": at,
                "direction": _f("event_type", required=True),
                "document_number": _f("passport_number"),
                "document_country": _f("passport_country"),
                "surname": _f("family_name", required=True),
                "given_names": _f("given_name"),
                "birth_date": _f("dob", required=True),
                "port_code": _f("location"),
            },
        },
        "departure_app_reports": {
            "name": "departure_app_reports",
            "agency": "U.S. Customs and Border Protection (synthetic)",
            "system": "Self-reported departures from a mobile app (synthetic, CBP Home-like)",
            "category": "border",
            "legal_authority": "8 U.S.C. 1229c; 8 CFR 240.25",
            "purposes": FEED_PURPOSES,
            "retention_days": 10 * YEAR,
            "identifier_types": ["a_number"],
            "natural_key": ["report_id"],
            "format": {"kind": "jsonl"},
            "event": {"kind": "self_report", "id": "report_id", "at": "reported_at"},
            "fields": {
                "report_id": _f("reference", required=True),
                "reported_at": at,
                "a_number": _f("a_number"),
                "first_name": _f("given_name"),
                "last_name": _f("family_name", required=True),
                "date_of_birth": _f("dob", required=True),
                "country_now": _f("location"),
            },
            "description": "A person reports having left. The app also sends a photo "
            "reference and the phone's position: neither is allowed, so neither is kept.",
        },
        "removal_verifications": {
            "name": "removal_verifications",
            "agency": "U.S. Immigration and Customs Enforcement (synthetic)",
            "system": "Verification of departure notices from consulates (synthetic, I-392-like)",
            "category": "immigration",
            "legal_authority": "8 U.S.C. 1231(a); 8 CFR 241.7; 8 CFR 240.26",
            "purposes": FEED_PURPOSES,
            "retention_days": 75 * YEAR,
            "identifier_types": ["a_number"],
            "natural_key": ["notice_id"],
            "format": {"kind": "jsonl"},
            "event": {"kind": "removal_verification", "id": "notice_id", "at": "verified_at"},
            "fields": {
                "notice_id": _f("reference", required=True),
                "verified_at": at,
                "a_number": _f("a_number", required=True),
                "surname": _f("family_name", required=True),
                "given_name": _f("given_name"),
                "birth_date": _f("dob"),
                "country": _f("location"),
            },
        },
    }


@dataclass(frozen=True)
class Planned:
    """One event of the stream and what it truly is (the ledger's row)."""

    feed: str
    event_id: str
    body: dict[str, Any]
    person: str | None
    """The true person (the world's id), None for someone the world does not hold."""
    kind: str  # exit | entry | self_report | removal_verification | malformed
    repeat: bool = False
    """The same event delivered again (the first delivery is the one that counts)."""

    def ledger(self) -> dict[str, Any]:
        """The ledger's row (never sent to habeas)."""
        return {
            "feed": self.feed,
            "event_id": self.event_id,
            "person": self.person,
            "kind": self.kind,
            "repeat": self.repeat,
        }


def _stamp(at: datetime) -> str:
    return at.strftime(STAMP)


def _dob(rng: random.Random, p: Person) -> str:
    born = dob_error(rng, p.dob) if rng.random() < 0.03 else p.dob
    return born.isoformat()


def _stranger(rng: random.Random, n: int, seed: int, as_of: date) -> Person:
    """Someone the world does not hold (a new population, other seed, same traditions)."""
    return generate_people(1, seed * 7919 + n, as_of)[0]


def plan_stream(
    people: int,
    seed: int,
    events: int,
    start: datetime,
    rate: float,
    as_of: date,
    stream_seed: int = 1,
    tag: str = "",
) -> list[Planned]:
    """``events`` events (repeats included) for the world of ``people`` persons and
    ``seed``, happening from ``start`` at ``rate`` a second, in delivery order; ``tag``
    goes into every event id (streams of one world with different tags share none)."""
    rng = random.Random(f"events:{seed}:{stream_seed}")
    population = generate_people(people, seed, as_of)
    with_case = [p for p in population if p.status in ("final_order", "departed")]
    travellers = [p for p in population if p.passport]
    numbered = [p for p in population if p.a_number]
    out: list[Planned] = []
    step = 1.0 / max(rate, 0.001)
    n = 0
    while len(out) < events:
        n += 1
        at = start + timedelta(seconds=n * step)
        roll = rng.random()
        stranger = rng.random() < 0.03
        if roll < 0.58:
            feed, kind = "airline_exits", "exit"
        elif roll < 0.83:
            feed = "land_border_crossings"
            kind = "exit" if rng.random() < 0.8 else "entry"
        elif roll < 0.93:
            feed, kind = "departure_app_reports", "self_report"
        else:
            feed, kind = "removal_verifications", "removal_verification"
        pool = (
            numbered if feed in ("departure_app_reports", "removal_verifications") else travellers
        )
        cased = [p for p in with_case if (p.a_number if pool is numbered else p.passport)]
        if stranger:
            p = _stranger(rng, n, seed, as_of)
            if pool is travellers and not p.passport:
                p.passport = f"X{rng.randrange(10**8):08d}"
            if pool is numbered and not p.a_number:
                p.a_number = f"{rng.randrange(10**8, 10**9)}"
        elif cased and rng.random() < 0.35:
            p = rng.choice(cased)
        else:
            p = rng.choice(pool)
        body = _body(rng, feed, kind, p, at, n, tag)
        planned = Planned(feed, body[_ID[feed]], body, None if stranger else p.pid, kind)
        if rng.random() < 0.005:  # malformed: a date no calendar has, or no id at all
            broken = dict(body)
            if rng.random() < 0.5:
                broken[_BIRTH[feed]] = "1987-13-45"
            else:
                broken.pop(_ID[feed])
            planned = Planned(
                feed, str(broken.get(_ID[feed], f"(none {n})")), broken, planned.person, "malformed"
            )
        out.append(planned)
        if rng.random() < 0.04 and len(out) < events:  # delivered again, later
            out.append(
                Planned(
                    feed, planned.event_id, planned.body, planned.person, planned.kind, repeat=True
                )
            )
    out = out[:events]
    for i in range(len(out) - 1):  # out of order: a few events overtake the one before
        if rng.random() < 0.08:
            out[i], out[i + 1] = out[i + 1], out[i]
    return _repeats_after_first(out)


def _repeats_after_first(out: list[Planned]) -> list[Planned]:
    """Mark as the repeat whichever delivery of an event comes second after shuffling."""
    seen: set[tuple[str, str]] = set()
    fixed = []
    for e in out:
        key = (e.feed, e.event_id)
        fixed.append(Planned(e.feed, e.event_id, e.body, e.person, e.kind, key in seen))
        seen.add(key)
    return fixed


_ID = {
    "airline_exits": "event_id",
    "land_border_crossings": "crossing_id",
    "departure_app_reports": "report_id",
    "removal_verifications": "notice_id",
}
_BIRTH = {
    "airline_exits": "birth_date",
    "land_border_crossings": "birth_date",
    "departure_app_reports": "date_of_birth",
    "removal_verifications": "birth_date",
}
ABROAD = ("MX", "GT", "HN", "SV", "CO", "IN", "CN", "PH", "VN", "DO", "HT", "BR", "NG", "UA")


def _body(
    rng: random.Random, feed: str, kind: str, p: Person, at: datetime, n: int, tag: str = ""
) -> dict[str, Any]:
    given, _middle, family = recorded_names(rng, p, fold=True)
    if rng.random() < 0.03:
        family = typo(rng, family)
    if feed == "airline_exits":
        return {
            "event_id": f"AX{tag}{n:09d}",
            "departed_at": _stamp(at),
            "document_number": p.passport,
            "document_country": p.country[1],
            "surname": family.upper(),
            "given_names": given.upper(),
            "birth_date": _dob(rng, p),
            "sex": p.sex,
            "airport": rng.choice(PORTS[:7]),
            "flight": f"{rng.choice(('AA', 'DL', 'UA', 'AM', 'AV'))}{rng.randrange(10, 999)}",
            "destination": p.country[1],
        }
    if feed == "land_border_crossings":
        surname, names = family.upper(), given.upper()
        if rng.random() < 0.08:
            surname, names = names, surname  # name order swapped at the booth
        return {
            "crossing_id": f"LB{tag}{n:09d}",
            "crossed_at": _stamp(at),
            "direction": "EXIT" if kind == "exit" else "ENTRY",
            "document_number": p.passport,
            "document_country": p.country[1],
            "surname": surname,
            "given_names": names,
            "birth_date": _dob(rng, p),
            "port_code": rng.choice(PORTS[7:]),
        }
    if feed == "departure_app_reports":
        return {
            "report_id": f"SR{tag}{n:09d}",
            "reported_at": _stamp(at),
            "a_number": p.a_number,
            "first_name": given,
            "last_name": family,
            "date_of_birth": _dob(rng, p),
            "country_now": p.country[1] or rng.choice(ABROAD),
            "photo_ref": f"selfie-{rng.randrange(10**12):012d}.jpg",
            "latitude": round(rng.uniform(-30, 50), 4),
            "longitude": round(rng.uniform(-110, 120), 4),
        }
    return {
        "notice_id": f"VD{tag}{n:09d}",
        "verified_at": _stamp(at),
        "a_number": p.a_number,
        "surname": family.upper(),
        "given_name": given.upper(),
        "birth_date": _dob(rng, p),
        "country": p.country[1],
    }


def as_lines(stream: list[Planned]) -> Iterator[str]:
    """The stream as JSON lines: ``{"source": …, "event": {…}}`` per delivery."""
    for e in stream:
        yield json.dumps({"source": e.feed, "event": e.body}, sort_keys=True)
