"""Priority policies: refused when they name a protected trait, a proxy, nationality or an
unknown fact; evaluated into a tier, a score and the records behind each fired rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from habeas.errors import HabeasError
from habeas.prioritize.facts import FACTS, Fact, compute_facts, facts_for_persons
from habeas.prioritize.policy import evaluate, load_policy
from habeas.store.staging import StagingStore

DEFAULT = Path(__file__).parents[1] / "src/habeas/prioritize/policies/default.yaml"

BASE = """\
policy: test-policy
description: a policy for tests
tiers:
  - {tier: 1, min_score: 100}
  - {tier: 2, min_score: 0}
rules:
  - id: felony-recent
    description: a recent felony conviction
    when: {fact: felony_convictions_10y, op: ">=", value: 1}
    points: 100
"""


def write(tmp_path: Path, extra_rule: str) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(BASE + extra_rule)
    return p


def rule(fact: str) -> str:
    return f"""\
  - id: smuggled
    description: a rule that reads {fact}
    when: {{fact: {fact}, op: "==", value: 1}}
    points: 10
"""


def test_the_default_policy_loads_and_is_versioned_by_its_bytes(tmp_path: Path) -> None:
    p = load_policy(DEFAULT)
    assert p.version.startswith("default-priorities@") and len(p.body.rules) >= 8
    copy = tmp_path / "p.yaml"
    copy.write_text(DEFAULT.read_text() + "\n# a comment changes the version\n")
    assert load_policy(copy).version != p.version


@pytest.mark.parametrize(
    "field,trait",
    [
        ("race", "race"),
        ("ethnicity", "ethnicity"),
        ("religion", "religion"),
        ("religious_attendance", "religion"),
        ("political_activity", "political opinion or activity"),
        ("protest_arrests", "political opinion or activity"),
        ("gang_affiliation", "associations or affiliations"),
        ("gangMember", "associations or affiliations"),
        ("organization_membership", "associations or affiliations"),
        ("health_condition", "health"),
        ("mental_health", "health"),
        ("sexual_orientation", "sexual orientation"),
        ("gender_identity", "gender identity"),
    ],
)
def test_each_protected_trait_is_refused_naming_rule_and_field(
    tmp_path: Path, field: str, trait: str
) -> None:
    with pytest.raises(HabeasError) as err:
        load_policy(write(tmp_path, rule(field)))
    msg = str(err.value)
    assert "rule 'smuggled' (rules[1])" in msg and f"'{field}'" in msg and trait in msg


@pytest.mark.parametrize(
    "field,trait",
    [
        ("language", "ethnicity"),
        ("primary_language", "ethnicity"),
        ("surname_origin", "ethnicity"),
        ("zip_code", "race"),
        ("neighborhood", "race"),
        ("tattoos", "associations or affiliations"),
        ("social_media", "political"),
    ],
)
def test_declared_proxies_are_refused_like_the_trait(
    tmp_path: Path, field: str, trait: str
) -> None:
    with pytest.raises(HabeasError, match=f"declared proxy for {trait}"):
        load_policy(write(tmp_path, rule(field)))


@pytest.mark.parametrize("field", ["nationality", "country_of_birth", "citizenship_country"])
def test_nationality_is_refused_for_priority(tmp_path: Path, field: str) -> None:
    with pytest.raises(HabeasError, match="used for travel documents and transport, never"):
        load_policy(write(tmp_path, rule(field)))


def test_unknown_facts_smuggled_keys_and_text_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(HabeasError, match="unknown fact 'credit_score'"):
        load_policy(write(tmp_path, rule("credit_score")))
    smuggled_key = """\
  - id: sneaky
    description: a key outside the grammar
    when: {fact: felony_convictions, op: ">=", value: 1}
    ethnicity: hispanic
    points: 10
"""
    with pytest.raises(HabeasError, match=r"rule 'sneaky' \(rules\[1\]\): 'ethnicity' names"):
        load_policy(write(tmp_path, smuggled_key))
    extra_key = smuggled_key.replace("ethnicity: hispanic", "weight_by: 2")
    with pytest.raises(HabeasError, match=r"rules\.1\.weight_by: Extra inputs"):
        load_policy(write(tmp_path, extra_key))
    nested = """\
  - id: nested
    description: a trait hidden in a nested not
    when:
      all:
        - {fact: felony_convictions, op: ">=", value: 1}
        - not: {fact: religion, op: "==", value: 1}
    points: 10
"""
    with pytest.raises(HabeasError, match=r"rule 'nested' \(rules\[1\]\): 'religion'"):
        load_policy(write(tmp_path, nested))
    text_value = rule("felony_convictions").replace("value: 1", "value: MS-13")
    with pytest.raises(HabeasError, match="is text"):
        load_policy(write(tmp_path, text_value))
    named = rule("felony_convictions").replace("id: smuggled", "id: gang-members")
    with pytest.raises(HabeasError, match="'gang-members' names a protected trait"):
        load_policy(write(tmp_path, named))


def test_bad_files_are_refused_with_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: x\nrules: [\n")
    with pytest.raises(HabeasError, match=r"bad.yaml: not valid YAML at line \d"):
        load_policy(bad)
    with pytest.raises(HabeasError, match="cannot read the policy"):
        load_policy(tmp_path / "missing.yaml")
    twice = BASE + BASE.split("rules:\n", 1)[1]
    (tmp_path / "twice.yaml").write_text(twice)
    with pytest.raises(HabeasError, match=r"rule id\(s\) used twice: felony-recent"):
        load_policy(tmp_path / "twice.yaml")


def test_evaluation_gives_tier_score_and_the_records_behind_each_rule() -> None:
    policy = load_policy(DEFAULT)
    facts = {name: Fact(0 if d.type == "int" else False) for name, d in FACTS.items()}
    facts["felony_convictions"] = Fact(1, ("r-fbi-1",))
    facts["felony_convictions_10y"] = Fact(1, ("r-fbi-1",))
    facts["final_order"] = Fact(True, ("r-eoir-1",))
    facts["final_order_age_days"] = Fact(400, ("r-eoir-1",))
    facts["days_since_last_entry"] = Fact(None)
    p = evaluate(policy, facts)
    fired = {f.rule_id: f for f in p.fired}
    assert set(fired) == {"felony-conviction-recent", "final-order", "final-order-over-a-year"}
    assert p.score == 150 and p.tier == 1 and p.policy_version == policy.version
    assert fired["final-order-over-a-year"].record_ids == ("r-eoir-1",)
    assert any("records: r-fbi-1" in line for line in p.explain())
    facts["appeal_pending"] = Fact(True, ("r-eoir-2",))
    lower = evaluate(policy, facts)
    assert lower.score == 110 and "appeal-or-stay-pending" in {f.rule_id for f in lower.fired}


def test_facts_are_computed_from_records_with_their_ids() -> None:
    today = date(2026, 11, 1)
    rows = [
        {
            "record_id": "f1",
            "source": "fbi_criminal",
            "offense_class": "felony",
            "disposition": "convicted",
            "disposition_date": date(2020, 5, 1),
        },
        {
            "record_id": "f2",
            "source": "fbi_criminal",
            "offense_class": "felony",
            "disposition": "convicted",
            "disposition_date": date(2001, 5, 1),
        },
        {
            "record_id": "f3",
            "source": "fbi_criminal",
            "offense_class": "misdemeanor",
            "disposition": "pending",
            "disposition_date": None,
        },
        {
            "record_id": "e1",
            "source": "eoir_cases",
            "order_type": "removal",
            "order_date": date(2025, 1, 10),
            "appeal_status": "none",
            "appeal_date": None,
            "stay_status": "none",
            "departure_deadline": None,
        },
        {
            "record_id": "c1",
            "source": "cbp_crossings",
            "event_type": "ENTRY",
            "event_date": date(2024, 11, 1),
        },
    ]
    full = [
        {
            c: r.get(c)
            for c in (
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
        }
        for r in rows
    ]
    f = compute_facts(full, today)
    assert f["felony_convictions"] == Fact(2, ("f1", "f2"))
    assert f["felony_convictions_10y"] == Fact(1, ("f1",))
    assert f["pending_charges"] == Fact(1, ("f3",))
    assert f["final_order"] == Fact(True, ("e1",))
    assert f["final_order_age_days"].value == (today - date(2025, 2, 9)).days
    assert f["days_since_last_entry"] == Fact(730, ("c1",))
    assert f["prior_removals"] == Fact(0, ())


def test_explanations_name_real_records_of_the_person(index: StagingStore) -> None:
    policy = load_policy(DEFAULT)
    persons = [
        r[0]
        for r in index.rows(
            """SELECT DISTINCT p.person_id FROM person_records p JOIN records r USING (record_id)
           WHERE r.source IN ('fbi_criminal', 'eoir_cases') ORDER BY 1 LIMIT 200"""
        )
    ]
    facts = facts_for_persons(index, persons, date(2026, 11, 1))
    fired_any = 0
    for pid in persons:
        p = evaluate(policy, facts[pid])
        mine = {
            r[0]
            for r in index.rows("SELECT record_id FROM person_records WHERE person_id = ?", [pid])
        }
        for f in p.fired:
            fired_any += 1
            assert f.record_ids, f
            assert set(f.record_ids) <= mine, (pid, f)
    assert fired_any > 50


def test_cases_are_rescored_only_when_their_facts_change(
    index: StagingStore, tmp_path: Path
) -> None:
    """A second run re-scores nothing; a correction to one record re-scores that person's
    case alone; the stored explanation names the policy version and the records."""
    import json

    from sqlalchemy import select

    from habeas.cases.from_records import open_cases_from_index
    from habeas.governance.authz import AccessContext
    from habeas.prioritize.service import prioritize_cases
    from habeas.store.models import Case
    from habeas.store.operational import make_engine, session_factory, upgrade

    officer = AccessContext("officer1", "case_officer", "case_review")
    engine = make_engine(f"sqlite:///{tmp_path / 'op.db'}")
    upgrade(engine)
    from habeas.store.keys import register

    register(engine, b"test-history-key-of-32-bytes-xx!")
    today = date(2026, 11, 1)
    with session_factory(engine).begin() as s:
        opened = open_cases_from_index(s, index, officer, today, limit=120).opened
    policy = load_policy(DEFAULT)
    first = prioritize_cases(engine, index, officer, policy, today)
    assert first.scored == opened and first.unchanged == 0
    again = prioritize_cases(engine, index, officer, policy, today)
    assert again.scored == 0 and again.unchanged == opened
    with session_factory(engine)() as s:
        case = (
            s.execute(select(Case).where(Case.priority_score > 0).order_by(Case.id))
            .scalars()
            .first()
        )
        assert case is not None and case.policy_version == policy.version
        fired = json.loads(case.priority_explanation or "[]")
        pid = case.person_id
    assert fired and all(f["record_ids"] for f in fired)
    eoir = index.rows(
        "SELECT r.record_id FROM person_records p JOIN records r USING (record_id) "
        "WHERE p.person_id = ? AND r.source = 'eoir_cases'",
        [pid],
    )
    index.con.execute(
        "UPDATE records SET appeal_status = 'pending' WHERE record_id = ?", [eoir[0][0]]
    )  # a correction arrives: an appeal was filed
    third = prioritize_cases(engine, index, officer, policy, today)
    assert third.scored == 1 and third.unchanged == opened - 1
    with pytest.raises(Exception, match="may not prioritize"):
        prioritize_cases(
            engine, index, AccessContext("c", "custody_officer", "custody"), policy, today
        )
