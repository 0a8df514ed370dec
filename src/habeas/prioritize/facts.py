"""The fact schema: what a priority policy may read about a person, and where it comes from.

Each fact names the source fields it is computed from; ``compute_facts`` returns, for
every fact, its value and the ids of the records behind it, so an explanation can point
at them. Protected traits are not facts, and neither are the fields declared here as
their proxies; nationality is kept for travel documents and transport only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from habeas.store.staging import StagingStore


@dataclass(frozen=True)
class FactDef:
    """One fact a policy may use: its type, meaning and the fields it is computed from."""

    name: str
    type: Literal["int", "bool"]
    description: str
    computed_from: tuple[str, ...]  # source.field


FACTS: dict[str, FactDef] = {
    f.name: f
    for f in (
        FactDef(
            "felony_convictions",
            "int",
            "felony convictions on record",
            ("fbi_criminal.offense_class", "fbi_criminal.disposition"),
        ),
        FactDef(
            "felony_convictions_10y",
            "int",
            "felony convictions with a disposition in the last ten years",
            (
                "fbi_criminal.offense_class",
                "fbi_criminal.disposition",
                "fbi_criminal.disposition_date",
            ),
        ),
        FactDef(
            "misdemeanor_convictions",
            "int",
            "misdemeanor convictions on record",
            ("fbi_criminal.offense_class", "fbi_criminal.disposition"),
        ),
        FactDef(
            "pending_charges",
            "int",
            "criminal charges with no disposition yet",
            ("fbi_criminal.disposition",),
        ),
        FactDef(
            "active_warrants",
            "int",
            "criminal warrants still active",
            ("usms_warrants.warrant_status",),
        ),
        FactDef(
            "final_order",
            "bool",
            "an order of removal that is final (appeal waived, dismissed, or not filed "
            "within 30 days)",
            ("eoir_cases.order_type", "eoir_cases.order_date", "eoir_cases.appeal_status"),
        ),
        FactDef(
            "final_order_age_days",
            "int",
            "days since that order became final",
            ("eoir_cases.order_date", "eoir_cases.appeal_date"),
        ),
        FactDef(
            "appeal_pending",
            "bool",
            "an appeal of the order is pending",
            ("eoir_cases.appeal_status",),
        ),
        FactDef(
            "stay_granted", "bool", "a stay of removal is on record", ("eoir_cases.stay_status",)
        ),
        FactDef(
            "voluntary_departure_overdue",
            "bool",
            "voluntary departure granted, its deadline passed, and no exit recorded since",
            (
                "eoir_cases.order_type",
                "eoir_cases.departure_deadline",
                "cbp_crossings.event_type",
                "cbp_crossings.event_date",
            ),
        ),
        FactDef(
            "prior_removals",
            "int",
            "removals recorded by custody",
            ("ice_detention.release_reason",),
        ),
        FactDef(
            "days_since_last_entry",
            "int",
            "days since the last recorded entry",
            ("cbp_crossings.event_type", "cbp_crossings.event_date"),
        ),
    )
}
"""Every fact a policy may name."""

PROTECTED_TRAITS: dict[str, tuple[str, ...]] = {
    "race": ("race", "racial"),
    "ethnicity": ("ethnicity", "ethnic", "ancestry"),
    "religion": ("religion", "religious", "faith", "worship", "church", "mosque", "synagogue"),
    "political opinion or activity": ("political", "politics", "protest", "activist", "party"),
    "associations or affiliations": (
        "association",
        "associations",
        "affiliation",
        "affiliations",
        "gang",
        "membership",
        "member",
    ),
    "health": ("health", "medical", "disability", "disabled", "diagnosis", "hiv", "mental"),
    "sexual orientation": ("sexual", "orientation", "lgbt", "lgbtq", "gay", "lesbian"),
    "gender identity": ("gender", "transgender", "nonbinary"),
}
"""Each trait and the words that name it in a field (matched on whole words of a name)."""

PROXIES: dict[str, str] = {
    "language": "ethnicity",
    "primary_language": "ethnicity",
    "surname_origin": "ethnicity",
    "name_origin": "ethnicity",
    "skin_tone": "race",
    "tattoos": "associations or affiliations",
    "neighborhood": "race",
    "zip": "race",
    "zip_code": "race",
    "census_tract": "race",
    "sex": "gender identity",
    "marital_status": "sexual orientation",
    "organization": "associations or affiliations",
    "social_media": "political opinion or activity",
    "diet": "religion",
}
"""Fields declared as proxies for a protected trait: refused like the trait itself."""

NATIONALITY_FIELDS = (
    "nationality",
    "country_of_birth",
    "citizenship_country",
    "passport_country",
    "country",
    "destination",
)
"""Nationality is a fact for travel documents and transport only, never for priority."""


def words(name: str) -> list[str]:
    """A field name's words: ``gangAffiliation`` and ``gang-affiliation`` → gang, affiliation."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def forbidden_reason(name: str) -> str | None:
    """Why ``name`` may not be used for priority (a trait, a proxy, nationality), or None."""
    ws = words(name)
    joined = "_".join(ws)
    if joined in PROXIES:
        return f"'{name}' is a declared proxy for {PROXIES[joined]}, a protected trait"
    for trait, keys in PROTECTED_TRAITS.items():
        if any(w in keys for w in ws):
            return f"'{name}' names a protected trait ({trait})"
    if joined in NATIONALITY_FIELDS or "nationality" in ws:
        return (
            f"'{name}' is nationality, which is used for travel documents and transport, "
            "never for priority"
        )
    return None


@dataclass(frozen=True)
class Fact:
    """A fact's value for one person and the records it was computed from."""

    value: int | bool | None
    record_ids: tuple[str, ...] = ()


FACT_COLUMNS = (
    "record_id",
    "source",
    "offense_class",
    "disposition",
    "disposition_date",
    "warrant_status",
    "order_type",
    "order_date",
    "appeal_status",
    "appeal_date",
    "stay_status",
    "departure_deadline",
    "event_type",
    "event_date",
    "release_reason",
)
FACT_SOURCES = ("fbi_criminal", "usms_warrants", "eoir_cases", "ice_detention", "cbp_crossings")


def compute_facts(rows: Iterable[dict[str, Any]], today: date) -> dict[str, Fact]:
    """Every fact for one person from their records (``FACT_COLUMNS`` as dicts)."""
    recs = list(rows)
    out: dict[str, Fact] = {}

    def put(name: str, value: int | bool | None, ids: Iterable[str]) -> None:
        out[name] = Fact(value, tuple(sorted(set(ids))))

    fbi = [r for r in recs if r["source"] == "fbi_criminal"]
    convicted = [r for r in fbi if r["disposition"] == "convicted"]
    felonies = [r for r in convicted if r["offense_class"] == "felony"]
    recent = [
        r
        for r in felonies
        if r["disposition_date"] and r["disposition_date"] >= today - timedelta(days=3652)
    ]
    misdemeanors = [r for r in convicted if r["offense_class"] == "misdemeanor"]
    pending = [r for r in fbi if r["disposition"] == "pending"]
    put("felony_convictions", len(felonies), (r["record_id"] for r in felonies))
    put("felony_convictions_10y", len(recent), (r["record_id"] for r in recent))
    put("misdemeanor_convictions", len(misdemeanors), (r["record_id"] for r in misdemeanors))
    put("pending_charges", len(pending), (r["record_id"] for r in pending))
    active = [r for r in recs if r["source"] == "usms_warrants" and r["warrant_status"] == "active"]
    put("active_warrants", len(active), (r["record_id"] for r in active))

    eoir = [r for r in recs if r["source"] == "eoir_cases"]
    finals: list[tuple[date, str]] = []
    for r in eoir:
        if r["order_type"] != "removal" or r["order_date"] is None:
            continue
        status = r["appeal_status"] or "none"
        if status in ("waived", "dismissed") and r["appeal_date"]:
            finals.append((r["appeal_date"], r["record_id"]))
        elif status == "none" and r["order_date"] + timedelta(days=30) < today:
            finals.append((r["order_date"] + timedelta(days=30), r["record_id"]))
    put("final_order", bool(finals), (i for _, i in finals))
    put(
        "final_order_age_days",
        (today - min(d for d, _ in finals)).days if finals else None,
        (i for _, i in finals),
    )
    appeals = [r for r in eoir if r["appeal_status"] == "pending"]
    put("appeal_pending", bool(appeals), (r["record_id"] for r in appeals))
    stays = [r for r in eoir if r["stay_status"] == "granted"]
    put("stay_granted", bool(stays), (r["record_id"] for r in stays))

    cbp = [r for r in recs if r["source"] == "cbp_crossings" and r["event_date"]]
    entries = [r for r in cbp if r["event_type"] == "ENTRY"]
    exits = [r for r in cbp if r["event_type"] == "EXIT"]
    overdue = []
    for r in eoir:
        deadline = r["departure_deadline"]
        if r["order_type"] == "voluntary_departure" and deadline and deadline < today:
            left = [x for x in exits if r["order_date"] and x["event_date"] >= r["order_date"]]
            if not left:
                overdue.append(r)
    put("voluntary_departure_overdue", bool(overdue), (r["record_id"] for r in overdue))
    removals = [
        r for r in recs if r["source"] == "ice_detention" and r["release_reason"] == "REMOVED"
    ]
    put("prior_removals", len(removals), (r["record_id"] for r in removals))
    if entries:
        last = max(entries, key=lambda r: r["event_date"])
        put("days_since_last_entry", (today - last["event_date"]).days, [last["record_id"]])
    else:
        put("days_since_last_entry", None, ())
    missing = set(FACTS) - set(out)
    assert not missing, missing  # every declared fact is computed
    return out


def facts_for_persons(
    store: StagingStore, person_ids: list[str], today: date, sources: list[str] | None = None
) -> dict[str, dict[str, Fact]]:
    """Facts for many persons at once, from the records the index links to each (only
    records of ``sources`` when given: the caller's purpose decides which may be read)."""
    if not person_ids:
        return {}
    allowed = [s for s in FACT_SOURCES if sources is None or s in sources]
    cols = ", ".join(f"r.{c}" for c in FACT_COLUMNS)
    cur = store.execute(
        f"""SELECT p.person_id, {cols}
            FROM person_records p JOIN records r USING (record_id)
            WHERE p.person_id IN (SELECT unnest($persons))
              AND r.source IN (SELECT unnest($srcs))""",
        {"persons": person_ids, "srcs": allowed or [""]},
    )
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in cur.fetchall():
        by_person[row[0]].append(dict(zip(FACT_COLUMNS, row[1:], strict=True)))
    return {pid: compute_facts(by_person.get(pid, []), today) for pid in person_ids}
