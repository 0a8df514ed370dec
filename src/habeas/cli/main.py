"""`habeas` command line: each command parses, calls one library function, prints."""

from __future__ import annotations

import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from habeas.cli import audit_cmds, cases_cmds, render, resolve_cmds
from habeas.cli.access import AsUser, Purpose, context, refusals
from habeas.errors import HabeasError
from habeas.settings import Settings
from habeas.store.staging import StagingStore

app = typer.Typer(
    help="habeas: immigration case work where every action shows its lawful basis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sources_app = typer.Typer(
    help="The source registry: legal basis, purposes, fields.", no_args_is_help=True
)
quarantine_app = typer.Typer(
    help="Rows refused at ingest, with their reasons.", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")
app.add_typer(quarantine_app, name="quarantine")

out = Console()
err = Console(stderr=True)


class State:
    """Per-invocation settings, built from options and HABEAS_* variables."""

    settings: Settings = Settings.model_construct()


state = State()


@app.callback()
def main(
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (default ./habeas-data).")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="DuckDB worker threads.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Global options."""
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if threads is not None:
        overrides["threads"] = threads
    state.settings = Settings(**overrides)  # type: ignore[arg-type]


def _store() -> StagingStore:
    s = state.settings
    return StagingStore(s.staging_path, threads=s.threads)


resolve_cmds.register(app, _store, lambda: state.settings.operational_url, out, err)
audit_cmds.register(
    app, lambda: state.settings.operational_url, lambda: state.settings.data_dir, out, err
)
audit_cmds.register_users(app, lambda: state.settings.operational_url, out)
cases_cmds.register(app, _store, lambda: state.settings.operational_url, out, err)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@app.command()
def synth(
    people: Annotated[int, typer.Option(min=1, max=5_000_000, help="How many people.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 1,
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path(
        "habeas-data/world"
    ),
) -> None:
    """Generate a synthetic world: one file and one declaration per source, and the truth."""
    from habeas.synth.world import generate_world

    started = time.perf_counter()
    with _progress() as bar:
        task = bar.add_task("generating", total=13, note="")

        def tick(step: str, n: int) -> None:
            bar.update(task, advance=1, note=f"{step}: {n:,}")

        summary = generate_world(out_dir, people, seed, progress=tick)
    render.world(out, summary, time.perf_counter() - started)


@sources_app.command("add")
def sources_add(
    files: Annotated[
        list[Path], typer.Argument(help="Declaration files (TOML) or directories of them.")
    ],
) -> None:
    """Register sources; a refused one is recorded with the rules it breaks."""
    from habeas.sources.registry import register

    paths: list[Path] = []
    for f in files:
        paths.extend(sorted(f.glob("*.toml")) if f.is_dir() else [f])
    refused = 0
    with _store() as store:
        for path in paths:
            reg = register(store, path, date.today())
            render.registration(out, reg)
            refused += not reg.accepted
    if refused:
        raise typer.Exit(code=3)


@sources_app.command("list")
def sources_list() -> None:
    """Show the registry: each source's agency, legal authority, purposes and status."""
    from habeas.sources.registry import list_sources

    with _store() as store:
        render.source_list(out, list_sources(store))


@sources_app.command("check")
def sources_check(
    on: Annotated[str | None, typer.Option(help="Check as of this date (YYYY-MM-DD).")] = None,
) -> None:
    """Re-apply the legal-basis rules to every source (agreements lapse); exit 3 if any fails."""
    from habeas.sources.registry import check_sources

    today = _parse_date(on) if on else date.today()
    with _store() as store:
        results = check_sources(store, today)
    render.source_check(out, results, today)
    if any(results.values()):
        raise typer.Exit(code=3)


@app.command("ingest")
def ingest_cmd(
    source: Annotated[str, typer.Argument(help="Registered source name.")],
    path: Annotated[Path, typer.Argument(help="The file to ingest.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Validate, minimize and stage one file; rejected rows go to quarantine (an integration
    engineer, purpose identity_resolution; audited)."""
    from habeas.governance.pipeline_access import ingest_as

    engine, ctx = context(state.settings.operational_url, as_user, purpose)
    with _store() as store, _progress() as bar, refusals(err):
        task = bar.add_task(f"ingest {source}", total=1.0, note="")

        def step(stage: str, share: float) -> None:
            bar.update(task, completed=share, note=stage)

        result = ingest_as(engine, store, ctx, source, path, date.today(), progress=step)
    render.ingest_result(out, result)


@quarantine_app.command("list")
def quarantine_list(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many rows.")] = 50,
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Show quarantined rows (raw values: purpose-bound and audited)."""
    from habeas.governance.record_access import allowed_source_list
    from habeas.sources.quarantine import quarantined

    engine, ctx = context(state.settings.operational_url, as_user, purpose)
    with _store() as store:
        with refusals(err):
            sources = allowed_source_list(engine, store, ctx, "quarantine_list", "quarantine")
        rows, total = quarantined(store, source, limit, sources)
    render.quarantine(out, rows, total)


@app.command()
def demo(
    people: Annotated[int, typer.Option(min=100, help="People in the synthetic world.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """The main job on the embedded default: generate a world, register, ingest, resolve,
    then walk through purpose-bound access; every step on personal data is audited."""
    from habeas.governance.pipeline_access import evaluate_as, ingest_as, resolve_as
    from habeas.governance.walkthrough import DEMO_ENGINEER, demo_accounts, walk
    from habeas.pipeline import intake_directory
    from habeas.store.operational import make_engine
    from habeas.synth.world import generate_world

    started = time.perf_counter()
    engine = make_engine(state.settings.operational_url)
    accounts = demo_accounts(engine)
    world_dir = state.settings.data_dir / "world"
    with _progress() as bar:
        task = bar.add_task("synthetic world", total=13, note="")

        def tick(step: str, n: int) -> None:
            bar.update(task, advance=1, note=f"{step}: {n:,}")

        summary = generate_world(world_dir, people, seed, progress=tick)
        generated = time.perf_counter() - started
        task2 = bar.add_task("register and ingest", total=len(summary.declarations), note="")

        def note(name: str, stage: str) -> None:
            bar.update(task2, advance=1, note=f"{name}: {stage}")

        with _store() as store:
            report = intake_directory(
                store, world_dir, date.today(), on_source=note,
                ingest_one=lambda name, path: ingest_as(
                    engine, store, DEMO_ENGINEER, name, path, date.today()
                ),
            )  # fmt: skip
    render.world(out, summary, generated)
    render.intake(out, report, time.perf_counter() - started)
    with _store() as store:
        result = resolve_as(
            engine, store, DEMO_ENGINEER, datetime.now(),
            progress=lambda s: err.print(f"… resolve: {s}"),
        )  # fmt: skip
        resolve_cmds.resolution(out, result)
        ev = evaluate_as(engine, store, DEMO_ENGINEER, world_dir / "truth.parquet")
    out.print("[bold]against the world's truth[/]")
    resolve_cmds.scores(out, ev.scores, ev.blocking_recall)
    with _store() as store:
        persons = [
            r[0] for r in store.rows("SELECT person_id FROM persons ORDER BY person_id LIMIT 2")
        ]
    tour = walk(engine, persons)
    out.print("[bold]purpose-bound access (operational store)[/]")
    for step in accounts + tour.steps:
        out.print(f"  {step}")
    _case_tour(engine)
    from habeas.governance import audit

    v = audit.verify(engine)
    if v.ok:
        out.print(f"audit verify OK: {v.entries:,} entries, head {v.head[:16]}…")
    else:
        out.print(f"audit verify FAILED: {v.first_break}")
        raise typer.Exit(code=4)


def _case_tour(engine: Any) -> None:
    """The demo's lifecycle part: cases from court records, priorities, gates, transport."""
    from collections import Counter

    from habeas.cases.walkthrough import walk_cases

    started = time.perf_counter()
    with _store() as store:
        t = walk_cases(engine, store, date.today(), note=lambda s: err.print(f"… cases: {s}"))
    o, p = t.opened, t.priorities
    out.print(f"[bold]cases[/] {o.opened:,} opened from court records and warrants, "
              f"{o.steps:,} steps recorded ({time.perf_counter() - started:.1f} s)")  # fmt: skip
    for kind, n in sorted(o.refused.items()):
        out.print(f"  {n:,} stopped by a gate at {kind}")
    tiers = ", ".join(f"tier {k}: {n:,}" for k, n in sorted(p.by_tier.items()))
    out.print(f"[bold]priorities[/] {p.policy_version}: {p.scored:,} scored ({tiers})")
    cases_cmds.case_table(out, t.top)
    out.print("[bold]gates refusing, with their reasons[/]")
    for line in t.refusals:
        out.print(f"  {escape(line)}", highlight=False)
    ready = sum("ready for removal" in c for c in t.carried)
    out.print(f"[bold]carried to removal[/] {ready} of {len(t.carried)} final-order cases, each "
              "step by its role (request, approve, assign, arrest, custody, papers)")  # fmt: skip
    if t.resolved_flag:
        out.print(f"  {t.resolved_flag}")
    kinds = Counter((r["kind"], r["status"]) for r in t.tasks)
    out.print("[bold]deadlines[/] " + (", ".join(f"{k} {st}: {n:,}"
                                                 for (k, st), n in sorted(kinds.items()))
                                       or "none"))  # fmt: skip
    if t.transport is not None:
        cases_cmds.transport(out, t.transport)
        out.print(f"  {t.booked} booked on manifests (the removal gate checked again for each)")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HabeasError(f"not a date: {text!r} (expected YYYY-MM-DD)") from None


def run() -> None:
    """Entry point: user errors as one line on stderr (exit 2); --debug shows tracebacks."""
    debug = "--debug" in sys.argv
    try:
        code = app(standalone_mode=False)
    except HabeasError as exc:
        if debug:
            raise
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("[red]aborted[/]")
        sys.exit(130)
    except Exception as exc:
        # usage errors (bad option values) come from click, vendored inside typer
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
