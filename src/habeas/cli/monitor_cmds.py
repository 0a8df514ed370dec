"""`habeas monitor`: departure feeds' events in (a file, a watched folder, a NATS
stream), the monitor's status and its review queue; `habeas synth events`: a synthetic
stream for the synthetic world."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from habeas.cli.access import AsUser, Json, Purpose, principal
from habeas.cli.context import application, err, out
from habeas.errors import HabeasError
from habeas.monitor.folder import watch_once
from habeas.monitor.stream import consume
from habeas.synth.declarations import to_toml
from habeas.synth.events import as_lines, feed_declarations, plan_stream
from habeas.synth.world import HEADER, WORLD_DATE

if TYPE_CHECKING:
    pass

monitor_app = typer.Typer(
    help="Departure feeds: events in, the monitor's status, reviews.", no_args_is_help=True
)
FEED_PURPOSE = "identity_resolution"
MAX_STREAM_LINE = 64 * 1024


def read_stream(path: Path) -> list[tuple[str, Any]]:
    """(feed, event) per line of a stream file (``{"source": …, "event": {…}}`` lines,
    as `habeas synth events` writes them); a line that is not names its number."""
    out: list[tuple[str, Any]] = []
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise HabeasError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        for n, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            if len(raw) > MAX_STREAM_LINE:
                raise HabeasError(f"{path}: line {n}: longer than {MAX_STREAM_LINE:,} bytes")
            try:
                item = json.loads(raw)
            except ValueError:
                raise HabeasError(f"{path}: line {n}: not JSON") from None
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("source"), str)
                or ("event" not in item)
            ):
                raise HabeasError(f'{path}: line {n}: want {{"source": "<feed>", "event": {{…}}}}')
            out.append((item["source"], item["event"]))
    return out


commands = typer.Typer()
"""This module's top-level commands (``habeas.cli.main`` adds them to its own)."""
synth_commands = typer.Typer()
"""Commands under ``habeas synth``."""
GROUPS: tuple[tuple[typer.Typer, str], ...] = ((monitor_app, "monitor"),)
"""This module's command groups and their names."""


@synth_commands.command("events")
def synth_events(
    rate: Annotated[float, typer.Option(min=0.1, max=10_000, help="Events a second.")] = 20,
    seconds: Annotated[float, typer.Option(min=1, max=86_400, help="How long.")] = 10,
    people: Annotated[int, typer.Option(min=100, help="The world's people.")] = 20_000,
    seed: Annotated[int, typer.Option(help="The world's seed.")] = 1,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Stream file (JSON lines); default: standard output."),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(help="Where to write who each event is truly about (never sent)."),
    ] = None,
    declarations: Annotated[
        Path | None, typer.Option(help="Write the four feeds' declarations (TOML) here.")
    ] = None,
) -> None:
    """A synthetic stream of departure events for a synthetic world: exits of people
    with and without cases, self-reports, consular notices, noise, repeats, events
    out of order, a few malformed ones and a few strangers."""

    n = int(rate * seconds)
    if n > 2_000_000:
        raise HabeasError(f"{n:,} events; a stream file holds 2,000,000 at most")
    start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(seconds=seconds)
    stream = plan_stream(people, seed, n, start, rate, WORLD_DATE)
    lines = "\n".join(as_lines(stream)) + "\n"
    if out_file is None:
        typer.echo(lines, nl=False)
    else:
        out_file.write_text(lines, encoding="utf-8")
    if ledger is not None:
        ledger.write_text(
            "\n".join(json.dumps(e.ledger()) for e in stream) + "\n", encoding="utf-8"
        )
    if declarations is not None:
        declarations.mkdir(parents=True, exist_ok=True)
        for name, decl in feed_declarations().items():
            (declarations / f"{name}.toml").write_text(to_toml(decl, HEADER), encoding="utf-8")
    if out_file is not None:
        err.print(
            f"{len(stream):,} events of {len({e.feed for e in stream})} feeds written to {out_file}"
        )


@monitor_app.command("post")
def post(
    path: Annotated[Path, typer.Argument(help="A stream file (`habeas synth events`).")],
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Events per call.")] = 50,
    as_user: AsUser = None,
) -> None:
    """Post a stream file's events, in order, as the feed's account would."""
    items = read_stream(path)
    a = application()
    tally = a.monitor.post_stream(principal(a, as_user), items, batch)
    out.print(
        f"{len(items):,} events: " + ", ".join(f"{k} {v:,}" for k, v in sorted(tally.items()))
    )


@monitor_app.command("watch")
def watch(
    folder: Annotated[Path, typer.Argument(help="The folder: one sub-folder per feed.")],
    once: Annotated[bool, typer.Option("--once", help="Read what waits, then stop.")] = False,
    every: Annotated[float, typer.Option(min=0.1, max=60, help="Seconds between looks.")] = 1.0,
    settle: Annotated[
        float,
        typer.Option(min=0, max=600, help="Seconds a file must be unchanged before it is read."),
    ] = 2.0,
    as_user: AsUser = None,
) -> None:
    """Watch a folder of feeds' event files (``FOLDER/<feed>/*.jsonl``): each file is
    read once it is settled (unchanged for --settle seconds; write ``x.jsonl.part``
    and rename it), its events committed, then moved to ``done/``."""

    a = application()
    who = principal(a, as_user)

    def receive(feed: str, events: list[Any], first: int) -> Any:
        return a.monitor.receive(who, FEED_PURPOSE, feed, events, via="folder", first=first)

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    while True:
        feeds = a.monitor.feeds.names(datetime.now().date())
        done = watch_once(folder, feeds, receive, settle)
        a.monitor.report_consumer(f"folder:{folder.name}", "folder", done.waiting, done.events)
        for why in done.refused:
            err.print(f"[yellow]left:[/] {escape(why)}", highlight=False)
        if done.files or once:
            out.print(
                f"{done.files} file(s), {done.events:,} events: {done.new:,} new, "
                f"{done.duplicates:,} repeats, {done.quarantined:,} quarantined"
            )
        if once or stopping:
            return
        time.sleep(every)


@monitor_app.command("consume")
def consume_cmd(
    url: Annotated[str, typer.Option("--nats", help="The NATS server.")] = "nats://127.0.0.1:4222",
    as_user: AsUser = None,
) -> None:
    """Consume the departures stream of a NATS JetStream server until stopped (SIGTERM,
    Ctrl-C); messages are acknowledged only after their effects commit."""

    a = application()
    who = principal(a, as_user)

    def receive(feed: str, events: list[Any], arrived: datetime) -> Any:
        return a.monitor.receive(who, FEED_PURPOSE, feed, events, via="nats", received_at=arrived)

    def refuse(feed: str, n: int, why: str) -> None:
        a.monitor.refuse_undeclared(who, FEED_PURPOSE, feed, n, why, "nats")

    last = [0.0]

    def report(done: Any) -> None:
        if time.monotonic() - last[0] > 2:
            last[0] = time.monotonic()
            a.monitor.report_consumer(
                "nats:" + url.rsplit("/", 1)[-1], "nats", done.backlog, done.messages
            )

    async def run() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await consume(url, receive, refuse, stop, report)

    done = asyncio.run(run())
    out.print(f"consumed {done.messages:,} message(s) in {done.batches:,} batch(es)")


@monitor_app.command("status")
def status(as_user: AsUser = None, purpose: Purpose = None, as_json: Json = False) -> None:
    """Throughput, latency, lag, backlog, effects by kind, pending reviews."""
    a = application()
    s = a.monitor.status(principal(a, as_user), purpose)
    if as_json:
        out.print_json(s.model_dump_json())
        return
    out.print(
        f"last {s.window_seconds} s: {s.events_in_window:,} events, "
        f"{s.throughput_per_second:,.1f}/s; latency p50 {s.latency_ms_p50} ms, "
        f"p99 {s.latency_ms_p99} ms; lag p50 {s.lag_seconds_p50} s; "
        f"backlog {s.backlog:,}"
    )
    out.print(
        "effects: " + (", ".join(f"{k} {v:,}" for k, v in sorted(s.effects.items())) or "none yet")
    )
    out.print(
        f"quarantined: {s.quarantined:,}; reviews pending: "
        + (", ".join(f"{k} {v:,}" for k, v in sorted(s.pending_reviews.items())) or "none")
    )


@monitor_app.command("reviews")
def reviews(as_user: AsUser = None, purpose: Purpose = None, as_json: Json = False) -> None:
    """The open review tasks events raised."""
    a = application()
    rows = a.monitor.reviews(principal(a, as_user), purpose)
    if as_json:
        out.print_json(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    for r in rows:
        out.print(
            f"{r.id}  {r.kind}  {r.source}:{r.event_id}  "
            f"person {r.person_id or '-'}  case {r.case_id or '-'}\n    "
            f"{escape(r.detail)}",
            highlight=False,
        )
    if not rows:
        out.print("no open reviews")


@monitor_app.command("decide")
def decide(
    review_id: Annotated[int, typer.Argument(help="The review task.")],
    decision: Annotated[str, typer.Argument(help="same, different or dismiss")],
    reason: Annotated[str, typer.Option(help="Why (kept with the decision).")],
    person: Annotated[str | None, typer.Option(help="The person it is (or is not).")] = None,
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Decide a review task: ``same`` applies the event's effect now, as your steps."""
    a = application()
    out.print(a.monitor.decide(principal(a, as_user), purpose, review_id, decision, reason, person))
