"""The legal-basis rules, each tried and each refusal's reason checked."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from habeas.sources.declaration import parse_declaration
from habeas.sources.rules import legal_basis_refusals

TODAY = date(2026, 11, 28)


def decl(**overrides: Any) -> Any:
    data: dict[str, Any] = {
        "name": "test_source",
        "agency": "Test agency (synthetic)",
        "system": "Test system",
        "category": "immigration",
        "legal_authority": "8 U.S.C. 1103(a)",
        "purposes": ["case_review"],
        "retention_days": 365,
        "natural_key": ["ID"],
        "format": {"kind": "csv"},
        "fields": {"ID": {"to": "reference"}, "LAST": {"to": "family_name"}},
    }
    data.update(overrides)
    return parse_declaration(data, "test.toml")


def rules(d: Any, today: date = TODAY) -> list[str]:
    return [r.rule for r in legal_basis_refusals(d, today)]


def cma(
    start: str = "2025-06-01", end: str = "2027-05-31", citation: str = "5 U.S.C. 552a(o)"
) -> dict[str, Any]:
    return {
        "kind": "computer_matching_agreement",
        "id": "CMA-1",
        "citation": citation,
        "start": date.fromisoformat(start),
        "end": date.fromisoformat(end),
    }


def test_a_source_with_a_cited_authority_is_accepted() -> None:
    assert legal_basis_refusals(decl(), TODAY) == []


@pytest.mark.parametrize(
    "authority", ["", "   ", "because we need it", "agency policy", "our Code of conduct", "§"]
)
def test_no_legal_authority_is_refused(authority: str) -> None:
    refusals = legal_basis_refusals(decl(legal_authority=authority), TODAY)
    assert [r.rule for r in refusals] == ["legal-authority"]
    assert "legal authority" in refusals[0].message


def test_benefit_program_without_agreement_is_refused() -> None:
    refusals = legal_basis_refusals(decl(category="benefit_program"), TODAY)
    assert [r.rule for r in refusals] == ["benefit-program-agreement"]
    assert "552a(o)" in refusals[0].message and "memorandum" in refusals[0].message


def test_benefit_program_with_current_agreement_is_accepted() -> None:
    assert rules(decl(category="benefit_program", agreement=cma())) == []


def test_expired_agreement_is_refused_naming_agreement_and_date() -> None:
    d = decl(category="benefit_program", agreement=cma(end="2026-06-30"))
    refusals = legal_basis_refusals(d, TODAY)
    assert [r.rule for r in refusals] == ["benefit-program-agreement"]
    assert "CMA-1" in refusals[0].message and "2026-06-30" in refusals[0].message


def test_agreement_not_yet_in_force_is_refused() -> None:
    d = decl(category="benefit_program", agreement=cma(start="2027-01-01", end="2028-01-01"))
    [refusal] = legal_basis_refusals(d, TODAY)
    assert "not in force until 2027-01-01" in refusal.message


def test_agreement_boundaries_are_inclusive() -> None:
    d = decl(category="benefit_program", agreement=cma(start="2026-11-28", end="2026-11-28"))
    assert rules(d) == []
    assert rules(d, date(2026, 11, 29)) == ["benefit-program-agreement"]
    assert rules(d, date(2026, 11, 27)) == ["benefit-program-agreement"]


def test_matching_agreement_must_cite_the_privacy_act() -> None:
    d = decl(category="benefit_program", agreement=cma(citation="handshake"))
    [refusal] = legal_basis_refusals(d, TODAY)
    assert "552a(o)" in refusal.message


def test_agreement_ending_before_it_starts_is_refused() -> None:
    d = decl(category="benefit_program", agreement=cma(start="2027-01-01", end="2026-01-01"))
    [refusal] = legal_basis_refusals(d, TODAY)
    assert "before it starts" in refusal.message


def test_memorandum_of_understanding_counts_as_agreement() -> None:
    mou = {
        "kind": "memorandum_of_understanding",
        "id": "MOU-7",
        "start": date(2026, 1, 1),
        "end": date(2027, 1, 1),
    }
    assert rules(decl(category="benefit_program", agreement=mou)) == []


@pytest.mark.parametrize(
    "agency",
    [
        "Social Security Administration",
        "Department of Housing and Urban Development",
        "Centers for Medicare & Medicaid Services",
    ],
)
def test_a_benefit_agency_cannot_declare_another_category(agency: str) -> None:
    assert "benefit-program-category" in rules(decl(agency=agency, category="state_records"))


def test_a_tax_agency_cannot_declare_another_category() -> None:
    assert "tax-information-category" in rules(
        decl(agency="Internal Revenue Service", category="commercial")
    )


def test_tax_information_without_6103_basis_is_refused() -> None:
    refusals = legal_basis_refusals(decl(category="tax_information"), TODAY)
    assert [r.rule for r in refusals] == ["tax-6103-exception"]


def test_tax_information_citing_something_else_is_refused() -> None:
    tax = {"exception": "5 U.S.C. 552a(b)(3)", "request_id": "R1", "request_file": "req.csv"}
    refusals = legal_basis_refusals(decl(category="tax_information", tax=tax), TODAY)
    assert [r.rule for r in refusals] == ["tax-6103-exception"]
    assert "5 U.S.C. 552a(b)(3)" in refusals[0].message


def test_tax_information_with_6103_exception_is_accepted() -> None:
    tax = {"exception": "26 U.S.C. 6103(i)(2)", "request_id": "R1", "request_file": "req.csv"}
    assert rules(decl(category="tax_information", tax=tax)) == []


def test_several_broken_rules_are_all_reported() -> None:
    d = decl(legal_authority="", category="benefit_program")
    assert rules(d) == ["legal-authority", "benefit-program-agreement"]
