"""HTTP API under load: `habeas serve` on loopback, 100 clients, a read-heavy mix.

Each client sends a request every 0.5 s on average (Poisson arrivals: about 200 requests/s
offered) — person reads, person searches, case shows and 10% case steps (each naming the
version it read, so a concurrent step is a 409, never a lost write). The run is bounded in
requests and in time. Then the same mix with no pause gives the saturation throughput, and
the same calls made on the application directly, in the same run, give the HTTP overhead.
The whole is done on SQLite, then on a PostgreSQL server this script starts.

    .venv/bin/python bench/api.py [--people 3000] [--seconds 30] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

HERE = Path(__file__).resolve().parent
KINDS = ("person", "search", "case", "step")
MIX = (0.45, 0.20, 0.25, 0.10)


def serve(
    data: Path,
    env: dict[str, str],
    port: int,
    extra: tuple[str, ...] = (),
    log: Path | None = None,
) -> subprocess.Popen[str]:
    """`habeas serve` on loopback in a subprocess, once it answers (its OpenAPI). With
    ``log``, its output goes to that file (a long run would fill a pipe nobody reads)."""
    err: Any = log.open("a") if log is not None else subprocess.PIPE
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from habeas.cli.main import run; run()",
            "--data-dir",
            str(data),
            "serve",
            "--port",
            str(port),
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=err,
        text=True,
    )
    for _ in range(150):
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"habeas serve did not start: {proc.stderr.read() if proc.stderr else ''}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _habeas(data: Path, *args: str, env: dict[str, str]) -> str:
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from habeas.cli.main import run; run()",
            "--data-dir",
            str(data),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if run.returncode != 0:
        raise SystemExit(f"habeas {' '.join(args)} failed: {run.stderr}")
    return run.stdout


def prepare(data: Path, people: int, env: dict[str, str]) -> dict[str, Any]:
    """A demo world in ``data`` (accounts, index, cases); a token; the ids to ask for."""
    from sqlalchemy import select

    from habeas.app import Habeas
    from habeas.settings import Settings
    from habeas.store.models import Case, IndexRecord

    _habeas(data, "demo", "--people", str(people), env=env)
    out = _habeas(data, "tokens", "create", "demo_officer", "--as", "demo_admin", env=env)
    token = out.strip().splitlines()[-1]
    app = Habeas(Settings(data_dir=data, database_url=env.get("HABEAS_DATABASE_URL")))
    with app.sessions() as s:
        persons = sorted(set(s.execute(select(IndexRecord.person_id)).scalars()))
        names = [n for n in s.execute(select(IndexRecord.name).limit(2000)).scalars() if n]
        cases = list(
            s.execute(
                select(Case.id).where(
                    Case.state.not_in(["closed", "removed", "departure_verified"])
                )
            ).scalars()
        )
    app.close()
    return {"token": token, "persons": persons, "names": names, "cases": cases}


class Mix:
    """Pick the next request kind and its arguments."""

    def __init__(self, ids: dict[str, Any], seed: int) -> None:
        self.ids = ids
        self.rng = random.Random(seed)
        self.ref = 0

    def next(self) -> tuple[str, Any]:
        """A request kind and its argument."""
        kind = self.rng.choices(KINDS, MIX)[0]
        if kind == "person":
            return kind, self.rng.choice(self.ids["persons"])
        if kind == "search":
            return kind, self.rng.choice(self.ids["names"])
        return kind, self.rng.choice(self.ids["cases"])


class Connection:
    """A lean HTTP/1.1 keep-alive client (the load generator shares the machine's two
    cores with the server, so it must cost little: httpx costs several times more)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.server_ms: list[float] = []
        self.reconnects = 0

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send one request; the status and the decoded JSON body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.fixed}"
            f"Content-Length: {len(data)}\r\n"
            + ("Content-Type: application/json\r\n" if data else "")
            + "\r\n"
        )
        self.writer.write(head.encode() + data)
        status_line = await self.reader.readline()
        if not status_line:  # the server closed an idle keep-alive connection: reconnect once
            self.reconnects += 1
            self.writer.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.write(head.encode() + data)
            status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "server-timing":
                self.server_ms.append(float(value.split("dur=")[1]))
        payload = await self.reader.readexactly(length) if length else b""
        return status, json.loads(payload) if payload else None

    def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()


async def _call(conn: Connection, kind: str, arg: Any, tag: str) -> tuple[int, Any]:
    if kind == "person":
        code, _ = await conn.request("GET", f"/persons/{arg}")
    elif kind == "search":
        code, _ = await conn.request("GET", "/persons?limit=10&name=" + quote(arg))
    elif kind == "case":
        code, _ = await conn.request("GET", f"/cases/{arg}")
    else:
        code, seen = await conn.request("GET", f"/cases/{arg}")
        if code != 200:
            return code, None
        step = {
            "kind": "add_instrument",
            "version": seen["case"]["version"],
            "on": date.today().isoformat(),
            "fields": {
                "instrument": "medical_clearance",
                "reference": tag,
                "authority": "bench clinic (synthetic)",
            },
        }
        code, _ = await conn.request("POST", f"/cases/{arg}/steps", step)
        return code, tag if code == 201 else None
    return code, None


async def load(
    port: int,
    token: str,
    ids: dict[str, Any],
    clients: int,
    seconds: float,
    max_requests: int,
    pause: float | None,
) -> dict[str, Any]:
    """Run ``clients`` clients for ``seconds`` (or ``max_requests``); ``pause`` is the mean
    time between a client's requests (None: no pause, to find saturation)."""
    headers = {"Authorization": f"Bearer {token}", "X-Habeas-Purpose": "case_review"}
    lat: dict[str, list[float]] = defaultdict(list)
    codes: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    written: list[str] = []
    server: list[float] = []
    sent = 0
    stop = time.monotonic() + seconds

    async def client(n: int) -> None:
        nonlocal sent
        mix = Mix(ids, n)
        conn = Connection("127.0.0.1", port, headers)
        try:
            if pause:
                await asyncio.sleep(mix.rng.expovariate(1 / pause))
            while time.monotonic() < stop and sent < max_requests:
                sent += 1
                kind, arg = mix.next()
                tag = f"BENCH-{n}-{sent}"
                t0 = time.perf_counter()
                code, wrote = await _call(conn, kind, arg, tag)
                lat[kind].append(time.perf_counter() - t0)
                codes[kind][code] += 1
                if wrote:
                    written.append(wrote)
                if pause:
                    await asyncio.sleep(mix.rng.expovariate(1 / pause))
        finally:
            server.extend(conn.server_ms)
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return {
        "lat": lat,
        "codes": codes,
        "written": written,
        "server": server,
        "seconds": time.perf_counter() - t0,
    }


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


def direct(data: Path, ids: dict[str, Any], n: int, url: str | None) -> dict[str, list[float]]:
    """The same calls on the application directly (no HTTP), one after another."""
    from habeas.app import Habeas
    from habeas.app.cases.schemas import StepRequest
    from habeas.errors import HabeasError
    from habeas.settings import Settings

    app = Habeas(Settings(data_dir=data, database_url=url))
    who = app.users.local("demo_officer", "bench")
    mix = Mix(ids, 999)
    lat: dict[str, list[float]] = defaultdict(list)
    for i in range(n):
        kind, arg = mix.next()
        t0 = time.perf_counter()
        try:
            if kind == "person":
                app.index.person(who, "case_review", arg)
            elif kind == "search":
                app.index.search(who, "case_review", name=arg, limit=10)
            elif kind == "case":
                app.cases.show(who, "case_review", arg, date.today())
            else:
                view = app.cases.show(who, "case_review", arg, date.today())
                app.cases.step(
                    who,
                    "case_review",
                    arg,
                    StepRequest(
                        kind="add_instrument",
                        on=date.today(),
                        version=view.case["version"],
                        fields={
                            "instrument": "medical_clearance",
                            "reference": f"DIRECT-{i}",
                            "authority": "bench clinic (synthetic)",
                        },
                    ),
                )
        except HabeasError:
            pass
        lat[kind].append(time.perf_counter() - t0)
    app.close()
    return lat


def count_written(data: Path, url: str | None, tags: list[str]) -> tuple[int, int]:
    """How many of the acknowledged writes are stored (lost), and how many twice."""
    from collections import Counter

    from sqlalchemy import select

    from habeas.app import Habeas
    from habeas.settings import Settings
    from habeas.store.models import Instrument

    app = Habeas(Settings(data_dir=data, database_url=url))
    with app.sessions() as s:
        refs = Counter(
            s.execute(
                select(Instrument.reference).where(Instrument.reference.like("BENCH-%"))
            ).scalars()
        )
    app.close()
    lost = sum(1 for t in tags if refs[t] == 0)
    doubled = sum(1 for t in tags if refs[t] > 1) + sum(1 for r in refs if r not in set(tags))
    return lost, doubled


def run_store(label: str, data: Path, env: dict[str, str], args: argparse.Namespace) -> None:
    """Prepare, serve, load, saturate, compare with direct calls; print the figures."""
    url = env.get("HABEAS_DATABASE_URL")
    t0 = time.perf_counter()
    ids = prepare(data, args.people, env)
    print(
        f"{label}: demo world of {args.people:,} people, {len(ids['persons']):,} persons, "
        f"{len(ids['cases']):,} open cases, prepared in {time.perf_counter() - t0:.0f} s"
    )
    port = _free_port()
    server = serve(data, env, port, ("--workers", str(args.workers)))
    try:
        offered = asyncio.run(
            load(port, ids["token"], ids, args.clients, args.seconds, args.max_requests, pause=0.5)
        )
        total = sum(len(v) for v in offered["lat"].values())
        print(
            f"{label}: offered load, {args.clients} clients x 1 request / 0.5 s (Poisson): "
            f"{total:,} requests in {offered['seconds']:.1f} s = "
            f"{total / offered['seconds']:.0f}/s"
        )
        for kind in KINDS:
            xs = offered["lat"][kind]
            target = 150 if kind == "step" else 50
            codes = dict(sorted(offered["codes"][kind].items()))
            print(
                f"  {kind:<7} n={len(xs):>6,}  p50 {_pct(xs, 0.5):6.1f} ms  p99 "
                f"{_pct(xs, 0.99):6.1f} ms  (target p99 <= {target} ms)  status {codes}"
            )
        srv = [x / 1000 for x in offered["server"]]
        print(
            f"  inside the server (Server-Timing, every request): p50 {_pct(srv, 0.5):.1f} ms,"
            f" p99 {_pct(srv, 0.99):.1f} ms"
        )
        lost, doubled = count_written(data, url, offered["written"])
        step_codes = offered["codes"]["step"]
        others = {c: n for c, n in step_codes.items() if c not in (201, 409)}
        print(
            f"  writes acknowledged {len(offered['written']):,}, lost {lost}, duplicated "
            f"{doubled}; conflicts {step_codes.get(409, 0):,} (all 409), other step answers "
            f"{others or 'none'}"
        )
        sat = asyncio.run(
            load(port, ids["token"], ids, args.clients, args.saturate, 10**9, pause=None)
        )
        n = sum(len(v) for v in sat["lat"].values())
        print(
            f"{label}: saturation, {args.clients} clients with no pause: {n:,} requests in "
            f"{sat['seconds']:.1f} s = {n / sat['seconds']:.0f}/s; p99 "
            + ", ".join(f"{k} {_pct(sat['lat'][k], 0.99):.0f} ms" for k in KINDS)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    lat = direct(data, ids, args.direct, url)
    print(f"{label}: the same calls on the app directly (one at a time, no HTTP):")
    for kind in KINDS:
        xs = lat[kind]
        http50 = _pct(offered["lat"][kind], 0.5)
        print(
            f"  {kind:<7} n={len(xs):>5,}  p50 {_pct(xs, 0.5):6.1f} ms  p99 {_pct(xs, 0.99):6.1f}"
            f" ms  HTTP p50 overhead {http50 - _pct(xs, 0.5):+.1f} ms"
        )


def main() -> None:
    """Run the benchmark on SQLite, then on PostgreSQL."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--people", type=int, default=3000)
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--saturate", type=float, default=15.0)
    p.add_argument("--max-requests", type=int, default=8000)
    p.add_argument("--direct", type=int, default=1000)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--processes", type=int, default=2, help="server processes on PostgreSQL")
    p.add_argument("--skip-postgres", action="store_true")
    p.add_argument("--skip-sqlite", action="store_true")
    args = p.parse_args()
    env = {**os.environ}
    env.pop("HABEAS_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="habeas-bench-api-") as tmp:
        if not args.skip_sqlite:
            run_store("SQLite", Path(tmp) / "sqlite", env, args)
        if not args.skip_postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from servers.postgres import scratch_postgres

            # fsync on; commits not waited for, as SQLite's WAL mode with synchronous=NORMAL
            with scratch_postgres(fsync=True, synchronous_commit=False) as url:
                run_store("PostgreSQL", Path(tmp) / "pg", {**env, "HABEAS_DATABASE_URL": url}, args)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
