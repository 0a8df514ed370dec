"""Departures in near real time: a synthetic stream at a steady rate, through HTTP on
SQLite and through NATS JetStream on PostgreSQL, each with its consumer killed (SIGKILL)
half-way and started again.

Figures: latency from an event's arrival to its committed effect (p50, p99; target p99
<= 250 ms), throughput, and — counted against the generator's ledger — events lost and
effects applied twice (both targets 0); then the same events matched in one batch, and
the matching's quality (right person, sent to review, wrong: target 0). Bounded in count
and time; loopback only.

    .venv/bin/python bench/departures.py [--people 20000] [--rate 200] [--seconds 300]
        [--skip-sqlite] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api import _free_port, _habeas
from api import serve as serve_api

TICK = 0.25
"""Seconds between a feed's sends (it sends what arrived meanwhile, as a carrier sends a
flight's manifest or a border post its last minutes)."""


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def prepare(data: Path, people: int, env: dict[str, str]) -> str:
    """The demo's world (index, cases, field offices, the four feeds, demo_feed) and a
    token for demo_feed."""
    _habeas(data, "demo", "--people", str(people), env=env)
    out = _habeas(data, "tokens", "create", "demo_feed", "--as", "demo_admin", env=env)
    return out.strip().splitlines()[-1]


def plan(people: int, n: int, rate: float) -> list[Any]:
    """The stream, its events happening from now at ``rate`` a second."""
    from habeas.synth.events import plan_stream
    from habeas.synth.world import WORLD_DATE

    start = datetime.now(UTC).replace(tzinfo=None)
    return plan_stream(people, 1, n, start, rate, WORLD_DATE, stream_seed=7, tag="B")


# -- HTTP -----------------------------------------------------------------------------------


def serve(data: Path, env: dict[str, str], port: int, extra: tuple[str, ...]) -> Any:
    """`habeas serve` on loopback (bench/api.py's), its log in the data folder."""
    return serve_api(data, env, port, extra, log=data / "serve.log")


async def send_http(
    port: int, token: str, stream: list[Any], rate: float, restart: Any
) -> dict[str, Any]:
    """Offer the stream at ``rate``: every tick each feed posts what arrived; a batch
    that gets no answer (the server was killed) is sent again until it is answered."""
    headers = {"Authorization": f"Bearer {token}", "X-Habeas-Purpose": "identity_resolution"}
    lat: list[float] = []
    refused: list[str] = []
    retried = 0
    answered = 0
    started = time.perf_counter()
    killed_at = len(stream) // 2
    killed = False
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        sent = 0
        pending: list[asyncio.Task[None]] = []

        async def post(feed: str, batch: list[Any]) -> None:
            nonlocal retried, answered
            t0 = time.perf_counter()
            while True:
                try:
                    r = await client.post(f"/events/{feed}", json=batch, headers=headers)
                    if r.status_code == 200:
                        break
                    refused.append(f"{r.status_code}: {r.text[:300]}")
                    if r.status_code < 500:
                        return
                except httpx.HTTPError:
                    pass
                retried += 1
                await asyncio.sleep(0.2)
            done = time.perf_counter()
            answered += len(batch)
            # from the moment the events reached the server's door to the answer, which
            # comes once every effect of the batch is committed
            lat.extend([done - t0] * len(batch))

        while sent < len(stream):
            now = time.perf_counter() - started
            due_n = min(len(stream), int(now * rate) + 1)
            groups: dict[str, list[Any]] = {}
            for e in stream[sent:due_n]:
                groups.setdefault(e.feed, []).append(e)
            for feed, evs in groups.items():
                for k in range(0, len(evs), 100):  # a feed sends at most 100 at once
                    part = [e.body for e in evs[k : k + 100]]
                    pending.append(asyncio.create_task(post(feed, part)))
            sent = due_n
            if restart is not None and not killed and sent >= killed_at:
                killed = True
                await asyncio.to_thread(restart)
            await asyncio.sleep(TICK)
        await asyncio.gather(*pending)
    return {
        "latency": lat,
        "seconds": time.perf_counter() - started,
        "retried": retried,
        "answered": answered,
        "refused": refused,
    }


def bench_sqlite(args: argparse.Namespace, tmp: Path) -> None:
    env = {**os.environ}
    env.pop("HABEAS_DATABASE_URL", None)
    data = tmp / "sqlite"
    t0 = time.perf_counter()
    token = prepare(data, args.people, env)
    print(
        f"SQLite: demo world of {args.people:,} people prepared in {time.perf_counter() - t0:.0f} s"
    )
    n = int(args.rate * args.seconds)
    stream = plan(args.people, n, args.rate)
    port = _free_port()
    box: dict[str, Any] = {"server": serve(data, env, port, ("--workers", str(args.workers)))}
    down: list[float] = []

    def restart() -> None:
        t = time.perf_counter()
        box["server"].send_signal(signal.SIGKILL)
        box["server"].wait()
        box["server"] = serve(data, env, port, ("--workers", str(args.workers)))
        down.append(time.perf_counter() - t)  # until it answers, behind the feeds' resends

    try:
        run = asyncio.run(
            send_http(port, token, stream, args.rate, restart if args.kill_http else None)
        )
    finally:
        box["server"].terminate()
        box["server"].wait(timeout=30)
    lat = run["latency"]
    print(
        f"SQLite/HTTP: {n:,} events offered at {args.rate:.0f}/s for {args.seconds:.0f} s; "
        f"all answered in {run['seconds']:.1f} s = {run['answered'] / run['seconds']:.0f}/s"
    )
    print(
        f"  latency, arrival to committed effect: p50 {_pct(lat, 0.5) * 1000:.0f} ms, "
        f"p99 {_pct(lat, 0.99) * 1000:.0f} ms (target p99 <= 250 ms)"
    )
    if down:
        print(
            f"  server killed (SIGKILL) half-way, answering again in {down[0]:.1f} s; "
            f"{run['retried']:,} batch sends retried"
        )
    if run["refused"]:
        print(f"  {len(run['refused'])} answers other than 200, the first: {run['refused'][0]}")
    ledger_check("SQLite", data, None, stream, args)


# -- NATS -----------------------------------------------------------------------------------


def consumer(data: Path, url: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "habeas",
            "--data-dir",
            str(data),
            "monitor",
            "consume",
            "--nats",
            url,
            "--as",
            "demo_feed",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def publish_at(url: str, stream: list[Any], rate: float, at_half: Any) -> float:
    import nats

    from habeas.monitor.stream import SUBJECT_PREFIX, ensure_stream

    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_stream(js)
    started = time.perf_counter()
    sent = 0
    half = False
    while sent < len(stream):
        due = min(len(stream), int((time.perf_counter() - started) * rate) + 1)
        acks = [
            js.publish(
                SUBJECT_PREFIX + e.feed,
                json.dumps(e.body).encode(),
                headers={"Nats-Msg-Id": f"{e.feed}:{e.event_id}:{i}"},
            )
            for i, e in enumerate(stream[sent:due], start=sent)
        ]
        await asyncio.gather(*acks)
        sent = due
        if not half and sent >= len(stream) // 2:
            half = True
            await asyncio.to_thread(at_half)
        await asyncio.sleep(TICK)
    await nc.close()
    return time.perf_counter() - started


def bench_postgres(args: argparse.Namespace, tmp: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from servers.nats import scratch_nats
    from servers.postgres import scratch_postgres

    with scratch_postgres(fsync=True, synchronous_commit=False) as url, scratch_nats() as nats_url:
        env = {**os.environ, "HABEAS_DATABASE_URL": url}
        data = tmp / "pg"
        t0 = time.perf_counter()
        prepare(data, args.people, env)
        print(
            f"PostgreSQL: demo world of {args.people:,} people prepared in "
            f"{time.perf_counter() - t0:.0f} s"
        )
        n = int(args.rate * args.seconds)
        stream = plan(args.people, n, args.rate)
        box = {"c": consumer(data, nats_url, env)}
        time.sleep(4)  # the consumer's start (imports, model)
        down: list[float] = []

        def kill() -> None:
            t = time.perf_counter()
            box["c"].send_signal(signal.SIGKILL)
            box["c"].wait()
            box["c"] = consumer(data, nats_url, env)
            down.append(time.perf_counter() - t)

        took = asyncio.run(publish_at(nats_url, stream, args.rate, kill))
        app = _app(data, url)
        expected = len({(e.feed, e.event_id) for e in stream})
        deadline = time.monotonic() + max(120.0, args.seconds)
        while time.monotonic() < deadline and _kept(app) < expected:
            time.sleep(0.5)
        box["c"].send_signal(signal.SIGTERM)
        box["c"].wait(timeout=60)
        rows = _latencies(app)
        app.close()
        print(f"PostgreSQL/NATS: {n:,} events published at {args.rate:.0f}/s in {took:.1f} s")
        lat = rows["latency"]
        span = rows["span"]
        print(
            f"  committed {len(lat):,} in {span:.1f} s from the first publish = "
            f"{len(lat) / max(span, 1e-9):.0f}/s"
        )
        print(
            f"  latency, stored in the stream to committed effect: p50 "
            f"{_pct(lat, 0.5) * 1000:.0f} ms, p99 {_pct(lat, 0.99) * 1000:.0f} ms "
            "(target p99 <= 250 ms)"
        )
        calm = rows["after_restart"]
        if calm:
            print(
                f"  of which the events published after the restart settled: p50 "
                f"{_pct(calm, 0.5) * 1000:.0f} ms, p99 {_pct(calm, 0.99) * 1000:.0f} ms"
            )
        print(
            f"  consumer killed (SIGKILL) half-way and started again ({down[0]:.1f} s); "
            "unacknowledged messages redelivered"
        )
        ledger_check("PostgreSQL", data, url, stream, args)


# -- counting -------------------------------------------------------------------------------


def _app(data: Path, url: str | None) -> Any:
    from habeas.app import Habeas
    from habeas.settings import Settings

    return Habeas(Settings(data_dir=data, database_url=url))


def _kept(app: Any) -> int:
    from sqlalchemy import text

    with app.reader() as s:
        inbox = s.execute(text("SELECT count(*) FROM monitor_inbox")).scalar()
        quarantined = s.execute(
            text(
                "SELECT count(DISTINCT source || ':' || coalesce(event_id, '#' || id)) "
                "FROM monitor_quarantine"
            )
        ).scalar()
    return int(inbox or 0) + int(quarantined or 0)


def _latencies(app: Any) -> dict[str, Any]:
    from sqlalchemy import text

    with app.reader() as s:
        rows = s.execute(
            text(
                "SELECT received_at, committed_at FROM monitor_inbox "
                "WHERE via = 'nats' ORDER BY received_at"
            )
        ).all()

    def ts(v: Any) -> datetime:
        return v if isinstance(v, datetime) else datetime.fromisoformat(str(v))

    lat = [(ts(c) - ts(r)).total_seconds() for r, c in rows]
    span = (
        (max(ts(c) for _, c in rows) - min(ts(r) for r, _ in rows)).total_seconds() if rows else 0
    )
    half = len(rows) // 2
    tail = lat[half + len(rows) // 10 :]  # published after the restart had caught up
    return {"latency": lat, "span": span, "after_restart": tail}


def ledger_check(
    label: str, data: Path, url: str | None, stream: list[Any], args: argparse.Namespace
) -> None:
    """Lost, doubled, and the matching's quality, against the ledger; then the same
    events matched in one batch."""
    import pyarrow.parquet as pq
    from sqlalchemy import text

    app = _app(data, url)
    planned = {(e.feed, e.event_id): e for e in stream if not e.repeat}
    with app.reader() as s:
        inbox = {
            (r.source, r.event_id): r
            for r in s.execute(
                text(
                    "SELECT source, event_id, status, person_id, record_id, kind FROM monitor_inbox"
                )
            )
        }
        quarantined = {
            (r.source, r.event_id)
            for r in s.execute(text("SELECT source, event_id FROM monitor_quarantine"))
        }
        nameless = s.execute(
            text("SELECT count(*) FROM monitor_quarantine WHERE event_id IS NULL")
        ).scalar()
        doubled = s.execute(
            text(
                """SELECT count(*) FROM (SELECT case_id, kind FROM case_events
               WHERE kind IN ('verify_departure', 'report_departure') GROUP BY case_id, kind
               HAVING count(*) > 1) d"""
            )
        ).scalar()
        audited = s.execute(
            text(
                """SELECT count(*) FROM (SELECT resources FROM audit_entries WHERE action =
               'monitor_event' GROUP BY resources HAVING count(*) > 1) d"""
            )
        ).scalar()
        records = dict(s.execute(text("SELECT record_id, person_id FROM index_records")).all())
    id_less = sum(
        1 for k, e in planned.items() if e.kind == "malformed" and k[1].startswith("(none")
    )
    lost = [
        k
        for k in planned
        if k not in inbox and k not in quarantined and not k[1].startswith("(none")
    ]
    lost_nameless = max(0, id_less - int(nameless or 0))
    print(
        f"{label}: ledger {len(planned):,} distinct events ({sum(e.repeat for e in stream):,} "
        f"repeats besides); inbox {len(inbox):,}, quarantined {len(quarantined):,}: lost "
        f"{len(lost) + lost_nameless}, effects applied twice {int(doubled or 0)}, events "
        f"audited twice {int(audited or 0)}"
    )
    truth = pq.read_table(data / "world" / "truth.parquet").to_pydict()
    true_of = dict(zip(truth["record_id"], truth["person_id"], strict=True))
    majority: dict[str, Counter[str]] = {}
    for rid, pid in records.items():
        t = true_of.get(rid)
        if t:
            majority.setdefault(pid, Counter())[t] += 1
    right = merged = review = wrong = strangers_linked = known = 0
    for key, e in planned.items():
        row = inbox.get(key)
        if row is None or e.kind == "malformed":
            continue
        linked = row.person_id is not None
        if e.person is None:
            strangers_linked += linked
            continue
        known += 1
        if not linked:
            review += row.status in ("review", "unmatched")
            continue
        held = majority.get(row.person_id, Counter())
        if e.person in held:
            right += 1
            merged += len(held) > 1  # the index holds two people as one: its error, not ours
        else:
            wrong += 1
    share = 100 / max(known, 1)
    print(
        f"  matching: {known:,} events of people in the world: right person "
        f"{right * share:.1f}%, "
        f"to review {review * share:.1f}%, wrong {wrong} (target 0); strangers linked to "
        f"someone {strangers_linked}; right but to an index person that merges two people "
        f"{merged}"
    )
    batch_matching(app, stream)
    app.close()


def batch_matching(app: Any, stream: list[Any]) -> None:
    """The same events checked and matched in one batch per feed, for comparison."""
    from datetime import date

    from habeas.monitor.intake import MAX_EVENTS, check_batch

    started = time.perf_counter()
    n = 0
    model = app.monitor.model()
    by: dict[str, list[Any]] = {}
    for e in stream:
        by.setdefault(e.feed, []).append(e.body)
    for feed, bodies in by.items():
        f = app.monitor.feeds.get(feed, date.today())
        for k in range(0, len(bodies), MAX_EVENTS):
            checked = check_batch(
                f, bodies[k : k + MAX_EVENTS], datetime.now(UTC).replace(tzinfo=None)
            )
            with app.reader() as s:
                app.monitor.matcher.score(s.connection(), model, feed, checked.checked)
            n += len(checked.checked)
    took = time.perf_counter() - started
    print(
        f"  the same matching in batches of {MAX_EVENTS:,} at the end: {n:,} events in "
        f"{took:.1f} s = {took / max(n, 1) * 1000:.1f} ms an event (no effects committed)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--people", type=int, default=20_000)
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--seconds", type=float, default=300.0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--skip-postgres", action="store_true")
    p.add_argument(
        "--kill-http",
        action="store_true",
        help="also SIGKILL the HTTP server half-way (the feeds resend)",
    )
    args = p.parse_args()
    if args.rate * args.seconds > 200_000 or args.seconds > 900:
        raise SystemExit("bounded: at most 200,000 events and 15 minutes")
    with tempfile.TemporaryDirectory(prefix="habeas-bench-departures-") as tmp:
        if not args.skip_sqlite:
            bench_sqlite(args, Path(tmp))
        if not args.skip_postgres:
            bench_postgres(args, Path(tmp))


if __name__ == "__main__":
    main()
