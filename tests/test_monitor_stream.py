"""Departure events through a real NATS JetStream server and a watched folder: the
consumer killed with SIGKILL mid-stream and started again loses nothing and does nothing
twice; a stream subject naming no declared feed is quarantined; a file is read, its
events committed, and it is moved; read again, it does nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from monitorkit import approved, exit_event, monitor_app, now, subjects
from servers.nats import scratch_nats
from sqlalchemy import func, select

from habeas.store.models import Case, CaseEvent, EventQuarantine, InboxEvent
from habeas.synth.events import plan_stream
from habeas.synth.world import WORLD_DATE


@pytest.fixture(scope="module")
def nats_url() -> Iterator[str]:
    with scratch_nats() as url:
        yield url


def counts(app: Any) -> tuple[int, int]:
    with app.reader() as s:
        inbox = s.execute(select(func.count()).select_from(InboxEvent)).scalar_one()
        quarantined = s.execute(select(func.count()).select_from(EventQuarantine)).scalar_one()
    return inbox, quarantined


def consumer(data: Path, url: str) -> subprocess.Popen[bytes]:
    """The consumer, its output in the data folder (a pipe nobody reads would stop it)."""
    log = (data / "consumer.log").open("ab")
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
            "feed1",
        ],
        stdout=log,
        stderr=log,
    )


def log_of(data: Path) -> str:
    path = data / "consumer.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def wait_for(what: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_a_consumer_killed_mid_stream_loses_nothing_and_doubles_nothing(
    resolved: Path, world: Any, tmp_path: Path, nats_url: str
) -> None:
    from habeas.monitor.stream import publish

    data = tmp_path / "data"
    app = monitor_app(resolved, world.out, data)
    people = subjects(app, world.out)
    cased = {approved(app, s): s for s in people[:4]}
    stream = plan_stream(1500, 11, 400, now() - timedelta(minutes=10), 1, WORLD_DATE)
    items = [
        (e.feed, json.dumps(e.body).encode(), f"{e.feed}:{e.event_id}:{i}")
        for i, e in enumerate(stream)
    ]
    for k, s in enumerate(cased.values()):  # their exits, twice each, in the middle
        body = json.dumps(exit_event(s, f"AX-KILL-{k}")).encode()
        items[150 + k : 150 + k] = [("airline_exits", body, f"kill-{k}-a")]
        items.append(("airline_exits", body, f"kill-{k}-b"))
    items.append(("no_such_feed", b'{"x": 1}', "stray-1"))
    items.append(("airline_exits", b"not json at all", "stray-2"))
    asyncio.run(publish(nats_url, items))
    expected = {
        (f, json.loads(b).get(_id(f))) for f, b, _ in items if _json(b) and f != "no_such_feed"
    }
    first = consumer(data, nats_url)
    try:
        assert wait_for(lambda: counts(app)[0] >= 60, 90), log_of(data)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    mid = counts(app)[0]
    assert mid < len(expected)  # killed before the end
    second = consumer(data, nats_url)
    try:
        done = wait_for(lambda: sum(counts(app)) >= len(expected) + 2, 180)
        assert done, (counts(app), len(expected), log_of(data))
        time.sleep(1.0)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    with app.reader() as s:
        rows = s.execute(select(InboxEvent.source, InboxEvent.event_id)).all()
        quarantined = s.execute(select(EventQuarantine)).scalars().all()
        for case_id in cased:
            case = s.get(Case, case_id)
            assert case is not None and case.state == "departure_verified"
            verified = s.execute(
                select(func.count()).where(
                    CaseEvent.case_id == case_id, CaseEvent.kind == "verify_departure"
                )
            ).scalar_one()
            assert verified == 1
    ids = {(r.source, r.event_id) for r in rows}
    assert len(ids) == len(rows)  # the inbox's key: never twice
    kept = ids | {(q.source, q.event_id) for q in quarantined if q.event_id}
    lost = {x for x in expected if x[1] is not None} - kept
    assert not lost, sorted(lost)[:5]
    assert any(q.rule == "undeclared-feed" and q.source == "no_such_feed" for q in quarantined)
    assert any(q.rule == "structure" for q in quarantined)
    assert "consumed" in log_of(data), log_of(data)
    app.close()


def _json(b: bytes) -> bool:
    try:
        return isinstance(json.loads(b), dict)
    except ValueError:
        return False


def _id(feed: str) -> str:
    return {
        "airline_exits": "event_id",
        "land_border_crossings": "crossing_id",
        "departure_app_reports": "report_id",
        "removal_verifications": "notice_id",
    }.get(feed, "event_id")


def test_a_watched_folder_commits_a_file_then_moves_it(
    resolved: Path, world: Any, tmp_path: Path
) -> None:
    from habeas.cli.main import execute

    data = tmp_path / "data"
    app = monitor_app(resolved, world.out, data)
    s = subjects(app, world.out)[0]
    case_id = approved(app, s)
    folder = tmp_path / "inbox"
    (folder / "airline_exits").mkdir(parents=True)
    (folder / "nobody_declared").mkdir()
    lines = [
        json.dumps(exit_event(s, "AX-FOLD-1")),
        "{broken",
        json.dumps(exit_event(s, "AX-FOLD-2")),
    ]
    path = folder / "airline_exits" / "batch-1.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # a file its writer touched a moment ago is left for the next look
    code = execute(
        [
            "--data-dir",
            str(data),
            "monitor",
            "watch",
            str(folder),
            "--once",
            "--settle",
            "30",
            "--as",
            "feed1",
        ]
    )
    assert code == 0 and path.exists()
    with app.reader() as ses:
        assert ses.get(Case, case_id).state != "departure_verified"  # type: ignore[union-attr]
    settled = time.time() - 60
    os.utime(path, (settled, settled))
    code = execute(
        ["--data-dir", str(data), "monitor", "watch", str(folder), "--once", "--as", "feed1"]
    )
    assert code == 0
    assert not path.exists() and (folder / "airline_exits" / "done" / "batch-1.jsonl").exists()
    with app.reader() as ses:
        case = ses.get(Case, case_id)
        assert case is not None and case.state == "departure_verified"
        q = ses.execute(select(EventQuarantine)).scalars().all()
        assert [(x.via, x.position, x.rule) for x in q] == [("folder", 2, "structure")]
    # the same file again (a crash before the move): repeats, nothing done twice
    os.replace(folder / "airline_exits" / "done" / "batch-1.jsonl", path)
    os.utime(path, (settled, settled))
    assert (
        execute(
            ["--data-dir", str(data), "monitor", "watch", str(folder), "--once", "--as", "feed1"]
        )
        == 0
    )
    with app.reader() as ses:
        n = ses.execute(
            select(func.count()).where(
                CaseEvent.case_id == case_id, CaseEvent.kind == "verify_departure"
            )
        ).scalar_one()
        assert n == 1
        assert ses.execute(select(func.count()).select_from(EventQuarantine)).scalar_one() == 2
    app.close()


def test_a_consumer_on_an_idle_stream_keeps_waiting(nats_url: str) -> None:
    """No event for a while is not an error: the consumer waits, reports an empty
    backlog, and stops only when told to."""
    from habeas.monitor.stream import Consumed, consume

    reports: list[Consumed] = []

    async def run() -> Consumed:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.call_later(2.0, stop.set)
        return await consume(
            nats_url, lambda *_: None, lambda *_: None, stop, reports.append, idle=0.1
        )

    done = asyncio.run(run())
    assert len(reports) >= 3 and done.backlog == 0  # it looked, again and again, and lived
