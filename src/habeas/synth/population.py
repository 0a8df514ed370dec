"""The synthetic population: who people are, their status, identifiers and moves."""

from __future__ import annotations

import random
from datetime import date, timedelta

from habeas.synth import profiles
from habeas.synth.geography import places
from habeas.synth.names import STREET_NAMES, STREET_SUFFIXES, TRADITION_WEIGHTS, TRADITIONS
from habeas.synth.people import Address, Person

STATUSES = (
    "us_born",
    "naturalized",
    "lpr",
    "visa",
    "tps",
    "daca",
    "asylum_pending",
    "in_proceedings",
    "final_order",
    "departed",
    "stayed",
    "pending_appeal",
)
STATUS_WEIGHTS = (0.26, 0.12, 0.17, 0.08, 0.04, 0.03, 0.07, 0.07, 0.06, 0.04, 0.03, 0.03)
IN_COURT = frozenset({"in_proceedings", "final_order", "departed", "stayed", "pending_appeal"})
WORKS_LEGALLY = frozenset({"us_born", "naturalized", "lpr", "tps", "daca"})


def _unique_digits(rng: random.Random, n: int, low: int, high: int, ok: object = None) -> list[int]:
    seen: set[int] = set()
    out: list[int] = []
    check = ok if callable(ok) else (lambda v: True)
    while len(out) < n:
        v = rng.randrange(low, high)
        if v not in seen and check(v):
            seen.add(v)
            out.append(v)
    return out


def _valid_ssn(v: int) -> bool:
    s = f"{v:09d}"
    return s[:3] not in ("000", "666") and s[0] != "9" and s[3:5] != "00" and s[5:] != "0000"


def _valid_itin(v: int) -> bool:
    s = f"{v:09d}"
    g = int(s[3:5])
    return s[0] == "9" and (50 <= g <= 65 or 70 <= g <= 88 or 90 <= g <= 92 or 94 <= g <= 99)


def street_address(rng: random.Random) -> str:
    """A plausible street address."""
    return f"{rng.randint(1, 9899)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"


def generate_people(n: int, seed: int, as_of: date, profile: str = "standard") -> list[Person]:
    """``n`` people, deterministic for a given seed, date and noise profile."""

    messy = profile == "messy"
    rng = random.Random(seed)
    geo = places()
    statuses = rng.choices(STATUSES, STATUS_WEIGHTS, k=n)
    traditions = rng.choices(range(len(TRADITIONS)), TRADITION_WEIGHTS, k=n)
    a_numbers = iter(_unique_digits(rng, n, 10_000_000, 240_000_000))
    ssns = iter(_unique_digits(rng, n, 1_000_000, 899_999_999, _valid_ssn))
    itins = iter(_unique_digits(rng, n // 3 + 1, 900_000_000, 999_999_999, _valid_itin))
    fbis = iter(_unique_digits(rng, n // 10 + 1, 100_000, 9_999_999))
    people = []
    for i in range(n):
        status, t = statuses[i], traditions[i]
        trad = TRADITIONS[t]
        sex = "M" if rng.random() < 0.5 else "F"
        given = rng.choice(trad.male if sex == "M" else trad.female)
        middle = (
            rng.choice(trad.male if sex == "M" else trad.female) if rng.random() < 0.45 else None
        )
        if middle == given:
            middle = None
        family: tuple[tuple[str, ...], ...] = (rng.choice(trad.family),)
        if trad.compound_family and rng.random() < 0.7:
            second = rng.choice(trad.family)
            if second != family[0]:
                family = (family[0], second)
        age_days = rng.randint(18 * 365, 82 * 365)
        dob = as_of - timedelta(days=age_days)
        country = ("United States", "USA") if status == "us_born" else rng.choice(trad.countries)
        p = Person(f"P{i + 1:07d}", t, sex, given, middle, family, dob, status, country)
        if p.foreign_born:
            p.a_number = f"{next(a_numbers):09d}"
            p.passport = f"{chr(65 + rng.randrange(26))}{rng.randrange(10**7, 10**8)}"
            earliest = max(dob + timedelta(days=365), as_of - timedelta(days=365 * 30))
            span = max(1, (as_of - earliest).days - 30)
            p.last_entry = earliest + timedelta(days=rng.randrange(span))
        elif rng.random() < 0.3:
            p.passport = f"{rng.randrange(10**8, 10**9)}"
        if status in WORKS_LEGALLY or (status == "visa" and rng.random() < 0.5):
            p.ssn = f"{next(ssns):09d}"
        elif rng.random() < 0.4:
            p.itin = f"{next(itins):09d}"
        if rng.random() < 0.07:
            p.fbi = f"{next(fbis)}{chr(65 + rng.randrange(26))}{chr(65 + rng.randrange(26))}"
        if rng.random() < 0.72:
            p.phone = f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        moves = profiles.moves(rng) if messy else rng.choices((1, 2, 3), (0.5, 0.35, 0.15))[0]
        home = rng.choice(geo)
        since = dob + timedelta(days=18 * 365)
        for m in range(moves):
            place = home if m == 0 or rng.random() < 0.4 else rng.choice(geo)
            if m > 0:
                since = since + timedelta(
                    days=rng.randint(200, max(201, (as_of - since).days // 2))
                )
            p.addresses.append(Address(street_address(rng), place, min(since, as_of)))
        legal_license = status in WORKS_LEGALLY or status == "visa"
        if rng.random() < (0.8 if legal_license else 0.3):
            p.license_state = p.addresses[-1].place.state
            p.license_no = f"{p.license_state[0]}{rng.randrange(10**7, 10**8)}"
        people.append(p)
    if messy:
        profiles.relatives(people, random.Random(f"{seed}:relatives"), as_of)
    return people
