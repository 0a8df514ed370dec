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


_CITATION = re.compile(
    r"\d+\s*(U\.?\s?S\.?\s?C\.?|C\.?\s?F\.?\s?R\.?|Stat\.|Pub\.\s?L\.)|§|Pub\.\s?L\.|Code\s",
    re.IGNORECASE,
)
_CMA_CITATION = re.compile(r"552a\s*\(o\)")
_TAX_EXCEPTION = re.compile(r"26\s*U\.?\s?S\.?\s?C\.?\s*§?\s*6103\s*\(([a-z])\)", re.IGNORECASE)
_BENEFIT_AGENCIES = re.compile(
    r"social security|health and human|medicare|medicaid|\bCMS\b|housing and urban|\bHUD\b|"
    r"department of labor|\bSSA\b|unemployment|\bSNAP\b|veterans affairs",
    re.IGNORECASE,
)
_TAX_AGENCIES = re.compile(r"internal revenue|\bIRS\b|department of (the )?treasury", re.IGNORECASE)


def legal_authority_refusals(decl: SourceDeclaration) -> list[Refusal]:
    """A source needs a cited legal authority; a bare phrase is not a citation."""
    text = decl.legal_authority.strip()
    if not text:
        return [
            Refusal(
                "legal-authority",
                "no legal authority declared; cite the statute or regulation that permits "
                "collecting and using these records (for example '8 U.S.C. 1357')",
            )
        ]
    if not (_CITATION.search(text) and re.search(r"\d", text)):  # a section number, too
        return [
            Refusal(
                "legal-authority",
                f"legal authority {text!r} cites no statute, regulation or code section",
            )
        ]
    return []


def category_refusals(decl: SourceDeclaration) -> list[Refusal]:
    """A benefit or tax agency cannot escape its rules by declaring another category."""
    holder = f"{decl.agency} {decl.system}"
    if _BENEFIT_AGENCIES.search(holder) and decl.category != "benefit_program":
        return [
            Refusal(
                "benefit-program-category",
                f"{decl.agency!r} runs a federal benefit program; declare category "
                f"'benefit_program' (declared {decl.category!r})",
            )
        ]
    if _TAX_AGENCIES.search(holder) and decl.category != "tax_information":
        return [
            Refusal(
                "tax-information-category",
                f"{decl.agency!r} holds tax return information; declare category "
                f"'tax_information' (declared {decl.category!r})",
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
        *tax_refusals(decl),
        *benchmark_refusals(decl),
    ]
