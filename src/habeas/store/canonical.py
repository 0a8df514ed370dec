"""The canonical person-record schema every source is mapped onto.

A field's *check* names the validation applied to it at ingest (see ``validate.py``);
code fields list the canonical values a source's own codes must be mapped to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Check = Literal[
    "text",
    "date",
    "integer",
    "float",
    "code",
    "a_number",
    "ssn",
    "itin",
    "tin",
    "zip",
    "state",
    "phone",
    "passport",
    "fbi_number",
    "license",
]

SqlType = Literal["VARCHAR", "DATE", "BIGINT", "DOUBLE"]


@dataclass(frozen=True)
class CanonicalField:
    """One column of the canonical record, with how its values are checked."""

    name: str
    check: Check
    description: str
    codes: frozenset[str] = field(default_factory=frozenset)
    min_value: float | None = None
    max_value: float | None = None

    @property
    def sql_type(self) -> SqlType:
        """The DuckDB type the field is stored as."""
        if self.check == "date":
            return "DATE"
        if self.check == "integer":
            return "BIGINT"
        if self.check == "float":
            return "DOUBLE"
        return "VARCHAR"


def _codes(*values: str) -> frozenset[str]:
    return frozenset(values)


US_STATES = _codes(
    *[
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
    ]
)

IMMIGRATION_STATUSES = _codes(
    "naturalized",
    "lpr",
    "nonimmigrant_visa",
    "tps",
    "daca",
    "asylum_pending",
    "refugee",
    "parole",
    "none",
    "unknown",
)

_FIELDS: tuple[CanonicalField, ...] = (
    # who
    CanonicalField("given_name", "text", "Given (first) name as the source holds it."),
    CanonicalField("middle_name", "text", "Middle name(s)."),
    CanonicalField("family_name", "text", "Family name(s), compound surnames kept whole."),
    CanonicalField("full_name", "text", "The whole name as one string, in the source's order."),
    CanonicalField("aliases", "text", "Other names, separated by '; '."),
    CanonicalField("dob", "date", "Date of birth."),
    CanonicalField("sex", "code", "Sex as recorded.", _codes("M", "F", "X", "U")),
    CanonicalField("country_of_birth", "text", "Country of birth (name or ISO code)."),
    CanonicalField("nationality", "text", "Nationality; for travel documents and transport only."),
    CanonicalField("place_of_birth", "text", "Town, county or region of birth."),
    CanonicalField("occupation", "text", "Occupation as the source records it."),
    # identifiers
    CanonicalField("a_number", "a_number", "Alien registration number, 9 digits."),
    CanonicalField("ssn", "ssn", "Social security number, 9 digits."),
    CanonicalField("itin", "itin", "Individual taxpayer identification number."),
    CanonicalField("tin", "tin", "Taxpayer identification number: an SSN or an ITIN."),
    CanonicalField("passport_number", "passport", "Passport number."),
    CanonicalField("passport_country", "text", "Country that issued the passport."),
    CanonicalField("fbi_number", "fbi_number", "FBI (UCN) number."),
    CanonicalField("license_number", "license", "Driver's licence number."),
    CanonicalField("license_state", "state", "State that issued the licence."),
    CanonicalField("phone", "phone", "Phone number, 10 digits."),
    CanonicalField("national_id", "text", "Another country's or system's personal number."),
    # where
    CanonicalField("street", "text", "Street address."),
    CanonicalField("city", "text", "City."),
    CanonicalField("state", "state", "US state or territory, two letters."),
    CanonicalField("zip", "zip", "ZIP code, 5 digits."),
    CanonicalField("postal_code", "text", "A postal code outside the U.S. ZIP system."),
    CanonicalField("region", "text", "State, province or region outside the U.S. list."),
    CanonicalField("lat", "float", "Latitude of the address.", min_value=-90, max_value=90),
    CanonicalField("lon", "float", "Longitude of the address.", min_value=-180, max_value=180),
    CanonicalField("address_date", "date", "Date the address was last known good."),
    # status
    CanonicalField(
        "immigration_status", "code", "Immigration status per the source.", IMMIGRATION_STATUSES
    ),
    CanonicalField("status_date", "date", "Date the status took effect."),
    CanonicalField(
        "citizenship_indicator",
        "code",
        "Citizenship as the source records it (a snapshot, possibly stale).",
        _codes("us_citizen", "noncitizen_authorized", "noncitizen_not_authorized", "unknown"),
    ),
    # events
    CanonicalField("reference", "text", "The source's own case, receipt or event number."),
    CanonicalField("event_type", "text", "What happened: entry, exit, booking, hearing …"),
    CanonicalField("event_date", "date", "When it happened."),
    CanonicalField("event_end_date", "date", "When it ended (release, exit)."),
    CanonicalField("location", "text", "Port, court or facility code."),
    # immigration court: each date names one event, never another's
    CanonicalField("charge", "text", "Charge of removability (INA section)."),
    CanonicalField(
        "charge_date", "date", "Date the charging document (notice to appear) was issued."
    ),
    CanonicalField(
        "hearing_date",
        "date",
        "Date of the last or next scheduled hearing (not "
        "an event of the case: a hearing may be in the future).",
    ),
    CanonicalField(
        "order_type",
        "code",
        "Decision of the immigration judge.",
        _codes("removal", "voluntary_departure", "relief_granted", "terminated", "none"),
    ),
    CanonicalField("order_date", "date", "Date of the order."),
    CanonicalField("departure_deadline", "date", "Voluntary departure deadline."),
    CanonicalField(
        "appeal_status",
        "code",
        "Appeal to the BIA or a federal court.",
        _codes("none", "pending", "dismissed", "sustained", "waived"),
    ),
    CanonicalField("appeal_date", "date", "Date the appeal was filed or decided."),
    CanonicalField(
        "stay_status",
        "code",
        "Stay of removal.",
        _codes("none", "granted", "lifted", "denied"),
    ),
    CanonicalField("stay_date", "date", "Date of the stay decision."),
    CanonicalField("stay_authority", "text", "Who granted or lifted the stay."),
    # criminal history
    CanonicalField("offense", "text", "Offense charged or convicted."),
    CanonicalField(
        "offense_class",
        "code",
        "Class of offense.",
        _codes("felony", "misdemeanor", "infraction"),
    ),
    CanonicalField(
        "disposition",
        "code",
        "Court disposition of the charge.",
        _codes("convicted", "dismissed", "acquitted", "pending"),
    ),
    CanonicalField("disposition_date", "date", "Date of the disposition."),
    # warrants and custody
    CanonicalField("warrant_type", "text", "Kind of warrant."),
    CanonicalField(
        "warrant_status", "code", "Warrant status.", _codes("active", "served", "recalled")
    ),
    CanonicalField("issuing_authority", "text", "Court or agency that issued it."),
    CanonicalField("facility", "text", "Detention facility code."),
    CanonicalField("release_reason", "text", "Why custody ended."),
    # tax
    CanonicalField("tax_year", "integer", "Tax year.", min_value=1900, max_value=2100),
)

CANONICAL_FIELDS: dict[str, CanonicalField] = {f.name: f for f in _FIELDS}

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("record_id", "VARCHAR"),
    ("source", "VARCHAR"),
    ("source_key", "VARCHAR"),
    ("batch_id", "VARCHAR"),
    ("file_sha256", "VARCHAR"),
    ("row_number", "BIGINT"),
    ("ingested_at", "TIMESTAMP"),
    ("retain_until", "DATE"),
    ("content_hash", "VARCHAR"),
    ("source_version", "INTEGER"),
)
"""Columns every staged record carries besides its canonical fields (``source_version``:
the declaration version it was ingested under)."""

MAX_TEXT_LENGTH = 1000
"""No canonical value is longer; a longer one is quarantined, not truncated."""

NAME_FIELDS = ("given_name", "middle_name", "family_name")

PARTIAL_DATES = frozenset({"dob", "address_date"})
"""Date fields that may be known only to the month or year; each carries ``<name>_precision``
(day, month or year) beside it. Every other date dates an event and must be whole."""

Disposition = Literal["row refused", "value set aside; record kept"]
"""What became of a quarantine entry's row: refused whole, or kept with the value set aside."""
ROW_REFUSED: Disposition = "row refused"
VALUE_SET_ASIDE: Disposition = "value set aside; record kept"
DISPOSITIONS: tuple[Disposition, ...] = (ROW_REFUSED, VALUE_SET_ASIDE)

DERIVED_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (f"{name}_precision", "VARCHAR") for name in sorted(PARTIAL_DATES)
)
"""Columns ingest derives from canonical values; no source maps onto them."""
