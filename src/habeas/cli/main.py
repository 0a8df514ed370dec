"""`habeas` command line: each command parses, makes one call on the application, prints.

Exit codes: 0 done, 2 a problem in the input or the request (one line on stderr), 3 refused
(by policy, by law, or for want of an account), 4 the audit chain does not verify.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from habeas import demo as demo_setup
from habeas.app import Habeas
from habeas.cli import (
    audit_cmds,
    cases_cmds,
    dispute_cmds,
    field_cmds,
    monitor_cmds,
    packet_cmds,
    render,
    resolve_cmds,
)
from habeas.cli.access import AsUser, Json, Purpose, principal
from habeas.cli.context import Invocation, application, begin, err, out, quiet
from habeas.cli.demo_view import run_demo
from habeas.errors import HabeasError
from habeas.logs import configure
from habeas.server import create_api
from habeas.store.canonical import ROW_REFUSED, VALUE_SET_ASIDE
from habeas.store.operational import is_sqlite
from habeas.synth.profiles import PROFILES
from habeas.synth.world import generate_world

if TYPE_CHECKING:
    from habeas.app.core import Habeas

app = typer.Typer(
    help="habeas: immigration case work where every action shows its lawful basis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)
sources_app = typer.Typer(
    help="The source registry: legal basis, purposes, fields.", no_args_is_help=True
)
quarantine_app = typer.Typer(
    help="Rows refused at ingest, with their reasons.", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")
app.add_typer(quarantine_app, name="quarantine")

log = logging.getLogger("habeas.cli")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"habeas {version('habeas')}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (default ./habeas-data).")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="DuckDB worker threads (1-256).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors: no progress, no log lines.")
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Log stages (-v) or details (-vv).")
    ] = 0,
    log_file: Annotated[
        Path | None, typer.Option(help="Also log to this file (a long job's record).")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Global options."""

    if quiet and verbose:
        raise typer.BadParameter("choose --quiet or --verbose, not both", param_hint="--quiet")
    configure(-1 if quiet else verbose, log_file)
    run = ctx.ensure_object(Invocation)
    begin(run)
    run.close()
    run.quiet = quiet
    run.overrides = {}
    if data_dir is not None:
        run.overrides["data_dir"] = data_dir
    if threads is not None:
        run.overrides["threads"] = threads


for _area in (
    resolve_cmds,
    audit_cmds,
    cases_cmds,
    field_cmds,
    monitor_cmds,
    packet_cmds,
    dispute_cmds,
):
    app.registered_commands += _area.commands.registered_commands
    for _group, _name in _area.GROUPS:
        app.add_typer(_group, name=_name)


def _progress() -> Progress:
    """A progress bar on stderr (none with --quiet); each stage is logged as well."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet(),
    )


synth_app = typer.Typer(help="The synthetic world, and streams of events for it.")
app.add_typer(synth_app, name="synth")
synth_app.registered_commands += monitor_cmds.synth_commands.registered_commands


@synth_app.callback(invoke_without_command=True)
def synth(
    ctx: typer.Context,
    people: Annotated[int, typer.Option(min=1, max=5_000_000, help="How many people.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 1,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default DATA_DIR/world).")
    ] = None,
    profile: Annotated[
        str,
        typer.Option(
            help="Noise profile: standard, or messy (whole names in either order, partial "
            "dates, mixed identifier columns, OCR errors, households, twins, juniors)."
        ),
    ] = "standard",
) -> None:
    """Generate a synthetic world: one file and one declaration per source, and the truth
    (`habeas synth events`: a stream of departure events for it)."""
    if ctx.invoked_subcommand is not None:
        return

    if profile not in PROFILES:
        raise typer.BadParameter(
            f"{profile!r}: profiles are {', '.join(PROFILES)}", param_hint="--profile"
        )

    target = out_dir or application().settings.data_dir / "world"
    started = time.perf_counter()
    with _progress() as bar:
        task = bar.add_task("generating", total=13, note="")

        def tick(step: str, n: int) -> None:
            bar.update(task, advance=1, note=f"{step}: {n:,}")

        summary = generate_world(target, people, seed, progress=tick, profile=profile)
    render.world(out, summary, time.perf_counter() - started)


@sources_app.command("add")
def sources_add(
    files: Annotated[
        list[Path], typer.Argument(help="Declaration files (TOML) or directories of them.")
    ],
    as_user: AsUser = None,
    purpose: Purpose = "identity_resolution",
) -> None:
    """Register sources (an integration engineer); a refused one is recorded with the rules
    it breaks (exit 3)."""
    paths: list[Path] = []
    for f in files:
        if not f.exists():
            raise HabeasError(f"{f}: no such file or folder")
        paths.extend(sorted(f.glob("*.toml")) if f.is_dir() else [f])
    a = application()
    regs = a.pipeline.register(principal(a, as_user), purpose, paths, a.today())
    for reg in regs:
        render.registration(out, reg)
    if any(not r.accepted for r in regs):
        raise typer.Exit(code=3)


@sources_app.command("history")
def sources_history(
    name: Annotated[str, typer.Argument(help="Source name.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """Every version of a source's declaration: hash, registrant, dates, what it widened and
    who approved it."""
    a = application()
    rows = a.pipeline.source_history(principal(a, as_user), purpose, name)
    render.emit_json(out, rows) if as_json else render.source_history(out, rows)


def _decide(
    name: str, version: int, reason: str, as_user: str | None, purpose: str | None, approve: bool
) -> None:
    a = application()
    v = a.pipeline.decide_source(principal(a, as_user), purpose, name, version, approve, reason)
    out.print(f"{v.name} version {v.version}: {v.status} by {v.decided_by}")


Reason = Annotated[str, typer.Option(help="Why (kept in the registry and the audit log).")]


@sources_app.command("approve")
def sources_approve(
    name: Annotated[str, typer.Argument(help="Source name.")],
    version: Annotated[int, typer.Argument(min=1, max=1_000_000, help="The pending version.")],
    reason: Reason,
    as_user: AsUser = None,
    purpose: Purpose = "oversight",
) -> None:
    """Approve a pending version that widens a source (oversight; not its registrant)."""
    _decide(name, version, reason, as_user, purpose, approve=True)


@sources_app.command("reject")
def sources_reject(
    name: Annotated[str, typer.Argument(help="Source name.")],
    version: Annotated[int, typer.Argument(min=1, max=1_000_000, help="The pending version.")],
    reason: Reason,
    as_user: AsUser = None,
    purpose: Purpose = "oversight",
) -> None:
    """Reject a pending version (oversight); the version in force stays."""
    _decide(name, version, reason, as_user, purpose, approve=False)


@sources_app.command("retire")
def sources_retire(
    name: Annotated[str, typer.Argument(help="Source name.")],
    reason: Reason,
    as_user: AsUser = None,
    purpose: Purpose = "identity_resolution",
) -> None:
    """Retire a source (an integration engineer): nothing more is ingested from it."""
    a = application()
    version = a.pipeline.retire_source(principal(a, as_user), purpose, name, reason)
    out.print(f"{name} version {version} retired")


@sources_app.command("list")
def sources_list(as_user: AsUser = None, purpose: Purpose = None, as_json: Json = False) -> None:
    """The registry: each source's agency, legal authority, purposes and status."""
    a = application()
    rows = a.pipeline.list_sources(principal(a, as_user), purpose)
    render.emit_json(out, rows) if as_json else render.source_list(out, rows)


@sources_app.command("check")
def sources_check(
    on: Annotated[str | None, typer.Option(help="Check as of this date (YYYY-MM-DD).")] = None,
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """Re-apply the legal-basis rules to every source (agreements lapse); exit 3 if any fails."""
    a = application()
    today = parse_date(on) if on else a.today()
    results = a.pipeline.check(principal(a, as_user), purpose, today)
    render.emit_json(out, results) if as_json else render.source_check(out, results, today)
    if any(not r.ok for r in results):
        raise typer.Exit(code=3)


@app.command("ingest")
def ingest_cmd(
    source: Annotated[str, typer.Argument(help="Registered source name.")],
    path: Annotated[Path, typer.Argument(help="The file to ingest.")],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Validate and report what would be staged, refused and set aside, with each "
            "field's fill; keep nothing.",
        ),
    ] = False,
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Validate, minimize and stage one file; rejected rows go to quarantine, bad values of
    secondary fields are set aside (an integration engineer, purpose identity_resolution;
    audited)."""
    a = application()
    with _progress() as bar:
        task = bar.add_task(f"ingest {source}", total=1.0, note="")

        def step(stage: str, share: float) -> None:
            bar.update(task, completed=share, note=stage)

        result = a.pipeline.ingest(
            principal(a, as_user),
            purpose,
            source,
            path,
            a.today(),
            progress=step,
            dry_run=dry_run,
        )
    render.ingest_result(out, result)


@quarantine_app.command("list")
def quarantine_list(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Rows per page.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many rows.")] = 0,
    kept: Annotated[
        bool | None,
        typer.Option(
            "--kept/--refused",
            help="Only values set aside from records that were kept, or only rows refused.",
        ),
    ] = None,
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """Show quarantined rows and values set aside (raw values: purpose-bound and audited)."""

    a = application()
    disposition = None if kept is None else VALUE_SET_ASIDE if kept else ROW_REFUSED
    page = a.pipeline.quarantine(principal(a, as_user), purpose, source, limit, offset, disposition)
    render.emit_json(out, page) if as_json else render.quarantine(out, page.rows, page.total)


@quarantine_app.command("purge")
def quarantine_purge(
    on: Annotated[str | None, typer.Option(help="Purge as of this date (YYYY-MM-DD).")] = None,
    as_user: AsUser = None,
    purpose: Purpose = "identity_resolution",
) -> None:
    """Delete quarantine entries past their retention (an integration engineer; audited)."""
    a = application()
    purged = a.pipeline.purge_quarantine(
        principal(a, as_user), purpose, parse_date(on) if on else a.today()
    )
    for source, n in sorted(purged.items()):
        out.print(f"{source}: {n:,} entries purged")
    if not purged:
        out.print("nothing past its retention")


@app.command()
def demo(
    people: Annotated[int, typer.Option(min=100, help="People in the synthetic world.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """The main job on the embedded default: generate a world, register, ingest, resolve and
    publish the index, read it for different purposes, walk the case lifecycle; every step
    on personal data is audited, and the chain is verified at the end."""

    code = run_demo(application(), people, seed, out, err, _progress)
    if code:
        raise typer.Exit(code=code)


def _print_demo_accounts(a: Habeas, host: str, port: int) -> None:
    """New passwords for the demo's accounts (set by its admin, audited), printed once
    with the URL to sign in at."""

    admin = a.users.local(demo_setup.DEMO_ADMIN, demo_setup.ORIGIN)
    try:
        a.users.whoami(admin)
    except HabeasError:
        raise HabeasError(
            f"no demo accounts in {a.settings.data_dir}: run `habeas demo` first"
        ) from None
    out.print(
        f"[bold]sign in at http://{host}:{port}/[/] with the demo's accounts (new "
        "passwords, shown once):"
    )
    for name, role in demo_setup.DEMO_USERS:
        got = a.users.reset_password(admin, name)
        out.print(
            f"  {name:<16} {got.secret}  ({role}; purpose {demo_setup.DEMO_PURPOSE[name]})",
            highlight=False,
            soft_wrap=True,
        )
    out.print(
        "planner: demo_supervisor (field_operation) → /planner; the phone view: "
        "demo_field (field_operation) → /today; stop with Ctrl-C"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="Worker threads for requests (default HABEAS_SERVE_THREADS, 8)."
        ),
    ] = None,
    processes: Annotated[
        int, typer.Option(min=1, max=32, help="Server processes (PostgreSQL only).")
    ] = 1,
    demo_accounts: Annotated[
        bool,
        typer.Option(
            "--demo-accounts",
            help="Give the demo's accounts new passwords and print them with the URL "
            "(a store made by `habeas demo` only).",
        ),
    ] = False,
) -> None:
    """Serve the pages at / and the HTTP API (its OpenAPI at /openapi.json, docs at
    /docs)."""
    a = application()
    a.engine  # noqa: B018 - refuse a missing store before listening
    if demo_accounts:
        _print_demo_accounts(a, host, port)
    workers = workers or a.settings.serve_threads
    # X-Forwarded-For is believed only from the proxies the settings name (by default from
    # none: a client on this machine could otherwise name any address it likes)
    proxies = a.settings.forwarded_allow_ips.strip()
    if processes == 1:
        uvicorn.run(
            create_api(a, workers=workers),
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=bool(proxies),
            forwarded_allow_ips=proxies or None,
        )
        return
    if is_sqlite(a.settings.operational_url):
        raise HabeasError(
            "--processes needs PostgreSQL: SQLite has one writer at a time, and "
            "one process already serves it fully"
        )
    _serve_processes(a, host, port, workers, processes, proxies)


def _serve_processes(
    a: Habeas, host: str, port: int, workers: int, processes: int, proxies: str
) -> None:
    """``processes`` server processes, each building its application from the settings
    this one was given (passed as HABEAS_* variables)."""
    s = a.settings
    os.environ.update(
        {
            "HABEAS_DATA_DIR": str(s.data_dir),
            "HABEAS_THREADS": str(s.threads),
            "HABEAS_DATABASE_URL": s.operational_url,
            "HABEAS_SERVE_THREADS": str(workers),
            "HABEAS_FORWARDED_ALLOW_IPS": proxies,
        }
    )
    uvicorn.run(
        "habeas.server:from_environment",
        factory=True,
        workers=processes,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )


def parse_date(text: str) -> date:
    """A YYYY-MM-DD date from the command line."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HabeasError(f"not a date: {text!r} (expected YYYY-MM-DD)") from None


class Stopped(KeyboardInterrupt):
    """SIGTERM arrived: the running job stops (DuckDB interrupts its query)."""


def execute(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv``; returns the exit code (errors as one line on stderr).

    SIGTERM stops a long job within seconds: the query running is interrupted, its
    transaction rolled back, and the stores stay as they were before the job (exit 143).
    """
    import signal
    import threading

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    state = Invocation()

    def on_sigterm(signum: int, frame: object) -> None:
        state.stopped = True
        raise Stopped

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_sigterm)
    try:
        code = app(args=args, standalone_mode=False, obj=state)
        if state.stopped:  # Typer made the interrupt an exit code (130), returned as such
            err.print(STOPPED)
            return 143
    except HabeasError as exc:
        if debug:
            raise
        said = "refused" if exc.exit_code == 3 else "error"
        err.print(f"[bold red]{said}:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        if state.stopped:  # Typer turns the interrupt into exit 130
            err.print(STOPPED)
            return 143
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt) as exc:
        if state.stopped or isinstance(exc, Stopped):
            err.print(STOPPED)
            return 143
        err.print("[red]aborted[/]")
        return 130
    except Exception as exc:
        if state.stopped:  # a library wrapped the interrupted query in its own error
            err.print(STOPPED)
            return 143
        # usage errors (bad option values) come from click, vendored inside typer
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            return exit_code
        raise
    finally:
        state.close()
    return code if isinstance(code, int) else 0


STOPPED = (
    "[red]stopped[/] by SIGTERM: the running step was interrupted and rolled back; the "
    "stores are as they were before it (a resolution publishes nothing)"
)


def run() -> None:
    """Entry point."""
    sys.exit(execute())
