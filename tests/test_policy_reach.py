"""Not rigged: the policy in force reaches every tier (the lowest included) and its score
can go down as well as up; a policy that makes a tier unreachable is refused on load with
the reason; the search's answers agree with the policy's own evaluation and, on small
policies, with trying every combination of facts."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.errors import HabeasError
from habeas.prioritize.facts import FACTS, Fact
from habeas.prioritize.policy import DEFAULT_POLICY, evaluate, load_policy
from habeas.prioritize.reach import _candidates, check_reach


def write(tmp: Path, doc: dict[str, Any], name: str = "p.yaml") -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(doc))
    return path


def facts_of(example: dict[str, Any]) -> dict[str, Fact]:
    """Every fact, as the facts' reader gives them: unknown unless the example says."""
    return {k: Fact(example.get(k), ("r1",) if k in example else ()) for k in FACTS}


def test_the_policy_in_force_reaches_every_tier_and_its_score_moves() -> None:
    policy = load_policy(DEFAULT_POLICY)
    reach = check_reach(policy)
    assert reach.ok, reach.problems
    assert set(reach.tiers) == {b.tier for b in policy.body.tiers}
    for tier, example in reach.tiers.items():
        assert example is not None
        assert evaluate(policy, facts_of(example)).tier == tier, (tier, example)
    assert reach.min_score < 0 < reach.max_score


RULE = {"description": "a rule for the test", "points": 10}


def test_a_policy_that_can_only_rank_everyone_first_is_refused(tmp_path: Path) -> None:
    always = {
        "any": [
            {"fact": "pending_charges", "op": ">=", "value": 0},
            {"not": {"fact": "pending_charges", "op": ">=", "value": 0}},
        ]
    }
    doc = {
        "policy": "rigged-policy",
        "description": "every case detained",
        "tiers": [
            {"tier": 1, "min_score": 50},
            {"tier": 2, "min_score": 10},
            {"tier": 3, "min_score": 0},
        ],
        "rules": [{**RULE, "id": "everyone-first", "when": always, "tier": 1}],
    }
    with pytest.raises(HabeasError) as exc:
        load_policy(write(tmp_path, doc))
    assert "tier 2 is unreachable" in str(exc.value)
    assert "tier 3 is unreachable" in str(exc.value) and "lowest priority" in str(exc.value)


def test_points_that_never_go_below_a_band_are_refused(tmp_path: Path) -> None:
    doc = {
        "policy": "no-low-band",
        "description": "scores never fall under the top band",
        "tiers": [{"tier": 1, "min_score": 0}, {"tier": 2, "min_score": -50}],
        "rules": [
            {**RULE, "id": "charges", "when": {"fact": "pending_charges", "op": ">=", "value": 1}}
        ],
    }
    with pytest.raises(HabeasError, match="tier 2 is unreachable"):
        load_policy(write(tmp_path, doc))


def test_a_score_that_cannot_move_fails_the_check(tmp_path: Path) -> None:
    never = {
        "all": [
            {"fact": "pending_charges", "op": ">=", "value": 1},
            {"not": {"fact": "pending_charges", "op": ">=", "value": 1}},
        ]
    }
    doc = {
        "policy": "fixed-score",
        "description": "a rule that never fires",
        "tiers": [{"tier": 3, "min_score": 0}],
        "rules": [{**RULE, "id": "never-fires", "when": never}],
    }
    reach = check_reach(load_policy(write(tmp_path, doc)))
    assert not reach.ok and "cannot go down or up" in reach.problems[0]


FACT_NAMES = ("pending_charges", "active_warrants", "final_order")


@st.composite
def policies(draw: Any) -> dict[str, Any]:
    def leaf() -> dict[str, Any]:
        fact = draw(st.sampled_from(FACT_NAMES))
        if fact == "final_order":
            return {
                "fact": fact,
                "op": draw(st.sampled_from(["==", "!="])),
                "value": draw(st.booleans()),
            }
        op = draw(st.sampled_from(["==", "!=", ">=", ">", "<=", "<"]))
        return {"fact": fact, "op": op, "value": draw(st.integers(0, 3))}

    def condition(depth: int) -> dict[str, Any]:
        kind = draw(st.sampled_from(["leaf", "all", "any", "not"] if depth < 2 else ["leaf"]))
        if kind == "leaf":
            return leaf()
        if kind == "not":
            return {"not": condition(depth + 1)}
        return {kind: [condition(depth + 1) for _ in range(draw(st.integers(1, 3)))]}

    rules = [
        {
            "id": f"rule-{i}",
            "description": "a generated rule",
            "when": condition(0),
            "points": draw(st.integers(-60, 60)),
            **({"tier": draw(st.integers(1, 3))} if draw(st.booleans()) else {}),
        }
        for i in range(draw(st.integers(1, 4)))
    ]
    cut = sorted(draw(st.lists(st.integers(-50, 100), min_size=2, max_size=2, unique=True)))
    tiers = [
        {"tier": 1, "min_score": cut[1]},
        {"tier": 2, "min_score": cut[0]},
        {"tier": 3, "min_score": -1000},
    ]
    return {"policy": "generated", "description": "generated", "tiers": tiers, "rules": rules}


@settings(max_examples=60, deadline=None)
@given(policies())
def test_the_search_agrees_with_trying_every_combination(doc: dict[str, Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        try:
            policy = load_policy(write(Path(tmp), doc))
        except HabeasError as exc:
            assert "unreachable" in str(exc)
            policy = None
    if policy is None:
        from habeas.prioritize.policy import Policy, PolicyFile

        policy = Policy(
            "generated", f"generated@{hash(str(doc))}", PolicyFile.model_validate(doc), ""
        )
    reach = check_reach(policy)
    values = _candidates(policy)
    seen: dict[int, int] = {}
    scores = []
    for combo in itertools.product(*values.values()):
        example = dict(zip(values, combo, strict=True))
        got = evaluate(policy, facts_of({k: v for k, v in example.items() if v is not None}))
        seen[got.tier] = seen.get(got.tier, 0) + 1
        scores.append(got.score)
    for tier, example in reach.tiers.items():
        if example is None:
            assert tier not in seen, (tier, doc)
        else:
            assert evaluate(policy, facts_of(example)).tier == tier
    assert (reach.min_score, reach.max_score) == (min(scores), max(scores))


def test_the_check_through_the_cli_and_the_api(tmp_path: Path) -> None:
    from conftest import make_app
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from habeas.cli.main import app as cli
    from habeas.server import create_api

    run = CliRunner()
    ok = run.invoke(cli, ["--data-dir", str(tmp_path / "d"), "policy", "check"])
    assert ok.exit_code == 0 and "tier 3: reached by" in ok.output, ok.output
    doc = {
        "policy": "fixed-score",
        "description": "a rule that never fires",
        "tiers": [{"tier": 3, "min_score": 0}],
        "rules": [
            {
                **RULE,
                "id": "never-fires",
                "when": {"all": [{"fact": "final_order", "op": "==", "value": True},
                                 {"fact": "final_order", "op": "==", "value": False}]},
            }
        ],
    }  # fmt: skip
    fixed = run.invoke(
        cli, ["--data-dir", str(tmp_path / "d"), "policy", "check", str(write(tmp_path, doc))]
    )
    assert fixed.exit_code == 4 and "cannot go down or up" in fixed.output
    app = make_app(tmp_path / "data", users={"ig1": "oversight"})
    token = app.users.create_token(app.users.local("root", "t"), "ig1", "t").secret
    with TestClient(create_api(app)) as c:
        r = c.get(
            "/policy/check",
            headers={"Authorization": f"Bearer {token}", "X-Habeas-Purpose": "oversight"},
        )
        assert r.status_code == 200 and r.json()["problems"] == []
        assert set(r.json()["tiers"]) == {"1", "2", "3"}
        assert c.get("/policy/check").status_code == 401
    app.close()
