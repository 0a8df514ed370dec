"""Removal transport planning: people who passed the removal gate, assigned to flights.

The model is linear, so a min-cost flow (OR-Tools) solves it exactly. People are grouped
by (hub where held, destination country, ready day); each group sends its people into a
chain of day nodes per (departure hub, country), entering at the first day on or after
it is ready, paying the transfer cost when the departure hub is not its own; a chain arc
carries people one stop later at a cost of the days waited; each flight is an arc from
its day node to the sink with the flight's capacity. An expensive arc from every group
straight to the sink takes whoever cannot fly, so the flow is always feasible, and the
unassigned are reported with their cause. The network's size depends on hubs, countries
and days, not on the number of people; people are matched to flights first-in-first-out
inside each chain, which keeps every ready date.

The objective is days waited in detention plus ``transfer_cost`` per domestic transfer
(plus a large penalty per person left behind). A greedy baseline (people in ready-date
order, each on the earliest flight with a seat, own hub first on a tie) is computed on
the same objective for comparison.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

import numpy as np

TRANSFER_COST = 3
"""A domestic transfer costs as much as this many days of waiting."""
UNASSIGNED_COST = 10_000
"""Per person left behind: large enough that a seat is always preferred."""


@dataclass(frozen=True)
class Ready:
    """A person who passed the removal gate: where held, where to, from which day."""

    pid: str
    hub: str
    country: str
    ready_on: date


@dataclass(frozen=True)
class Flight:
    """A removal flight: day, departure hub, destination country, seats."""

    fid: str
    day: date
    hub: str
    country: str
    capacity: int


@dataclass
class Plan:
    """Who flies on which flight, who does not and why, and what it costs."""

    method: str
    assigned: dict[str, str] = field(default_factory=dict)
    unassigned: dict[str, str] = field(default_factory=dict)
    wait_days: int = 0
    transfers: int = 0
    seconds: float = 0.0

    @property
    def objective(self) -> int:
        """Days waited + transfer cost per transfer + penalty per person left behind."""
        return (
            self.wait_days + TRANSFER_COST * self.transfers + UNASSIGNED_COST * len(self.unassigned)
        )

    @property
    def mean_wait(self) -> float:
        """Mean days from ready to flight, over the people assigned."""
        return self.wait_days / len(self.assigned) if self.assigned else 0.0


def _no_seat(p: Ready) -> str:
    return f"no flight capacity to {p.country} on or after {p.ready_on}"


def _tally(plan: Plan, people: list[Ready], flights: dict[str, Flight]) -> Plan:
    by_pid = {p.pid: p for p in people}
    for pid, fid in plan.assigned.items():
        f, p = flights[fid], by_pid[pid]
        plan.wait_days += (f.day - p.ready_on).days
        plan.transfers += f.hub != p.hub
    return plan


def check_plan(plan: Plan, people: list[Ready], flights: list[Flight]) -> list[str]:
    """Every constraint the plan breaks (empty when it keeps them all): seats, ready dates,
    destinations, everyone accounted for once."""
    fl = {f.fid: f for f in flights}
    by_pid = {p.pid: p for p in people}
    problems = []
    used: dict[str, int] = defaultdict(int)
    for pid, fid in plan.assigned.items():
        p, f = by_pid[pid], fl[fid]
        used[fid] += 1
        if f.day < p.ready_on:
            problems.append(f"{pid} on {fid} ({f.day}) before ready ({p.ready_on})")
        if f.country != p.country:
            problems.append(f"{pid} to {f.country}, not {p.country}")
    problems += [
        f"{fid} over capacity ({n} > {fl[fid].capacity})"
        for fid, n in used.items()
        if n > fl[fid].capacity
    ]
    if set(plan.assigned) & set(plan.unassigned):
        problems.append("someone is both assigned and unassigned")
    if set(plan.assigned) | set(plan.unassigned) != set(by_pid):
        problems.append("someone is missing from the plan")
    return problems


def plan_greedy(people: list[Ready], flights: list[Flight]) -> Plan:
    """The baseline: in ready-date order, the earliest flight with a seat (own hub first)."""
    started = time.perf_counter()
    plan = Plan("greedy")
    seats = {f.fid: f.capacity for f in flights}
    by_country: dict[str, list[Flight]] = defaultdict(list)
    for f in flights:
        by_country[f.country].append(f)
    for lst in by_country.values():
        lst.sort(key=lambda f: (f.day, f.hub, f.fid))
    days = {c: [f.day for f in lst] for c, lst in by_country.items()}
    for p in sorted(people, key=lambda p: (p.ready_on, p.pid)):
        lst = by_country.get(p.country, [])
        i = bisect_left(days.get(p.country, []), p.ready_on)
        chosen = None
        while i < len(lst):
            day = lst[i].day
            same_day = []
            while i < len(lst) and lst[i].day == day:
                if seats[lst[i].fid] > 0:
                    same_day.append(lst[i])
                i += 1
            if same_day:
                chosen = min(same_day, key=lambda f: (f.hub != p.hub, f.fid))
                break
        if chosen is None:
            plan.unassigned[p.pid] = _no_seat(p)
        else:
            seats[chosen.fid] -= 1
            plan.assigned[p.pid] = chosen.fid
    plan.seconds = time.perf_counter() - started
    return _tally(plan, people, {f.fid: f for f in flights})


def plan_min_cost(people: list[Ready], flights: list[Flight]) -> Plan:
    """The exact plan: a min-cost flow over the time-expanded network (see module doc)."""
    from ortools.graph.python import min_cost_flow

    started = time.perf_counter()
    plan = Plan("min-cost flow")
    if not people:
        return plan
    groups: dict[tuple[str, str, date], list[Ready]] = defaultdict(list)
    for p in people:
        groups[(p.hub, p.country, p.ready_on)].append(p)
    chains: dict[tuple[str, str], set[date]] = defaultdict(set)  # (hub, country) -> days
    for f in flights:
        chains[(f.hub, f.country)].add(f.day)
    hubs_for: dict[str, list[str]] = defaultdict(list)
    for hub, country in chains:
        hubs_for[country].append(hub)
    # nodes: 0 = sink, then chain day nodes, then group nodes
    node_of: dict[tuple[str, str, date], int] = {}
    chain_days: dict[tuple[str, str], list[date]] = {}
    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    big = len(people) + 1
    nxt = 1
    for key, day_set in chains.items():
        ordered = sorted(day_set)
        chain_days[key] = ordered
        for d in ordered:
            node_of[(key[0], key[1], d)] = nxt
            nxt += 1
        for a, b in pairwise(ordered):  # wait for the next stop
            tails.append(node_of[(key[0], key[1], a)])
            heads.append(node_of[(key[0], key[1], b)])
            caps.append(big)
            costs.append((b - a).days)
    flight_arcs: list[tuple[int, Flight]] = []
    for f in flights:
        flight_arcs.append((len(tails), f))
        tails.append(node_of[(f.hub, f.country, f.day)])
        heads.append(0)
        caps.append(f.capacity)
        costs.append(0)
    entry_arcs: list[tuple[int, tuple[str, str, date], str]] = []
    supplies = [0] * nxt
    group_nodes: dict[tuple[str, str, date], int] = {}
    for gkey, members in groups.items():
        hub, country, ready = gkey
        g = nxt + len(group_nodes)
        group_nodes[gkey] = g
        supplies.append(len(members))
        for dep in hubs_for.get(country, []):
            ds = chain_days[(dep, country)]
            i = bisect_left(ds, ready)
            if i == len(ds):
                continue
            entry_arcs.append((len(tails), gkey, dep))
            tails.append(g)
            heads.append(node_of[(dep, country, ds[i])])
            caps.append(len(members))
            costs.append((ds[i] - ready).days + (TRANSFER_COST if dep != hub else 0))
        tails.append(g)  # nobody is lost: the expensive way out
        heads.append(0)
        caps.append(len(members))
        costs.append(UNASSIGNED_COST)
    supplies[0] = -len(people)
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.array(tails, dtype=np.int32),
        np.array(heads, dtype=np.int32),
        np.array(caps, dtype=np.int64),
        np.array(costs, dtype=np.int64),
    )
    smcf.set_nodes_supplies(
        np.arange(len(supplies), dtype=np.int32), np.array(supplies, dtype=np.int64)
    )
    status = smcf.solve()
    if status != smcf.OPTIMAL:  # pragma: no cover - the network is always feasible
        raise RuntimeError(f"min-cost flow did not solve: status {status}")
    flows = smcf.flows(np.arange(len(tails), dtype=np.int32))
    # people entering each chain, by entry day; flights leaving it, by day: FIFO match
    entering: dict[tuple[str, str], list[tuple[date, Ready]]] = defaultdict(list)
    cursor = {k: 0 for k in groups}
    for arc, gkey, dep in entry_arcs:
        n = int(flows[arc])
        if n:
            members = groups[gkey]
            chosen = members[cursor[gkey] : cursor[gkey] + n]
            cursor[gkey] += n
            entry = chain_days[(dep, gkey[1])][bisect_left(chain_days[(dep, gkey[1])], gkey[2])]
            entering[(dep, gkey[1])].extend((entry, p) for p in chosen)
    leaving: dict[tuple[str, str], list[Flight]] = defaultdict(list)
    for arc, f in flight_arcs:
        leaving[(f.hub, f.country)].extend([f] * int(flows[arc]))
    for key, queue in entering.items():
        queue.sort(key=lambda t: (t[0], t[1].ready_on, t[1].pid))
        seats = sorted(leaving[key], key=lambda f: (f.day, f.fid))
        for (_, p), f in zip(queue, seats, strict=True):
            plan.assigned[p.pid] = f.fid
    for gkey, members in groups.items():
        for p in members[cursor[gkey] :]:
            plan.unassigned[p.pid] = _no_seat(p)
    plan.seconds = time.perf_counter() - started
    return _tally(plan, people, {f.fid: f for f in flights})
