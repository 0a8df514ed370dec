"""Noise profiles: the standard world, and a second one designed apart from it.

The resolver was built against the standard profile; tuning to one generator is a bug
waiting for real data. The ``messy`` profile changes what the first never does:

- **people**: households sharing an address (and some a phone), twins (same family
  name, birth date and address, different given names and numbers), juniors (same
  name and address, a generation apart), people who moved often (long-stale addresses);
- **names**: whole names in one string in either order (``LAST, FIRST`` or ``First
  Last``), OCR confusions in scanned forms (``rn``/``m``, ``l``/``1``, ``O``/``0``);
- **dates**: birth dates known only to the year, or with ``00`` placeholders;
- **identifiers**: a column mixing A-numbers, SSNs and another system's numbers, and
  OCR-damaged digits that no validator should accept.

Every change is made to the emitted tables and their declarations after the standard
emitters ran, so the standard profile's bytes do not change.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from habeas.synth.names import TRADITIONS
from habeas.synth.noise import ascii_fold, typo, variant
from habeas.synth.people import Address, Person

PROFILES = ("standard", "messy")
"""The noise profiles ``habeas synth --profile`` accepts."""

_OCR = (("rn", "m"), ("m", "rn"), ("cl", "d"), ("l", "1"), ("o", "0"), ("e", "c"), ("h", "b"))


def ocr(rng: random.Random, text: str) -> str:
    """One confusion a scanner makes reading a typed form (``rn`` for ``m``, 0 for o)."""
    lower = text.lower()
    options = [(a, b) for a, b in _OCR if a in lower]
    if not options:
        return typo(rng, text)
    a, b = rng.choice(options)
    i = lower.index(a)
    repl = b.upper() if text[i : i + len(a)].isupper() else b
    return text[:i] + repl + text[i + len(a) :]


# ---------------------------------------------------------------------------- people
def _other_given(rng: random.Random, p: Person) -> tuple[str, ...]:
    trad = TRADITIONS[p.tradition]
    pool = trad.male if p.sex == "M" else trad.female
    for _ in range(10):
        g = rng.choice(pool)
        if g[0] != p.given[0]:
            return g
    return p.given


def relatives(people: list[Person], rng: random.Random, as_of: date) -> None:
    """Make neighbours in the list into households, twins and juniors (in place)."""
    i = 0
    while i < len(people) - 1:
        p, q = people[i], people[i + 1]
        r = rng.random()
        same_birth = p.foreign_born == q.foreign_born
        if r < 0.015 and same_birth:  # twins
            q.tradition, q.family, q.dob, q.country = p.tradition, p.family, p.dob, p.country
            q.given = _other_given(rng, q)
            q.addresses = list(p.addresses)
            i += 2
        elif r < 0.03 and same_birth and p.dob + timedelta(days=20 * 365) < as_of:
            junior_dob = p.dob + timedelta(days=rng.randint(20 * 365, 35 * 365))
            if junior_dob <= as_of - timedelta(days=18 * 365):  # a junior: same name
                p.sex = q.sex = "M"
                q.tradition, q.given, q.family, q.country = (
                    p.tradition,
                    p.given,
                    p.family,
                    p.country,
                )
                q.dob = junior_dob
                q.addresses = [
                    replace(p.addresses[-1], since=max(junior_dob, p.addresses[-1].since))
                ]
            i += 2
        elif r < 0.25:  # a household: the same current address, sometimes one phone
            home = p.addresses[-1]
            q.addresses[-1] = Address(home.street, home.place, q.addresses[-1].since)
            if rng.random() < 0.3:
                q.phone = p.phone
            i += 2
        else:
            i += 1


def moves(rng: random.Random) -> int:
    """How many addresses a person of the messy profile has had (more than the standard)."""
    return rng.choices((1, 2, 3, 4, 5), (0.25, 0.25, 0.2, 0.15, 0.15))[0]


# ---------------------------------------------------------------------------- records
def _people(people: list[Person]) -> dict[str, Person]:
    return {p.pid: p for p in people}


def _rename_column(table: Any, old: str, new: str, values: list[Any]) -> None:
    at = table.columns.index(old)
    table.columns[at] = new
    table.data = {
        (new if c == old else c): (values if c == old else v) for c, v in table.data.items()
    }


def _whole_name(rng: random.Random, p: Person, upper: bool, fold: bool) -> str:
    given = variant(rng, p.given)
    family = " ".join(variant(rng, part) for part in p.family)
    middle = variant(rng, p.middle) if p.middle and rng.random() < 0.6 else None
    if rng.random() < 0.05:
        family = typo(rng, family)
    if fold:
        given, family = ascii_fold(given), ascii_fold(family)
        middle = ascii_fold(middle) if middle else None
    if rng.random() < 0.5:
        text = f"{family}, {given}" + (f" {middle}" if middle else "")
    else:
        text = given + (f" {middle}" if middle else "") + f" {family}"
    return text.upper() if upper else text


def _usms(t: Any, d: dict[str, Any], who: dict[str, Person], rng: random.Random) -> None:
    names = [_whole_name(rng, who[pid], upper=True, fold=True) for pid in t.persons]
    _rename_column(t, "SUBJECT_LAST", "SUBJECT_NAME", names)
    t.columns.remove("SUBJECT_FIRST")
    del t.data["SUBJECT_FIRST"]
    fields = d["fields"]
    del fields["SUBJECT_LAST"], fields["SUBJECT_FIRST"]
    fields["SUBJECT_NAME"] = {"to": "full_name", "split": "auto"}
    dobs = t.data["SUBJECT_DOB"]
    for i, v in enumerate(dobs):
        r = rng.random()
        if v and r < 0.05:
            dobs[i] = "00/00/" + v[-4:]  # only the year is known
        elif v and r < 0.09:
            dobs[i] = v[:3] + "00" + v[5:]  # the day is not known


def _broker(t: Any, d: dict[str, Any], who: dict[str, Person], rng: random.Random) -> None:
    names = t.data["full_name"]
    for i, pid in enumerate(t.persons):
        if rng.random() < 0.5:
            names[i] = _whole_name(rng, who[pid], upper=False, fold=False)
    d["fields"]["full_name"] = {"to": "full_name", "split": "auto"}
    dobs = t.data["dob"]
    for i, v in enumerate(dobs):
        r = rng.random()
        if v and r < 0.2:
            dobs[i] = v[:4]  # a year of birth only
        elif v and r < 0.23:
            dobs[i] = v[:4] + "-00-00"
    d["fields"]["dob"] = {"to": "dob", "date_format": ["%Y-%m-%d", "%Y"]}


def _criminal(t: Any, d: dict[str, Any], who: dict[str, Person], rng: random.Random) -> None:
    misc: list[str | None] = []
    for pid in t.persons:
        p = who[pid]
        r = rng.random()
        if p.a_number and r < 0.45:
            a = p.a_number
            misc.append(f"A{a}" if rng.random() < 0.6 else f"A-{a[:3]}-{a[3:6]}-{a[6:]}")
        elif r < 0.65:
            misc.append(f"AR-{rng.randrange(10**8, 10**9)}")  # another system's number
        elif p.ssn and r < 0.8:
            misc.append(f"{p.ssn[:3]}-{p.ssn[3:5]}-{p.ssn[5:]}")
        else:
            misc.append(None)
    t.columns.append("MISC_NUM")
    t.data["MISC_NUM"] = misc
    d["fields"]["MISC_NUM"] = {"to": "identifier", "kinds": ["a_number", "ssn"]}
    names = t.data["NAME"]
    for i, v in enumerate(names):
        if v and "," in v and rng.random() < 0.3:
            family, rest = (s.strip() for s in v.split(",", 1))
            names[i] = f"{rest} {family}"  # the comma lost: given names first
    d["fields"]["NAME"] = {"to": "full_name", "split": "auto"}


def _scanned(columns: tuple[str, ...], digits: tuple[str, ...]) -> Any:
    def apply(t: Any, d: dict[str, Any], who: dict[str, Person], rng: random.Random) -> None:
        for col in columns:
            values = t.data[col]
            for i, v in enumerate(values):
                if v and rng.random() < 0.03:
                    values[i] = ocr(rng, v)
        for col in digits:
            values = t.data[col]
            for i, v in enumerate(values):
                if v and rng.random() < 0.01 and "0" in v:
                    values[i] = v.replace("0", "O", 1)  # a letter O read for a zero

    return apply


ROUGHEN = {
    "usms_warrants": _usms,
    "clear_broker": _broker,
    "fbi_criminal": _criminal,
    "uscis_benefits": _scanned(("FIRST_NAME", "LAST_NAME"), ("A_NUMBER",)),
    "ssa_numident": _scanned(("NM_FIRST", "NM_LAST"), ("DOB",)),
}
"""Per source, how the messy profile changes its table and declaration."""


def roughen(tables: list[Any], decls: dict[str, Any], people: list[Person], seed: int) -> None:
    """Apply the messy profile to emitted tables and their declarations (in place)."""
    who = _people(people)
    for table in tables:
        change = ROUGHEN.get(table.name)
        if change is not None:
            change(table, decls[table.name], who, random.Random(f"{seed}:{table.name}:messy"))


__all__ = ["PROFILES", "moves", "ocr", "relatives", "roughen"]
