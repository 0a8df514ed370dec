"""Priority policies: a YAML file of rules over declared facts, refused at load if it
names a protected trait, a proxy for one, nationality, or any fact outside the schema.

A policy is data, never code: conditions are a small tree (``fact op value``, ``all``,
``any``, ``not``) evaluated here; nothing in the file is executed. Its version is the
hash of its bytes, recorded with every priority it produces.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from habeas.errors import HabeasError, UnreadableFile
from habeas.prioritize.facts import FACTS, Fact, forbidden_reason
from habeas.prioritize.reach import check_reach
from habeas.sources.files import MAX_POLICY_BYTES, read_bounded

DEFAULT_POLICY = Path(__file__).parent / "policies" / "default.yaml"
"""The built-in priority policy."""

Op = Literal["==", "!=", ">=", ">", "<=", "<"]


class Condition(BaseModel):
    """``{fact, op, value}``, or ``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    fact: str | None = None
    op: Op | None = None
    value: int | bool | None = None
    all_: list[Condition] | None = Field(None, alias="all")
    any_: list[Condition] | None = Field(None, alias="any")
    not_: Condition | None = Field(None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        leaf = self.fact is not None or self.op is not None or self.value is not None
        forms = [leaf, self.all_ is not None, self.any_ is not None, self.not_ is not None]
        if sum(forms) != 1:
            raise ValueError("a condition is exactly one of: fact/op/value, all, any, not")
        if leaf and (self.fact is None or self.op is None or self.value is None):
            raise ValueError("a fact condition needs fact, op and value")
        return self

    def facts(self) -> list[str]:
        """Every fact the condition reads."""
        if self.fact is not None:
            return [self.fact]
        out: list[str] = []
        for c in (self.all_ or []) + (self.any_ or []) + ([self.not_] if self.not_ else []):
            out.extend(c.facts())
        return out

    def holds(self, facts: dict[str, Fact]) -> bool:
        """True when the condition holds for these facts (an unknown value never holds)."""
        if self.all_ is not None:
            return all(c.holds(facts) for c in self.all_)
        if self.any_ is not None:
            return any(c.holds(facts) for c in self.any_)
        if self.not_ is not None:
            return not self.not_.holds(facts)
        got = facts[self.fact].value if self.fact in facts else None
        if got is None:
            return False
        want = self.value
        match self.op:
            case "==":
                return bool(got == want)
            case "!=":
                return bool(got != want)
            case ">=":
                return bool(got >= want)  # type: ignore[operator]
            case ">":
                return bool(got > want)  # type: ignore[operator]
            case "<=":
                return bool(got <= want)  # type: ignore[operator]
            case _:
                return bool(got < want)  # type: ignore[operator]


class Rule(BaseModel):
    """One rule: when its condition holds, it adds points (and may set a tier)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")
    description: str = Field(min_length=10)
    when: Condition
    points: int = Field(ge=-1000, le=1000)
    tier: int | None = Field(None, ge=1, le=9)


class TierBand(BaseModel):
    """A tier and the lowest score that reaches it."""

    model_config = ConfigDict(extra="forbid")

    tier: int = Field(ge=1, le=9)
    min_score: int


class PolicyFile(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")

    policy: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")
    description: str
    tiers: list[TierBand] = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)


@dataclass(frozen=True)
class Policy:
    """A loaded, checked policy and its version (name @ content hash)."""

    name: str
    version: str
    body: PolicyFile
    path: str


def _walk(node: Any, path: str) -> list[tuple[str, str, Any]]:
    """(path, key, value) for every mapping entry in the document."""
    out: list[tuple[str, str, Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((path, str(k), v))
            out.extend(_walk(v, f"{path}.{k}" if path else str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_walk(v, f"{path}[{i}]"))
    return out


def _rule_label(doc: dict[str, Any], path: str) -> str:
    if path.startswith("rules["):
        idx = int(path[6 : path.index("]")])
        rules = doc.get("rules") or []
        rid = rules[idx].get("id") if idx < len(rules) and isinstance(rules[idx], dict) else None
        return f"rule {rid!r} (rules[{idx}])" if rid else f"rules[{idx}]"
    return path or "top level"


def check_document(doc: Any, where: str) -> list[str]:
    """Every problem with a parsed policy document: traits, proxies, nationality, unknown
    facts; each names the rule and the field."""
    if not isinstance(doc, dict):
        return [f"{where}: a policy is a mapping with policy, description, tiers and rules"]
    problems: list[str] = []
    for path, key, value in _walk(doc, ""):
        label = _rule_label(doc, path)
        named = isinstance(value, str) and (
            key == "fact" or (key == "id" and path.startswith("rules["))
        )
        name = str(value) if named else key
        why = forbidden_reason(name)
        if why:
            problems.append(f"{where}: {label}: {why}")
        elif key == "fact" and isinstance(value, str) and value not in FACTS:
            problems.append(
                f"{where}: {label}: unknown fact '{value}'; facts are {', '.join(sorted(FACTS))}"
            )
        if key == "value" and isinstance(value, str):
            problems.append(
                f"{where}: {label}: value {value!r} is text; facts are numbers or true/false"
            )
    return list(dict.fromkeys(problems))


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors' aliases: a policy never needs them, and nested aliases (a
    "billion laughs") expand to more than any memory holds."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a policy", event.start_mark
            )
        return super().compose_node(parent, index)


def load_policy(path: Path) -> Policy:
    """Read, check and version a policy file; any problem refuses the whole file."""

    try:
        raw = read_bounded(path, MAX_POLICY_BYTES, "a policy (YAML)")
    except UnreadableFile as exc:
        raise HabeasError(f"cannot read the policy: {exc}") from None
    try:
        doc = yaml.load(raw, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        why = getattr(exc, "problem", None) or ""
        raise HabeasError(f"{path}: not valid YAML{at}" + (f": {why}" if why else "")) from None
    except RecursionError:
        raise HabeasError(f"{path}: nested too deeply to be a policy") from None
    problems = check_document(doc, str(path))
    if problems:
        raise HabeasError("policy refused:\n  " + "\n  ".join(problems))
    try:
        body = PolicyFile.model_validate(doc)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"])
            lines.append(f"{path}: {loc}: {e['msg']}")
        raise HabeasError("policy refused:\n  " + "\n  ".join(lines)) from None
    ids = [r.id for r in body.rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise HabeasError(f"policy refused:\n  {path}: rule id(s) used twice: {', '.join(dupes)}")
    for rule in body.rules:  # the model's facts, re-checked after parsing (aliases, nesting)
        for name in rule.when.facts():
            if name not in FACTS or forbidden_reason(name):
                raise HabeasError(f"policy refused:\n  {path}: rule {rule.id!r}: fact {name!r}")
    version = f"{body.policy}@{hashlib.sha256(raw).hexdigest()[:12]}"
    policy = Policy(body.policy, version, body, str(path))
    reach = check_reach(policy)
    if reach.unreachable:
        problems = [f"{path}: {p}" for p in reach.problems if "unreachable" in p]
        raise HabeasError(
            "policy refused: a policy gives every tier it names to some facts\n  "
            + "\n  ".join(problems)
        )
    return policy


@dataclass(frozen=True)
class Fired:
    """A rule that fired: its points, and the facts and records behind it."""

    rule_id: str
    description: str
    points: int
    tier: int | None
    facts: tuple[tuple[str, int | bool | None], ...]
    record_ids: tuple[str, ...]


@dataclass(frozen=True)
class Priority:
    """A person's tier and score under one policy version, with the rules that fired."""

    tier: int
    score: int
    fired: tuple[Fired, ...]
    policy_version: str

    def explain(self) -> list[str]:
        """One line per fired rule: points, facts, records."""
        out = []
        for f in self.fired:
            values = ", ".join(f"{k}={v}" for k, v in f.facts)
            recs = ", ".join(f.record_ids) or "no record"
            forced = f", sets tier {f.tier}" if f.tier else ""
            out.append(
                f"{f.rule_id} ({f.points:+d}{forced}): {f.description} [{values}] records: {recs}"
            )
        return out


def evaluate(policy: Policy, facts: dict[str, Fact]) -> Priority:
    """Score one person's facts: the sum of fired rules' points, the tier its band gives
    (a fired rule's tier can only raise the priority), and why."""
    fired = []
    for rule in policy.body.rules:
        if rule.when.holds(facts):
            names = list(dict.fromkeys(rule.when.facts()))
            ids = sorted({i for n in names if n in facts for i in facts[n].record_ids})
            fired.append(
                Fired(
                    rule.id,
                    rule.description,
                    rule.points,
                    rule.tier,
                    tuple((n, facts[n].value if n in facts else None) for n in names),
                    tuple(ids),
                )
            )
    score = sum(f.points for f in fired)
    bands = sorted(policy.body.tiers, key=lambda b: b.tier)
    tier = next((b.tier for b in bands if score >= b.min_score), bands[-1].tier)
    forced = [f.tier for f in fired if f.tier is not None]
    if forced:
        tier = min(tier, *forced)
    return Priority(tier, score, tuple(fired), policy.version)
