"""What each agency's system holds about the population, with that system's own noise.

Every emitter returns a ``SourceTable``: columns in the source's own names and formats,
the true person behind each row and the row's natural key (for the ground truth).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from habeas.synth.names import TRADITIONS
from habeas.synth.noise import ascii_fold, digit_typo, dob_error, typo, variant
from habeas.synth.people import Person
from habeas.synth.population import IN_COURT, street_address


@dataclass
class SourceTable:
    """Rows of one source, column-wise, with their true persons and natural keys."""

    name: str
    columns: list[str]
    data: dict[str, list[Any]] = field(default_factory=dict)
    persons: list[str] = field(default_factory=list)
    keys: list[tuple[str, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data = {c: [] for c in self.columns}

    def add(self, person: str, key: tuple[str, ...], **values: Any) -> None:
        """Append one row."""
        for col in self.columns:
            self.data[col].append(values.get(col))
        self.persons.append(person)
        self.keys.append(key)

    def __len__(self) -> int:
        return len(self.persons)


def _mdY(d: date) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year:04d}"


def _Ymd(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _between(rng: random.Random, start: date, end: date) -> date:
    span = (end - start).days
    return start + timedelta(days=rng.randrange(span)) if span > 0 else start


def recorded_names(
    rng: random.Random, p: Person, fold: bool = False
) -> tuple[str, str | None, str]:
    """A person's names as an agency wrote them down (variants, typos, folded to ASCII)."""
    given = variant(rng, p.given)
    middle = variant(rng, p.middle) if p.middle else None
    family = " ".join(variant(rng, part) for part in p.family)
    if len(p.family) > 1 and rng.random() < 0.25:
        family = variant(rng, p.family[0])  # compound surname recorded as the first part only
    if rng.random() < 0.04:
        given = typo(rng, given)
    if rng.random() < 0.04:
        family = typo(rng, family)
    if fold:
        given, family = ascii_fold(given), ascii_fold(family)
        middle = ascii_fold(middle) if middle else None
    return given, middle, family


ETHNICITY = ("Hispanic or Latino", "Not Hispanic or Latino", "Declined")
ADMISSION_CODES = {
    "naturalized": "NAT",
    "lpr": "LPR",
    "visa": "NIV",
    "tps": "TPS",
    "daca": "DACA",
    "asylum_pending": "ASYP",
    "stayed": "NONE",
    "in_proceedings": "NONE",
    "final_order": "NONE",
    "pending_appeal": "ASYP",
    "departed": "NIV",
}


def uscis(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """Benefits case records: A-number, names, DOB, country of birth, status, address."""
    t = SourceTable(
        "uscis_benefits",
        [
            "RECEIPT_NUMBER",
            "A_NUMBER",
            "FIRST_NAME",
            "MIDDLE_NAME",
            "LAST_NAME",
            "DATE_OF_BIRTH",
            "COUNTRY_OF_BIRTH",
            "CLASS_OF_ADMISSION",
            "STATUS_DATE",
            "STREET",
            "CITY",
            "STATE",
            "ZIP",
            "ETHNICITY",
            "MARITAL_STATUS",
        ],
    )
    n = 0
    for p in people:
        if not p.foreign_born or p.a_number is None:
            continue
        filings = ["lpr", "naturalized"] if p.status == "naturalized" else [p.status]
        for status in filings:
            n += 1
            receipt = f"IOE{9_000_000_000 + n * 7:010d}"
            given, middle, family = recorded_names(rng, p)
            addr = p.addresses[0] if rng.random() < 0.3 else p.addresses[-1]
            a_num = (
                p.a_number
                if rng.random() < 0.9
                else f"{p.a_number[:3]}-{p.a_number[3:6]}-{p.a_number[6:]}"
            )
            t.add(
                p.pid,
                (receipt,),
                RECEIPT_NUMBER=receipt,
                A_NUMBER="A" + a_num,
                FIRST_NAME=given,
                MIDDLE_NAME=middle,
                LAST_NAME=family,
                DATE_OF_BIRTH=_mdY(p.dob if rng.random() > 0.02 else dob_error(rng, p.dob)),
                COUNTRY_OF_BIRTH=p.country[0],
                CLASS_OF_ADMISSION=ADMISSION_CODES[status],
                STATUS_DATE=_mdY(_between(rng, p.last_entry or p.dob, as_of)),
                STREET=addr.street,
                CITY=addr.place.city,
                STATE=addr.place.state,
                ZIP=addr.place.zip,
                ETHNICITY=rng.choice(ETHNICITY),
                MARITAL_STATUS=rng.choice(("S", "M", "D", "W")),
            )
    return t


PORTS = ("JFK", "LAX", "MIA", "ORD", "IAH", "SFO", "ATL", "SYS", "ELP", "LRD", "NOG", "DTW")


def cbp(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """Border entries and exits: passport names, DOB, nationality, dates, port."""
    t = SourceTable(
        "cbp_crossings",
        [
            "crossing_id",
            "document_number",
            "document_country",
            "surname",
            "given_names",
            "birth_date",
            "nationality",
            "direction",
            "crossing_date",
            "port_code",
            "traveler_photo_ref",
        ],
    )
    n = 0
    for p in people:
        if p.passport is None:
            continue
        trips = rng.choices((1, 2, 3, 4), (0.45, 0.3, 0.15, 0.1))[0]
        dates = sorted(_between(rng, p.dob + timedelta(days=18 * 365), as_of) for _ in range(trips))
        if p.last_entry:
            dates[-1] = p.last_entry
        for j, when in enumerate(dates):
            n += 1
            cid = f"CX{n:010d}"
            given, middle, family = recorded_names(rng, p, fold=True)
            given_names = given if middle is None or rng.random() < 0.5 else f"{given} {middle}"
            surname = family
            if rng.random() < 0.1:
                surname, given_names = given_names, surname  # name order swapped at the booth
            direction = "ENTRY"
            if p.status == "departed" and j == len(dates) - 1:
                direction, when = "EXIT", _between(rng, as_of - timedelta(days=400), as_of)
            nat = p.country[1]
            t.add(
                p.pid,
                (cid,),
                crossing_id=cid,
                document_number=p.passport,
                document_country=nat,
                surname=surname.upper(),
                given_names=given_names.upper(),
                birth_date=p.dob,
                nationality=nat,
                direction=direction,
                crossing_date=when,
                port_code=rng.choice(PORTS),
                traveler_photo_ref=f"IMG{rng.randrange(10**9)}",
            )
    return t


CHARGES = (
    "212(a)(6)(A)(i)",
    "237(a)(1)(B)",
    "237(a)(1)(C)(i)",
    "212(a)(7)(A)(i)(I)",
    "237(a)(2)(A)(iii)",
)
COURTS = ("NYC", "LOS", "MIA", "HOU", "CHI", "SFR", "ATL", "DAL", "SEA", "BOS")
LANGUAGES = (
    "Spanish",
    "Arabic",
    "Mandarin",
    "Vietnamese",
    "Ukrainian",
    "Hindi",
    "French",
    "English",
)


def eoir(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """Immigration court cases: charges, hearings, orders, appeals, stays (nested JSON)."""
    t = SourceTable("eoir_cases", ["record"])
    n = 0
    for p in people:
        if p.a_number is None or not (
            p.status in IN_COURT or (p.status == "asylum_pending" and rng.random() < 0.5)
        ):
            continue
        n += 1
        case_id = f"EOIR-{20_000_000 + n}"
        given, _middle, family = recorded_names(rng, p)
        a_num = p.a_number if rng.random() > 0.03 else digit_typo(rng, p.a_number)
        start = _between(
            rng, p.last_entry or (as_of - timedelta(days=2000)), as_of - timedelta(days=60)
        )
        hearing = _between(rng, start, as_of + timedelta(days=300))
        decision: dict[str, Any] = {"type": None, "date": None, "vd_deadline": None}
        appeal: dict[str, Any] = {"status": "none", "date": None}
        stay: dict[str, Any] = {"status": "none", "date": None, "authority": None}
        if p.status in ("final_order", "departed", "stayed", "pending_appeal"):
            order_date = _between(rng, start, as_of - timedelta(days=10))
            kind = (
                "voluntary_departure"
                if p.status == "departed" and rng.random() < 0.5
                else "removal"
            )
            decision = {
                "type": kind,
                "date": order_date.isoformat(),
                "vd_deadline": (order_date + timedelta(days=60)).isoformat()
                if kind == "voluntary_departure"
                else None,
            }
            if p.status == "pending_appeal":
                appeal = {
                    "status": "pending",
                    "date": (order_date + timedelta(days=rng.randint(5, 29))).isoformat(),
                }
            elif rng.random() < 0.3:
                appeal = {
                    "status": rng.choice(("dismissed", "waived")),
                    "date": (order_date + timedelta(days=20)).isoformat(),
                }
            if p.status == "stayed":
                stay = {
                    "status": "granted",
                    "date": _between(rng, order_date, as_of).isoformat(),
                    "authority": rng.choice(("BIA", "IJ", "federal court", "DHS")),
                }
            elif p.status == "final_order" and n % 9 == 0:
                # a stay once granted and since lifted, or a stay motion denied (no draw
                # from rng: the rest of the world stays as it was)
                ruled = min(order_date + timedelta(days=40), as_of - timedelta(days=1))
                stay = {
                    "status": "lifted" if n % 2 else "denied",
                    "date": ruled.isoformat(),
                    "authority": "BIA",
                }
            if n % 97 == 0 and appeal["date"] is not None:
                # a data-entry error the court's feed carries: an appeal before its decision
                appeal["date"] = (order_date - timedelta(days=45)).isoformat()
        t.add(
            p.pid,
            (case_id,),
            record={
                "case_id": case_id,
                "alien_number": a_num,
                "respondent": {
                    "first_name": given,
                    "last_name": family,
                    "dob": p.dob.isoformat()
                    if rng.random() > 0.02
                    else dob_error(rng, p.dob).isoformat(),
                    "country": p.country[0],
                    "language": LANGUAGES[p.tradition],
                },
                "charge": rng.choice(CHARGES),
                # the notice to appear's date; some feeds carry none (no rng draw)
                "nta": {"date": None if n % 7 == 0 else start.isoformat()},
                "hearing": {"date": hearing.isoformat(), "court": rng.choice(COURTS)},
                "decision": decision,
                "appeal": appeal,
                "stay": stay,
            },
        )
    return t


OFFENSES = (
    ("DUI", "M"),
    ("PETTY THEFT", "M"),
    ("ASSAULT", "M"),
    ("BURGLARY", "F"),
    ("DRUG POSSESSION", "F"),
    ("FRAUD", "F"),
    ("TRAFFIC", "I"),
    ("AGG ASSAULT", "F"),
    ("ROBBERY", "F"),
    ("TRESPASS", "M"),
)


def fbi(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """Criminal history: FBI number, name as LAST, FIRST, aliases, arrests, dispositions."""
    t = SourceTable(
        "fbi_criminal",
        [
            "FBI_NO",
            "CYCLE",
            "NAME",
            "ALIASES",
            "DOB",
            "SEX",
            "ARREST_DATE",
            "OFFENSE",
            "OFFENSE_CLASS",
            "DISPOSITION",
            "DISPOSITION_DATE",
            "GANG_AFFILIATION",
            "RACE",
        ],
    )
    for p in people:
        if p.fbi is None:
            continue
        for cycle in range(1, rng.choices((1, 2, 3), (0.6, 0.3, 0.1))[0] + 1):
            given, middle, family = recorded_names(rng, p, fold=True)
            name = f"{family.upper()}, {given.upper()}" + (f" {middle.upper()}" if middle else "")
            aliases = []
            if rng.random() < 0.3:
                other = TRADITIONS[p.tradition]
                aliases.append(
                    f"{rng.choice(other.male if p.sex == 'M' else other.female)[0]} "
                    f"{family}".upper()
                )
            if rng.random() < 0.2:
                aliases.append(f"{given} {typo(rng, family)}".upper())
            arrest = _between(rng, p.dob + timedelta(days=18 * 365), as_of)
            offense, klass = rng.choice(OFFENSES)
            disposition = rng.choices(("CONV", "DISM", "PEND", "ACQ"), (0.55, 0.25, 0.15, 0.05))[0]
            dob = p.dob if rng.random() > 0.1 else dob_error(rng, p.dob)
            t.add(
                p.pid,
                (p.fbi, str(cycle)),
                FBI_NO=p.fbi,
                CYCLE=str(cycle),
                NAME=name,
                ALIASES="; ".join(aliases) or None,
                DOB=dob.isoformat(),
                SEX=p.sex,
                ARREST_DATE=_Ymd(arrest),
                OFFENSE=offense,
                OFFENSE_CLASS=klass,
                DISPOSITION=disposition,
                DISPOSITION_DATE=None
                if disposition == "PEND"
                else _Ymd(min(as_of, arrest + timedelta(days=rng.randint(30, 400)))),
                GANG_AFFILIATION=rng.choice((None, None, None, "SUSPECTED")),
                RACE=rng.choice(("W", "B", "A", "I", "U")),
            )
    return t


def usms(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """Warrants: partial subject names, DOB, type, court, status."""
    t = SourceTable(
        "usms_warrants",
        [
            "WARRANT_ID",
            "SUBJECT_LAST",
            "SUBJECT_FIRST",
            "SUBJECT_DOB",
            "WARRANT_TYPE",
            "ISSUING_COURT",
            "ISSUED_DATE",
            "STATUS",
        ],
    )
    n = 0
    for p in people:
        if p.fbi is None or rng.random() > 0.15:
            continue
        n += 1
        given, _middle, family = recorded_names(rng, p, fold=True)
        t.add(
            p.pid,
            (f"W{n:08d}",),
            WARRANT_ID=f"W{n:08d}",
            SUBJECT_LAST=family.upper(),
            SUBJECT_FIRST=given[0].upper() if rng.random() < 0.3 else given.upper(),
            SUBJECT_DOB=_mdY(p.dob),
            WARRANT_TYPE=rng.choice(("FAILURE TO APPEAR", "PROBATION VIOLATION", "BENCH WARRANT")),
            ISSUING_COURT=f"{p.addresses[-1].place.state} SUPERIOR COURT",
            ISSUED_DATE=_mdY(_between(rng, as_of - timedelta(days=3 * 365), as_of)),
            STATUS=rng.choices(("A", "S", "R"), (0.6, 0.3, 0.1))[0],
        )
    return t


FACILITIES = (
    "KROME",
    "ADELANTO",
    "OTERO",
    "STEWART",
    "TACOMA",
    "PORT-ISABEL",
    "ELIZABETH",
    "DILLEY",
)


def detention(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """Custody bookings: facility, book-in and release."""
    t = SourceTable(
        "ice_detention",
        [
            "booking_id",
            "a_number",
            "last_name",
            "first_name",
            "dob",
            "facility_code",
            "book_in_date",
            "release_date",
            "release_reason",
            "nationality",
        ],
    )
    share = {"final_order": 0.3, "in_proceedings": 0.1, "departed": 0.4, "pending_appeal": 0.2}
    n = 0
    for p in people:
        if p.a_number is None or rng.random() > share.get(p.status, 0.0):
            continue
        n += 1
        book_in = _between(rng, as_of - timedelta(days=700), as_of - timedelta(days=5))
        released = rng.random() < 0.6
        release = min(as_of, book_in + timedelta(days=rng.randint(3, 200))) if released else None
        reason = None
        if released:
            reason = (
                "REMOVED"
                if p.status == "departed"
                else rng.choice(("BOND", "PAROLE", "ATD", "ORDER OF SUPERVISION"))
            )
        t.add(
            p.pid,
            (f"BK{n:09d}",),
            booking_id=f"BK{n:09d}",
            a_number=p.a_number,
            last_name=p.family_name,
            first_name=p.given_name,
            dob=p.dob,
            facility_code=rng.choice(FACILITIES),
            book_in_date=book_in,
            release_date=release,
            release_reason=reason,
            nationality=p.country[1],
        )
    return t


def ssa(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """Social security: SSN, names (with changes), DOB, a stale citizenship snapshot."""
    t = SourceTable(
        "ssa_numident",
        [
            "SSN",
            "NM_FIRST",
            "NM_MIDDLE",
            "NM_LAST",
            "DOB",
            "SEX",
            "CITIZENSHIP_CD",
            "DISABILITY_FLAG",
            "BENEFIT_AMOUNT",
        ],
    )
    for p in people:
        if p.ssn is None:
            continue
        given, middle, family = recorded_names(rng, p)
        if p.sex == "F" and rng.random() < 0.12:
            family = rng.choice(TRADITIONS[p.tradition].family)[0]  # name change on marriage
        if p.status == "us_born":
            cd = "A"
        elif p.status == "naturalized":
            cd = "A" if rng.random() < 0.6 else "B"  # stale: never updated after naturalization
        else:
            cd = "B" if rng.random() < 0.97 else "A"  # a few wrong citizen codes: must be reviewed
        ssn = p.ssn
        t.add(
            p.pid,
            (f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}",),
            SSN=f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}",
            NM_FIRST=given.upper(),
            NM_MIDDLE=middle.upper() if middle else None,
            NM_LAST=family.upper(),
            DOB=_Ymd(p.dob),
            SEX=p.sex,
            CITIZENSHIP_CD=cd,
            DISABILITY_FLAG=rng.choice(("Y", "N", "N", "N")),
            BENEFIT_AMOUNT=str(rng.randint(0, 3000)),
        )
    return t


def irs(people: list[Person], rng: random.Random, as_of: date) -> tuple[SourceTable, SourceTable]:
    """Tax returns (nested JSON) and the disclosure request naming some of their filers."""
    t = SourceTable("irs_returns", ["record"])
    req = SourceTable(
        "irs_request", ["given_name", "family_name", "street", "city", "state", "zip"]
    )
    for p in people:
        tin = p.ssn or p.itin
        if tin is None or rng.random() > 0.55:
            continue
        addr = p.addresses[-1]
        if rng.random() < 0.5:
            req.add(
                p.pid,
                (),
                given_name=p.given_name,
                family_name=p.family_name,
                street=addr.street
                if rng.random() > 0.02
                else None,  # a few entries lack an address
                city=addr.place.city,
                state=addr.place.state,
                zip=addr.place.zip,
            )
        for year in range(as_of.year - rng.choice((1, 2)), as_of.year):
            tin_text = f"{tin[:3]}-{tin[3:5]}-{tin[5:]}"
            t.add(
                p.pid,
                (tin_text, str(year)),
                record={
                    "tin": tin_text,
                    "tin_type": "SSN" if p.ssn else "ITIN",
                    "name_line": f"{p.given_name} {p.family_name}".upper(),
                    "address": {
                        "street": addr.street,
                        "city": addr.place.city.upper(),
                        "state": addr.place.state,
                        "zip": addr.place.zip,
                    },
                    "tax_year": year,
                    "agi": rng.randint(8000, 180000),
                    "filing_status": rng.choice(("single", "joint", "head_of_household")),
                },
            )
    return t, req


def clear(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """A commercial data broker: many small errors, address histories, merged people."""
    t = SourceTable(
        "clear_broker",
        [
            "clr_id",
            "full_name",
            "dob",
            "phone",
            "addr_line",
            "city",
            "st",
            "zip",
            "first_seen",
            "last_seen",
            "email",
            "credit_header",
        ],
    )
    n = 0
    for idx, p in enumerate(people):
        if rng.random() > 0.55:
            continue
        for addr in p.addresses:
            n += 1
            given, middle, family = recorded_names(rng, p)
            if rng.random() < 0.1:
                given = typo(rng, given)
            initial = f" {middle[0]}" if middle and rng.random() < 0.5 else ""
            dob = p.dob if rng.random() > 0.08 else dob_error(rng, p.dob)
            phone = p.phone
            if rng.random() < 0.01 and idx > 0:
                other = people[idx - 1]  # a merged profile: someone else's phone and birth date
                phone, dob = other.phone, other.dob
            t.add(
                p.pid,
                (f"CLR{n:09d}",),
                clr_id=f"CLR{n:09d}",
                full_name=f"{given}{initial} {family}",
                dob=None if rng.random() < 0.05 else dob.isoformat(),
                phone=None if phone is None else f"({phone[:3]}) {phone[3:6]}-{phone[6:]}",
                addr_line=addr.street if rng.random() > 0.03 else typo(rng, addr.street),
                city=addr.place.city,
                st=addr.place.state,
                zip=addr.place.zip,
                first_seen=f"{addr.since.year:04d}-{addr.since.month:02d}",
                last_seen=f"{as_of.year:04d}-{as_of.month:02d}",
                email=f"{ascii_fold(given).lower()}{rng.randrange(100)}@example.com",
                credit_header="Y",
            )
    return t


def dmv(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """State motor vehicles: licence, names, DOB, address with geocode, renewals after moves."""
    t = SourceTable(
        "dmv_licenses",
        [
            "license_no",
            "license_state",
            "first_name",
            "middle_name",
            "last_name",
            "dob",
            "street",
            "city",
            "zip",
            "lat",
            "lon",
            "issue_date",
            "organ_donor",
            "eye_color",
        ],
    )
    for p in people:
        if p.license_no is None:
            continue
        issued: set[date] = set()
        for addr in p.addresses[-2:]:
            given, middle, family = recorded_names(rng, p)
            issue = max(addr.since, p.dob + timedelta(days=16 * 365))
            if issue in issued:
                continue
            issued.add(issue)
            t.add(
                p.pid,
                (p.license_no, issue.isoformat()),
                license_no=p.license_no,
                license_state=p.license_state,
                first_name=given.upper(),
                middle_name=middle.upper() if middle else None,
                last_name=family.upper(),
                dob=f"{p.dob.month:02d}{p.dob.day:02d}{p.dob.year:04d}",
                street=addr.street.upper(),
                city=addr.place.city.upper(),
                zip=addr.place.zip,
                lat=round(addr.place.lat + rng.uniform(-0.02, 0.02), 5),
                lon=round(addr.place.lon + rng.uniform(-0.02, 0.02), 5),
                issue_date=issue,
                organ_donor=rng.choice(("Y", "N")),
                eye_color=rng.choice(("BRO", "BLU", "GRN", "HAZ")),
            )
    return t


def hud(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """Housing assistance tenants: a feed whose agreement has lapsed (the registry refuses it)."""
    t = SourceTable("hud_tenants", ["TENANT_ID", "FIRST", "LAST", "DOB", "ADDRESS", "ZIP"])
    for p in people[:: max(1, len(people) // 500)]:
        tid = f"HUD{p.pid[1:]}"
        t.add(
            p.pid,
            (tid,),
            TENANT_ID=tid,
            FIRST=p.given_name,
            LAST=p.family_name,
            DOB=_mdY(p.dob),
            ADDRESS=p.addresses[-1].street,
            ZIP=p.addresses[-1].place.zip,
        )
    return t


def tipline(people: list[Person], rng: random.Random, as_of: date) -> SourceTable:
    """Anonymous tips: no legal authority behind them (the registry refuses them)."""
    t = SourceTable("tipline_reports", ["tip_id", "name", "city", "tip_text"])
    for i, p in enumerate(people[:: max(1, len(people) // 200)]):
        t.add(
            p.pid,
            (f"TIP{i:06d}",),
            tip_id=f"TIP{i:06d}",
            name=f"{p.given_name} {p.family_name}",
            city=p.addresses[-1].place.city,
            tip_text="neighbour reports suspicion",
        )
    return t


Emitter = Callable[[list[Person], random.Random, date], SourceTable]
EMITTERS: dict[str, Emitter] = {
    "uscis_benefits": uscis,
    "cbp_crossings": cbp,
    "eoir_cases": eoir,
    "fbi_criminal": fbi,
    "usms_warrants": usms,
    "ice_detention": detention,
    "ssa_numident": ssa,
    "clear_broker": clear,
    "dmv_licenses": dmv,
    "hud_tenants": hud,
    "tipline_reports": tipline,
}

__all__ = ["EMITTERS", "SourceTable", "irs", "street_address"]
