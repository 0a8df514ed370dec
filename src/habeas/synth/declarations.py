"""The source declarations the synthetic world ships with, one TOML file per source.

Two are meant to be refused: a housing feed whose agreement has lapsed, and a tip
line with no legal authority at all.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

ALL_PURPOSES = [
    "identity_resolution",
    "case_review",
    "field_operation",
    "custody",
    "oversight",
    "redress",
    "analytics",
]
YEAR = 365


def _f(to: str, **extra: Any) -> dict[str, Any]:
    return {"to": to, **extra}


def declarations(as_of: date) -> dict[str, dict[str, Any]]:
    """Declaration data per source, keyed by source name; dates relative to ``as_of``."""
    mdy, ymd_compact = "%m/%d/%Y", "%Y%m%d"
    return {
        "uscis_benefits": {
            "name": "uscis_benefits",
            "agency": "U.S. Citizenship and Immigration Services (synthetic)",
            "system": "Benefits case records (synthetic, CLAIMS-like)",
            "category": "immigration",
            "legal_authority": "8 U.S.C. 1103(a); 8 U.S.C. 1360(b); 8 CFR 103.2",
            "purposes": ALL_PURPOSES,
            "retention_days": 75 * YEAR,
            "identifier_types": ["a_number"],
            "natural_key": ["RECEIPT_NUMBER"],
            "format": {"kind": "csv"},
            "fields": {
                "RECEIPT_NUMBER": _f("reference"),
                "A_NUMBER": _f("a_number", required=True),
                "FIRST_NAME": _f("given_name"),
                "MIDDLE_NAME": _f("middle_name"),
                "LAST_NAME": _f("family_name", required=True),
                "DATE_OF_BIRTH": _f("dob", date_format=mdy),
                "COUNTRY_OF_BIRTH": _f("country_of_birth"),
                "CLASS_OF_ADMISSION": _f(
                    "immigration_status",
                    codes={
                        "NAT": "naturalized",
                        "LPR": "lpr",
                        "NIV": "nonimmigrant_visa",
                        "TPS": "tps",
                        "DACA": "daca",
                        "ASYP": "asylum_pending",
                        "NONE": "none",
                    },
                ),
                "STATUS_DATE": _f("status_date", date_format=mdy),
                "STREET": _f("street"),
                "CITY": _f("city"),
                "STATE": _f("state"),
                "ZIP": _f("zip"),
            },
        },
        "cbp_crossings": {
            "name": "cbp_crossings",
            "agency": "U.S. Customs and Border Protection (synthetic)",
            "system": "Arrival and departure crossings (synthetic, ADIS-like)",
            "category": "border",
            "legal_authority": "8 U.S.C. 1365b; 8 CFR 215.8; 8 CFR 235.1",
            "purposes": ALL_PURPOSES,
            "retention_days": 75 * YEAR,
            "identifier_types": ["passport_number"],
            "natural_key": ["crossing_id"],
            "format": {"kind": "parquet"},
            "fields": {
                "crossing_id": _f("reference"),
                "document_number": _f("passport_number", required=True),
                "document_country": _f("passport_country"),
                "surname": _f("family_name"),
                "given_names": _f("given_name"),
                "birth_date": _f("dob"),
                "nationality": _f("nationality"),
                "direction": _f("event_type"),
                "crossing_date": _f("event_date"),
                "port_code": _f("location"),
            },
        },
        "eoir_cases": {
            "name": "eoir_cases",
            "agency": "Executive Office for Immigration Review (synthetic)",
            "system": "Immigration court case records (synthetic, CASE-like)",
            "category": "immigration_court",
            "legal_authority": "8 U.S.C. 1229a; 8 CFR part 1003",
            "purposes": ALL_PURPOSES,
            "retention_days": 75 * YEAR,
            "identifier_types": ["a_number"],
            "natural_key": ["case_id"],
            "format": {"kind": "jsonl"},
            "fields": {
                "case_id": _f("reference"),
                "alien_number": _f("a_number", required=True),
                "respondent.first_name": _f("given_name"),
                "respondent.last_name": _f("family_name"),
                "respondent.dob": _f("dob"),
                "respondent.country": _f("country_of_birth"),
                "charge": _f("charge"),
                "nta.date": _f("charge_date"),
                "hearing.date": _f("hearing_date"),
                "hearing.court": _f("location"),
                "decision.type": _f("order_type"),
                "decision.date": _f("order_date"),
                "decision.vd_deadline": _f("departure_deadline"),
                "appeal.status": _f("appeal_status"),
                "appeal.date": _f("appeal_date"),
                "stay.status": _f("stay_status"),
                "stay.date": _f("stay_date"),
                "stay.authority": _f("stay_authority"),
            },
        },
        "fbi_criminal": {
            "name": "fbi_criminal",
            "agency": "Federal Bureau of Investigation (synthetic)",
            "system": "Criminal history records (synthetic, NGI-like)",
            "category": "criminal_justice",
            "legal_authority": "28 U.S.C. 534; 8 U.S.C. 1105(b)",
            "purposes": [
                "identity_resolution",
                "case_review",
                "field_operation",
                "oversight",
                "redress",
            ],
            "retention_days": 110 * YEAR // 2,
            "identifier_types": ["fbi_number"],
            "natural_key": ["FBI_NO", "CYCLE"],
            "format": {"kind": "csv", "delimiter": "|"},
            "fields": {
                "FBI_NO": _f("fbi_number"),
                "CYCLE": _f("reference"),
                "NAME": _f("full_name", split="last_comma_first"),
                "ALIASES": _f("aliases"),
                "DOB": _f("dob"),
                "SEX": _f("sex"),
                "ARREST_DATE": _f("event_date", date_format=ymd_compact),
                "OFFENSE": _f("offense"),
                "OFFENSE_CLASS": _f(
                    "offense_class", codes={"F": "felony", "M": "misdemeanor", "I": "infraction"}
                ),
                "DISPOSITION": _f(
                    "disposition",
                    codes={
                        "CONV": "convicted",
                        "DISM": "dismissed",
                        "PEND": "pending",
                        "ACQ": "acquitted",
                    },
                ),
                "DISPOSITION_DATE": _f("disposition_date", date_format=ymd_compact),
            },
        },
        "usms_warrants": {
            "name": "usms_warrants",
            "agency": "U.S. Marshals Service (synthetic)",
            "system": "Warrant information (synthetic, WIN-like)",
            "category": "criminal_justice",
            "legal_authority": "28 U.S.C. 566(e)(1)(B)",
            "purposes": [
                "identity_resolution",
                "case_review",
                "field_operation",
                "oversight",
                "redress",
            ],
            "retention_days": 25 * YEAR,
            "identifier_types": [],
            "natural_key": ["WARRANT_ID"],
            "format": {"kind": "csv"},
            "fields": {
                "WARRANT_ID": _f("reference"),
                "SUBJECT_LAST": _f("family_name", required=True),
                "SUBJECT_FIRST": _f("given_name"),
                "SUBJECT_DOB": _f("dob", date_format=mdy),
                "WARRANT_TYPE": _f("warrant_type"),
                "ISSUING_COURT": _f("issuing_authority"),
                "ISSUED_DATE": _f("event_date", date_format=mdy),
                "STATUS": _f(
                    "warrant_status", codes={"A": "active", "S": "served", "R": "recalled"}
                ),
            },
        },
        "ice_detention": {
            "name": "ice_detention",
            "agency": "Immigration custody (synthetic)",
            "system": "Detention bookings (synthetic, EID-like)",
            "category": "custody",
            "legal_authority": "8 U.S.C. 1226; 8 U.S.C. 1231",
            "purposes": ALL_PURPOSES,
            "retention_days": 75 * YEAR,
            "identifier_types": ["a_number"],
            "natural_key": ["booking_id"],
            "format": {"kind": "parquet"},
            "fields": {
                "booking_id": _f("reference"),
                "a_number": _f("a_number", required=True),
                "last_name": _f("family_name"),
                "first_name": _f("given_name"),
                "dob": _f("dob"),
                "facility_code": _f("facility"),
                "book_in_date": _f("event_date"),
                "release_date": _f("event_end_date"),
                "release_reason": _f("release_reason"),
                "nationality": _f("nationality"),
            },
        },
        "ssa_numident": {
            "name": "ssa_numident",
            "agency": "Social Security Administration (synthetic)",
            "system": "Numident extract (synthetic)",
            "category": "benefit_program",
            "legal_authority": "42 U.S.C. 405(b); 5 U.S.C. 552a(b)(3)",
            "purposes": ["identity_resolution", "case_review", "oversight", "redress"],
            "retention_days": 3 * YEAR,
            "identifier_types": ["ssn"],
            "natural_key": ["SSN"],
            "format": {"kind": "csv"},
            "agreement": {
                "kind": "computer_matching_agreement",
                "id": "CMA-SSA-DHS-2025-07",
                "citation": "5 U.S.C. 552a(o)",
                "parties": ["Social Security Administration", "Department of Homeland Security"],
                "start": as_of - timedelta(days=450),
                "end": as_of + timedelta(days=450),
            },
            "fields": {
                "SSN": _f("ssn"),
                "NM_FIRST": _f("given_name"),
                "NM_MIDDLE": _f("middle_name"),
                "NM_LAST": _f("family_name"),
                "DOB": _f("dob", date_format=ymd_compact),
                "SEX": _f("sex"),
                "CITIZENSHIP_CD": _f(
                    "citizenship_indicator",
                    codes={
                        "A": "us_citizen",
                        "B": "noncitizen_authorized",
                        "C": "noncitizen_not_authorized",
                        "D": "unknown",
                    },
                ),
            },
        },
        "irs_returns": {
            "name": "irs_returns",
            "agency": "Internal Revenue Service (synthetic)",
            "system": "Individual return address data (synthetic)",
            "category": "tax_information",
            "legal_authority": "26 U.S.C. 6103(i)(2)",
            "purposes": ["identity_resolution", "case_review", "oversight", "redress"],
            "retention_days": YEAR,
            "identifier_types": ["tin"],
            "natural_key": ["tin", "tax_year"],
            "format": {"kind": "jsonl"},
            "tax": {
                "exception": "26 U.S.C. 6103(i)(2)",
                "request_id": "IRS-REQ-2026-001",
                "request_file": "irs_request.csv",
            },
            "fields": {
                "tin": _f("tin"),
                "name_line": _f("full_name", split="given_middle_family"),
                "address.street": _f("street"),
                "address.city": _f("city"),
                "address.state": _f("state"),
                "address.zip": _f("zip"),
                "tax_year": _f("tax_year"),
            },
        },
        "clear_broker": {
            "name": "clear_broker",
            "agency": "Commercial data broker (synthetic, CLEAR-like)",
            "system": "Person search records (synthetic)",
            "category": "commercial",
            "legal_authority": "8 U.S.C. 1357(a); commercial data licence 70CMSD-26-C-0001",
            "purposes": [
                "identity_resolution",
                "case_review",
                "field_operation",
                "oversight",
                "redress",
            ],
            "retention_days": 2 * YEAR,
            "identifier_types": ["phone"],
            "natural_key": ["clr_id"],
            "format": {"kind": "csv"},
            "fields": {
                "clr_id": _f("reference"),
                "full_name": _f("full_name", split="given_middle_family"),
                "dob": _f("dob"),
                "phone": _f("phone"),
                "addr_line": _f("street"),
                "city": _f("city"),
                "st": _f("state"),
                "zip": _f("zip"),
                "last_seen": _f("address_date", date_format="%Y-%m"),
            },
        },
        "dmv_licenses": {
            "name": "dmv_licenses",
            "agency": "State motor vehicle agencies (synthetic)",
            "system": "Driver licence records (synthetic)",
            "category": "state_records",
            "legal_authority": "18 U.S.C. 2721(b)(1)",
            "purposes": [
                "identity_resolution",
                "case_review",
                "field_operation",
                "oversight",
                "redress",
            ],
            "retention_days": 10 * YEAR,
            "identifier_types": ["license_number"],
            "natural_key": ["license_no", "issue_date"],
            "format": {"kind": "parquet"},
            "fields": {
                "license_no": _f("license_number"),
                "license_state": _f("license_state"),
                "first_name": _f("given_name"),
                "middle_name": _f("middle_name"),
                "last_name": _f("family_name"),
                "dob": _f("dob", date_format="%m%d%Y"),
                "street": _f("street"),
                "city": _f("city"),
                "zip": _f("zip"),
                "lat": _f("lat"),
                "lon": _f("lon"),
                "issue_date": _f("address_date"),
            },
        },
        "hud_tenants": {
            "name": "hud_tenants",
            "agency": "Department of Housing and Urban Development (synthetic)",
            "system": "Assisted housing tenant records (synthetic)",
            "category": "benefit_program",
            "legal_authority": "42 U.S.C. 1437f",
            "purposes": ["identity_resolution", "field_operation"],
            "retention_days": YEAR,
            "identifier_types": [],
            "natural_key": ["TENANT_ID"],
            "format": {"kind": "csv"},
            "agreement": {
                "kind": "memorandum_of_understanding",
                "id": "MOU-HUD-DHS-2023-02",
                "parties": [
                    "Department of Housing and Urban Development",
                    "Department of Homeland Security",
                ],
                "start": as_of - timedelta(days=1300),
                "end": as_of - timedelta(days=730),
            },
            "fields": {
                "TENANT_ID": _f("reference"),
                "FIRST": _f("given_name"),
                "LAST": _f("family_name"),
                "DOB": _f("dob", date_format=mdy),
                "ADDRESS": _f("street"),
                "ZIP": _f("zip"),
            },
        },
        "tipline_reports": {
            "name": "tipline_reports",
            "agency": "Public tip line (synthetic)",
            "system": "Tip submissions (synthetic)",
            "category": "public_tips",
            "legal_authority": "",
            "purposes": ["field_operation"],
            "retention_days": YEAR,
            "identifier_types": [],
            "natural_key": ["tip_id"],
            "format": {"kind": "csv"},
            "fields": {
                "tip_id": _f("reference"),
                "name": _f("full_name"),
                "city": _f("city"),
            },
        },
    }


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").isalnum() and k.isascii() else _value(k)


def to_toml(data: dict[str, Any], header: str = "") -> str:
    """Render a declaration as TOML: scalars first, then one table per nested mapping."""
    lines = [f"# {line}" for line in header.splitlines()]
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    for k, v in data.items():
        if k not in tables:
            lines.append(f"{_key(k)} = {_value(v)}")
    for name, table in tables.items():
        lines.append("")
        lines.append(f"[{name}]")
        for k, v in table.items():
            lines.append(f"{_key(k)} = {_value(v)}")
    return "\n".join(lines) + "\n"
