"""Is the policy rigged? For a policy, which tiers some combination of facts reaches (the
lowest priority included), and whether a score can go down as well as up: a policy that
can only ever give one answer is refused when it loads.

The facts range over their domains (counts from 0, true/false, unknown); each fact takes
only the values its conditions tell apart (each constant compared, one below and one
above, 0 and unknown), so the search is exact for the policy. OR-Tools' CP-SAT decides each
question and gives a combination of facts as the witness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from habeas.prioritize.facts import FACTS

if TYPE_CHECKING:
    from habeas.prioritize.policy import Condition, Policy, Rule

Value = int | bool | None


@dataclass(frozen=True)
class Reach:
    """What a policy can give: per tier, a combination of facts reaching it (None when
    none does), and the lowest and highest scores."""

    tiers: dict[int, dict[str, Value] | None]
    min_score: int
    max_score: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every tier reachable, and the score not fixed."""
        return not self.problems

    @property
    def unreachable(self) -> list[int]:
        """The tiers no combination of facts gives."""
        return [t for t, w in self.tiers.items() if w is None]


_CHECKED: dict[str, Reach] = {}


def _candidates(policy: Policy) -> dict[str, list[Value]]:
    consts: dict[str, set[int]] = {}

    def visit(c: Condition) -> None:
        if c.fact is not None:
            if isinstance(c.value, bool):
                consts.setdefault(c.fact, set())
            elif c.value is not None:
                consts.setdefault(c.fact, set()).add(int(c.value))
            return
        for sub in (c.all_ or []) + (c.any_ or []) + ([c.not_] if c.not_ else []):
            visit(sub)

    for rule in policy.body.rules:
        visit(rule.when)
    out: dict[str, list[Value]] = {}
    for name, values in consts.items():
        if FACTS[name].type == "bool":
            out[name] = [None, False, True]
        else:
            near = {v + d for v in values for d in (-1, 0, 1)} | {0}
            out[name] = [None, *sorted(v for v in near if v >= 0)]
    return out


def _holds(op: str, got: Value, want: Value) -> bool:
    if got is None:
        return False
    return bool(
        {
            "==": lambda: got == want,
            "!=": lambda: got != want,
            ">=": lambda: got >= want,  # type: ignore[operator]
            ">": lambda: got > want,  # type: ignore[operator]
            "<=": lambda: got <= want,  # type: ignore[operator]
            "<": lambda: got < want,  # type: ignore[operator]
        }[op]()
    )


class _Model:
    """The policy as constraints: a choice per fact, a truth per condition and rule."""

    def __init__(self, policy: Policy) -> None:
        from ortools.sat.python import cp_model

        self.cp = cp_model
        self.m = cp_model.CpModel()
        self.policy = policy
        self.values = _candidates(policy)
        self.pick = {
            (f, i): self.m.new_bool_var(f"{f}={v}")
            for f, vs in self.values.items()
            for i, v in enumerate(vs)
        }
        for f, vs in self.values.items():
            self.m.add_exactly_one(self.pick[(f, i)] for i in range(len(vs)))
        self.fired = {r.id: self._truth(r.when) for r in policy.body.rules}
        points = [r.points for r in policy.body.rules]
        low = sum(p for p in points if p < 0)
        high = sum(p for p in points if p > 0)
        self.score = self.m.new_int_var(low, high, "score")
        self.m.add(self.score == sum(r.points * self.fired[r.id] for r in policy.body.rules))

    def _truth(self, c: Condition) -> Any:
        b = self.m.new_bool_var("c")
        if c.fact is not None:
            true = [
                self.pick[(c.fact, i)]
                for i, v in enumerate(self.values[c.fact])
                if _holds(str(c.op), v, c.value)
            ]
            if true:
                self.m.add_max_equality(b, true)
            else:
                self.m.add(b == 0)
        elif c.all_ is not None:
            self.m.add_min_equality(b, [self._truth(x) for x in c.all_])
        elif c.any_ is not None:
            self.m.add_max_equality(b, [self._truth(x) for x in c.any_])
        else:
            assert c.not_ is not None
            self.m.add(b == 1 - self._truth(c.not_))
        return b

    def witness(self, solver: Any) -> dict[str, Value]:
        """The facts of a solution (the values that decide, unknown ones left out)."""
        out: dict[str, Value] = {}
        for (f, i), var in self.pick.items():
            if solver.value(var) and self.values[f][i] is not None:
                out[f] = self.values[f][i]
        return dict(sorted(out.items()))


def _rules_forcing(policy: Policy, below: int) -> list[Rule]:
    return [r for r in policy.body.rules if r.tier is not None and r.tier < below]


def _tier_model(policy: Policy, tier: int) -> _Model:
    """Constraints for "the final tier is ``tier``" (``evaluate``'s rule: the band the score
    falls in, raised by any fired rule's own tier)."""
    mod = _Model(policy)
    m, s = mod.m, mod.score
    for r in _rules_forcing(policy, tier):
        m.add(mod.fired[r.id] == 0)
    bands = sorted(policy.body.tiers, key=lambda b: b.tier)
    higher = [b for b in bands if b.tier < tier]
    own = [b for b in bands if b.tier == tier]
    by_band = m.new_bool_var("by_band")
    for b in higher:  # the score reaches no band above this tier
        m.add(s < b.min_score).only_enforce_if(by_band)
    if own and own[0] is not bands[-1]:
        m.add(s >= own[0].min_score).only_enforce_if(by_band)
    if not own:
        m.add(by_band == 0)
    # or: the band is lower, and a fired rule sets this tier
    setters = [mod.fired[r.id] for r in policy.body.rules if r.tier == tier]
    by_rule = m.new_bool_var("by_rule")
    if setters and bands[-1].tier > tier:
        m.add_bool_or(setters).only_enforce_if(by_rule)
        for b in bands:
            if b.tier <= tier:  # the score reaches no band at or above this tier
                m.add(s < b.min_score).only_enforce_if(by_rule)
    else:
        m.add(by_rule == 0)
    m.add_bool_or([by_band, by_rule])
    return mod


def check_reach(policy: Policy) -> Reach:
    """Which tiers the policy can give and the range of its scores; a problem for each
    tier no facts reach and for a score that cannot move (kept per policy version)."""
    hit = _CHECKED.get(policy.version)
    if hit is None:
        hit = _CHECKED[policy.version] = _check(policy)
    return hit


def _check(policy: Policy) -> Reach:
    from ortools.sat.python import cp_model

    tiers = sorted(
        {b.tier for b in policy.body.tiers} | {r.tier for r in policy.body.rules if r.tier}
    )
    found: dict[int, dict[str, Value] | None] = {}
    for t in tiers:
        mod = _tier_model(policy, t)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = 10.0
        status = solver.solve(mod.m)
        found[t] = mod.witness(solver) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    scores = []
    for sense in ("min", "max"):
        mod = _Model(policy)
        (mod.m.minimize if sense == "min" else mod.m.maximize)(mod.score)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.solve(mod.m)
        scores.append(int(solver.value(mod.score)))
    problems = [
        f"tier {t} is unreachable: no combination of facts gives it"
        + (" (the lowest priority: every case would rank above it)" if t == tiers[-1] else "")
        for t, w in found.items()
        if w is None
    ]
    if scores[0] == scores[1]:
        problems.append(f"every case scores {scores[0]}: the score cannot go down or up")
    return Reach(found, scores[0], scores[1], problems)
