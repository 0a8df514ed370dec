"""The legal-basis rules a source must meet, at registration and again at every ingest.

Pure functions over a declaration and a date: no I/O. Each refusal names its rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from habeas.sources.declaration import SourceDeclaration


@dataclass(frozen=True)
class Refusal:
    """A rule a source breaks, and why, in words an engineer can act on."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


_SUB = r"(?:\([^()\s]{1,8}\))*"
_USC = r"(?P<usc>\d{1,2})\s*U\.?\s?S\.?\s?C\.?\s*(?:A\.?\s*)?(?:§+\s*)?\d+[a-z0-9-]*" + _SUB
_CFR = (
    r"(?P<cfr>\d{1,2})\s*C\.?\s?F\.?\s?R\.?\s*(?:§+\s*|parts?\s+|pt\.\s*)?\d+(?:\.\d+)?[a-z]?"
    + _SUB
)
_STAT = r"\d{1,3}\s+Stat\.\s+\d+"
_PUBL = r"Pub(?:lic)?\.?\s*L(?:aw)?\.?\s*(?:No\.\s*)?\d{2,3}[-–]\d{1,4}"
CITATION_FORMS = re.compile(rf"(?:{_USC}|{_CFR}|{_STAT}|{_PUBL})", re.IGNORECASE)
"""The forms a statute or regulation is cited in: title U.S.C. section, title CFR part or
section, volume Stat. page, Pub. L. congress-number."""
_CITATION_WORDS = re.compile(r"U\.?\s?S\.?\s?C|C\.?\s?F\.?\s?R|§|Stat\.|Pub\.?\s*L", re.IGNORECASE)
USC_TITLES, CFR_TITLES = 54, 50
MAX_AUTHORITY = 500
_CMA_CITATION = re.compile(r"552a\s*\(o\)")
_TAX_EXCEPTION = re.compile(r"26\s*U\.?\s?S\.?\s?C\.?\s*§?\s*6103\s*\(([a-z])\)", re.IGNORECASE)


def citation_problems(text: str) -> list[str]:
    """What is wrong with each part (split on ``;``) of a legal authority: a part that
    tries to cite (names U.S.C., CFR, §, Stat. or Pub. L.) must be a whole citation of a
    title that exists; at least one part must be one."""
    if len(text) > MAX_AUTHORITY:
        return [f"longer than {MAX_AUTHORITY} characters"]
    problems, whole = [], 0
    for part in (p.strip() for p in text.split(";")):
        match = CITATION_FORMS.search(part)
        if match is None:
            if _CITATION_WORDS.search(part):
                problems.append(
                    f"{part[:60]!r} is not a whole citation (title U.S.C. section, title CFR "
                    "part or section, volume Stat. page, or Pub. L. congress-number)"
                )
            continue
        usc, cfr = match.group("usc"), match.group("cfr")
        if usc and not 1 <= int(usc) <= USC_TITLES:
            problems.append(f"{part[:60]!r}: the U.S. Code has titles 1 to {USC_TITLES}")
        elif cfr and not 1 <= int(cfr) <= CFR_TITLES:
            problems.append(f"{part[:60]!r}: the CFR has titles 1 to {CFR_TITLES}")
        else:
            whole += 1
    if not whole and not problems:
        problems.append(f"{text[:60]!r} cites no statute, regulation or public law")
    return problems


def legal_authority_refusals(decl: SourceDeclaration) -> list[Refusal]:
    """A source needs a cited legal authority, each citation in a real form."""
    text = decl.legal_authority.strip()
    if not text:
        return [
            Refusal(
                "legal-authority",
                "no legal authority declared; cite the statute or regulation that permits "
                "collecting and using these records (for example '8 U.S.C. 1357')",
            )
        ]
    return [Refusal("legal-authority", f"legal authority {p}") for p in citation_problems(text)]


@dataclass(frozen=True)
class KnownAgency:
    """An agency whose records carry their own rules, by its names and abbreviations."""

    name: str
    category: str
    aliases: tuple[str, ...]


_BENEFIT, _TAX = "benefit_program", "tax_information"
KNOWN_AGENCIES = (
    KnownAgency(
        "Social Security Administration",
        _BENEFIT,
        ("social security administration", "ssa", "soc sec admin", "social security"),
    ),
    KnownAgency(
        "Centers for Medicare & Medicaid Services",
        _BENEFIT,
        ("centers for medicare and medicaid services", "cms", "medicare", "medicaid"),
    ),
    KnownAgency(
        "Department of Health and Human Services",
        _BENEFIT,
        ("department of health and human services", "hhs", "dhhs", "health and human services"),
    ),
    KnownAgency(
        "Department of Housing and Urban Development",
        _BENEFIT,
        ("department of housing and urban development", "hud", "housing and urban development"),
    ),
    KnownAgency("Department of Labor", _BENEFIT, ("department of labor", "dol")),
    KnownAgency(
        "Department of Veterans Affairs",
        _BENEFIT,
        ("department of veterans affairs", "va", "veterans affairs", "veterans administration"),
    ),
    KnownAgency(
        "Food and Nutrition Service",
        _BENEFIT,
        ("food and nutrition service", "fns", "snap", "usda fns"),
    ),
    KnownAgency(
        "Internal Revenue Service", _TAX, ("internal revenue service", "irs", "internal revenue")
    ),
    KnownAgency(
        "Department of the Treasury",
        _TAX,
        ("department of the treasury", "treasury", "us treasury", "treas"),
    ),
)
"""Agencies whose records must be declared in their own category, whatever the spelling."""


def agency_key(text: str) -> str:
    """An agency's name as compared: NFKC, case-folded, without dots, punctuation, '&',
    'U.S.' or a parenthesised remark (``S.S.A.`` is ``ssa``)."""
    import unicodedata

    t = unicodedata.normalize("NFKC", text).casefold()
    t = re.sub(r"\([^)]*\)", " ", t).replace("&", " and ")
    t = re.sub(r"(?<=\b\w)\.(?=\w\b|\s|$)", "", t)  # S.S.A. → SSA
    t = re.sub(r"[^\w\s]", " ", t)
    t = re.sub(r"^(the|us|u s)\s+", "", re.sub(r"\s+", " ", t).strip())
    return t


def known_agency(agency: str, system: str = "") -> KnownAgency | None:
    """The known agency an agency or system name designates, if any."""
    for text in (agency, system):
        key = agency_key(text)
        words = f" {key} "
        for known in KNOWN_AGENCIES:
            if any(key == a or f" {a} " in words for a in known.aliases if len(a) > 4) or any(
                key == a or key.startswith(a + " ") or key.endswith(" " + a) for a in known.aliases
            ):
                return known
    return None


def category_refusals(decl: SourceDeclaration) -> list[Refusal]:
    """A benefit or tax agency cannot escape its rules by declaring another category, however
    its name is spelled."""
    known = known_agency(decl.agency, decl.system)
    if known is None or decl.category == known.category:
        return []
    rule = {
        "benefit_program": "benefit-program-category",
        "tax_information": "tax-information-category",
    }[known.category]
    what = {
        "benefit_program": "runs a federal benefit program",
        "tax_information": "holds tax return information",
    }[known.category]
    return [
        Refusal(
            rule,
            f"{decl.agency!r} is the {known.name}, which {what}; declare category "
            f"{known.category!r} (declared {decl.category!r})",
        )
    ]


MAX_CMA_MONTHS = 30
"""5 U.S.C. 552a(o)(2)(D): a matching agreement runs 18 months, renewable once for 12."""
MAX_MOU_YEARS = 5
"""habeas's cap on a memorandum of understanding's term (no statute sets one)."""
WARN_YEARS_AHEAD = 3


def _months(a: date, b: date) -> float:
    return (b - a).days / 30.44


def agreement_term_refusals(decl: SourceDeclaration) -> list[Refusal]:
    """An agreement's term is bounded: no open-ended 9999-12-31."""
    agreement = decl.agreement
    if agreement is None or agreement.end < agreement.start:
        return []
    months = _months(agreement.start, agreement.end)
    if agreement.kind == "computer_matching_agreement" and months > MAX_CMA_MONTHS + 0.5:
        return [
            Refusal(
                "agreement-term",
                f"computer matching agreement {agreement.id} runs {months:.0f} months; "
                f"5 U.S.C. 552a(o)(2)(D) allows 18 months and one 12-month renewal "
                f"({MAX_CMA_MONTHS} in all)",
            )
        ]
    if months > MAX_MOU_YEARS * 12 + 0.5:
        return [
            Refusal(
                "agreement-term",
                f"agreement {agreement.id} runs {months / 12:.0f} years; habeas accepts "
                f"terms of at most {MAX_MOU_YEARS} years (renew it with a new declaration)",
            )
        ]
    return []


def legal_basis_warnings(decl: SourceDeclaration, today: date) -> list[Refusal]:
    """What an engineer should look at twice, without refusing the source."""
    agreement = decl.agreement
    if agreement is not None and (agreement.end - today).days > WARN_YEARS_AHEAD * 365:
        return [
            Refusal(
                "agreement-term",
                f"agreement {agreement.id} ends {agreement.end}, more than {WARN_YEARS_AHEAD} "
                "years from now; check the date",
            )
        ]
    return []


def agreement_refusals(decl: SourceDeclaration, today: date) -> list[Refusal]:
    """Benefit-program records need a current written data-sharing agreement."""
    if decl.category != "benefit_program":
        return []
    agreement = decl.agreement
    if agreement is None:
        return [
            Refusal(
                "benefit-program-agreement",
                "records of a federal benefit program need a written data-sharing agreement "
                "(a computer matching agreement under 5 U.S.C. 552a(o) or a memorandum of "
                "understanding) with start and end dates; none declared",
            )
        ]
    refusals = []
    if agreement.kind == "computer_matching_agreement" and not _CMA_CITATION.search(
        agreement.citation
    ):
        refusals.append(
            Refusal(
                "benefit-program-agreement",
                f"computer matching agreement {agreement.id} does not cite 5 U.S.C. 552a(o)",
            )
        )
    if agreement.end < agreement.start:
        refusals.append(
            Refusal(
                "benefit-program-agreement",
                f"agreement {agreement.id} ends ({agreement.end}) before it starts "
                f"({agreement.start})",
            )
        )
    elif today < agreement.start:
        refusals.append(
            Refusal(
                "benefit-program-agreement",
                f"agreement {agreement.id} is not in force until {agreement.start} "
                f"(checked on {today})",
            )
        )
    elif today > agreement.end:
        refusals.append(
            Refusal(
                "benefit-program-agreement",
                f"agreement {agreement.id} expired on {agreement.end} (checked on {today})",
            )
        )
    return refusals


def tax_refusals(decl: SourceDeclaration) -> list[Refusal]:
    """Tax return information needs a cited 6103 exception and a request naming persons."""
    if decl.category != "tax_information":
        return []
    if decl.tax is None:
        return [
            Refusal(
                "tax-6103-exception",
                "tax return information may be disclosed only under a cited 26 U.S.C. 6103 "
                "exception and a request naming the persons; no [tax] basis declared",
            )
        ]
    if not _TAX_EXCEPTION.search(decl.tax.exception):
        return [
            Refusal(
                "tax-6103-exception",
                f"{decl.tax.exception!r} is not a 26 U.S.C. 6103 exception "
                "(expected a citation such as '26 U.S.C. 6103(i)(2)')",
            )
        ]
    return []


BENCHMARK_PURPOSES = frozenset({"identity_resolution", "analytics"})


def benchmark_refusals(decl: SourceDeclaration) -> list[Refusal]:
    """A public benchmark data set measures the resolver; it never feeds case work."""
    if decl.category != "benchmark":
        return []
    extra = sorted(set(decl.purposes) - BENCHMARK_PURPOSES)
    if extra:
        return [
            Refusal(
                "benchmark-purposes",
                f"a benchmark data set may serve only {sorted(BENCHMARK_PURPOSES)}; "
                f"it declares {extra}",
            )
        ]
    return []


def legal_basis_refusals(decl: SourceDeclaration, today: date) -> list[Refusal]:
    """Every rule the declaration breaks on ``today``; empty when it may be used."""
    return [
        *legal_authority_refusals(decl),
        *category_refusals(decl),
        *agreement_refusals(decl, today),
        *agreement_term_refusals(decl),
        *tax_refusals(decl),
        *benchmark_refusals(decl),
    ]
