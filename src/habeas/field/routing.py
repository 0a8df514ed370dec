"""A day's routes for field teams: OR-Tools' vehicle routing with time windows, each team
from its own start point within its shift, a stop time per address; stops that cannot be
reached in time are left out and named, never silently dropped. Beside it, the
nearest-neighbour tour a planner would draw by hand, as the baseline.

Travel is estimated from great-circle distance with a road factor and an average speed:
there is no road network offline, and the route says so.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

ROAD_FACTOR = 1.3
"""Road distance over great-circle distance (a common urban average)."""
SPEED_KMH = 40.0
MAX_STOPS = 500


@dataclass(frozen=True)
class Stop:
    """An address to visit: its window (minutes after midnight) and the minutes it takes;
    ``team`` pins it to one team's route (an assignment is for one team)."""

    key: str
    lat: float
    lon: float
    window: tuple[int, int] = (6 * 60, 20 * 60)
    service: int = 20
    team: str | None = None


@dataclass(frozen=True)
class Team:
    """A team's start point and shift (minutes after midnight)."""

    code: str
    lat: float
    lon: float
    start: int = 6 * 60
    end: int = 18 * 60


@dataclass(frozen=True)
class Leg:
    """A stop on a route: arrival (minutes after midnight) and distance from the last stop."""

    key: str
    arrive: int
    km: float


@dataclass(frozen=True)
class Plan:
    """Every team's route, what could not be fitted, totals and the solver's time."""

    routes: dict[str, list[Leg]]
    left_out: list[str]
    km: float
    seconds: float
    assumptions: str = (
        f"travel by great-circle distance × {ROAD_FACTOR} at {SPEED_KMH:.0f} km/h; "
        "no road network offline"
    )


class RouteError(ValueError):
    """A routing request that cannot be planned (too many stops, a stop without a team)."""


def _matrix(points: list[tuple[float, float]]) -> np.ndarray:
    """Road-distance estimates between all points, in metres (integers for the solver)."""
    lat = np.radians(np.array([p[0] for p in points]))
    lon = np.radians(np.array([p[1] for p in points]))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    km = 6371.0 * 2 * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    out: np.ndarray = np.rint(km * 1000 * ROAD_FACTOR).astype(np.int64)
    return out


def _minutes(metres: int | np.int64) -> int:
    return math.ceil(float(metres) / 1000 / SPEED_KMH * 60)


def plan(teams: list[Team], stops: list[Stop], seconds: float | None = None) -> Plan:
    """Routes for ``teams`` through ``stops``: each team leaves its start at the shift's
    beginning and is back by its end, arrives within each stop's window and stays its
    stop time. ``seconds`` bounds the search (default: 1 s plus 1 s per 25 stops, at
    most 25 s, so 500 stops are planned within 30 s)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    if not teams:
        raise RouteError("no team to route")
    if len(stops) > MAX_STOPS:
        raise RouteError(f"{len(stops)} stops: a plan covers at most {MAX_STOPS}")
    codes = [t.code for t in teams]
    for s in stops:
        if s.team is not None and s.team not in codes:
            raise RouteError(f"stop {s.key} is for team {s.team}, which is not being routed")
        if not s.window[0] <= s.window[1]:
            raise RouteError(f"stop {s.key}: its window ends before it begins")
    started = time.perf_counter()
    if not stops:
        return Plan({t.code: [] for t in teams}, [], 0.0, 0.0)
    n_t = len(teams)
    points = [(t.lat, t.lon) for t in teams] + [(s.lat, s.lon) for s in stops]
    dist = _matrix(points)
    manager = pywrapcp.RoutingIndexManager(len(points), n_t, list(range(n_t)), list(range(n_t)))
    routing = pywrapcp.RoutingModel(manager)
    service = [0] * n_t + [s.service for s in stops]
    travel = np.vectorize(_minutes)(dist) + np.array(service, dtype=np.int64)[:, None]
    dist_cb = routing.RegisterTransitMatrix(dist.tolist())
    time_cb = routing.RegisterTransitMatrix(travel.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    horizon = 24 * 60
    routing.AddDimension(time_cb, 180, horizon, False, "time")
    dim = routing.GetDimensionOrDie("time")
    for v, t in enumerate(teams):
        dim.CumulVar(routing.Start(v)).SetRange(t.start, t.start)
        dim.CumulVar(routing.End(v)).SetRange(t.start, t.end)
    penalty = int(dist.max()) * 10 + 1_000_000
    for i, s in enumerate(stops, start=n_t):
        index = manager.NodeToIndex(i)
        dim.CumulVar(index).SetRange(s.window[0], s.window[1])
        if s.team is not None:
            routing.SetAllowedVehiclesForIndex([codes.index(s.team)], index)
        routing.AddDisjunction([index], penalty)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    limit = seconds if seconds is not None else min(25.0, 1.0 + len(stops) / 25)
    params.time_limit.FromMilliseconds(int(limit * 1000))
    solution = routing.SolveWithParameters(params)
    routes: dict[str, list[Leg]] = {t.code: [] for t in teams}
    visited: set[int] = set()
    km = 0.0
    if solution is not None:
        for v, t in enumerate(teams):
            index = routing.Start(v)
            prev = manager.IndexToNode(index)
            index = solution.Value(routing.NextVar(index))
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                leg_km = float(dist[prev][node]) / 1000
                km += leg_km
                routes[t.code].append(
                    Leg(
                        stops[node - n_t].key, solution.Value(dim.CumulVar(index)), round(leg_km, 2)
                    )
                )
                visited.add(node)
                prev = node
                index = solution.Value(routing.NextVar(index))
            km += float(dist[prev][v]) / 1000
    left = [s.key for i, s in enumerate(stops, start=n_t) if i not in visited]
    return Plan(routes, left, round(km, 2), round(time.perf_counter() - started, 3))


def nearest_neighbour_km(team: Team, stops: list[Stop]) -> float:
    """The length of the tour that always drives to the closest unvisited stop and back
    to the start (no windows, no shift): the baseline a route is compared with."""
    if not stops:
        return 0.0
    points = [(team.lat, team.lon)] + [(s.lat, s.lon) for s in stops]
    dist = _matrix(points)
    left = set(range(1, len(points)))
    at, total = 0, 0
    while left:
        nxt = min(left, key=lambda j: dist[at][j])
        total += int(dist[at][nxt])
        left.discard(nxt)
        at = nxt
    total += int(dist[at][0])
    return round(total / 1000, 2)
