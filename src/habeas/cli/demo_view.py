"""The demo as the terminal shows it: each stage of ``habeas.demo`` and its figures."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from habeas.cli import cases_cmds, render, resolve_cmds

if TYPE_CHECKING:
    from habeas.app.core import Habeas


def run_demo(
    app: Habeas,
    people: int,
    seed: int,
    out: Console,
    err: Console,
    progress: Callable[[], Progress],
) -> int:
    """Run the demo on ``app``; the exit code (4 when the audit chain does not verify)."""
    from habeas import demo
    from habeas.synth.world import generate_world

    started = time.perf_counter()
    accounts = demo.demo_accounts(app)
    engineer = demo.as_(app, "demo_engineer")
    world_dir = app.settings.data_dir / "world"
    with progress() as bar:
        task = bar.add_task("synthetic world", total=13, note="")

        def tick(step: str, n: int) -> None:
            bar.update(task, advance=1, note=f"{step}: {n:,}")

        summary = generate_world(world_dir, people, seed, progress=tick)
        generated = time.perf_counter() - started
        task2 = bar.add_task("register and ingest", total=len(summary.declarations), note="")

        def note(name: str, stage: str) -> None:
            bar.update(task2, advance=1, note=f"{name}: {stage}")

        report = app.pipeline.intake(
            engineer, "identity_resolution", world_dir, date.today(), on_source=note
        )
    render.world(out, summary, generated)
    render.intake(out, report, time.perf_counter() - started)
    published = app.pipeline.resolve(
        engineer, "identity_resolution", progress=lambda s: err.print(f"… resolve: {s}")
    )
    resolve_cmds.resolution(out, published.resolution)
    out.print(f"  published {published.published_records:,} records into the operational store")
    ev = app.pipeline.evaluate(engineer, "identity_resolution", world_dir / "truth.parquet")
    out.print("[bold]against the world's truth[/]")
    resolve_cmds.scores(out, ev.scores, ev.blocking_recall)
    hits = app.index.review_queue(engineer, "identity_resolution", limit=1)
    persons = demo.two_persons(app)
    tour = demo.Tour()
    demo.access_walk(app, persons, tour)
    out.print("[bold]purpose-bound access (operational store)[/]")
    for line in accounts + tour.sections.get("purpose-bound access", []):
        out.print(f"  {escape(line)}", highlight=False)
    out.print(f"  review queue: {hits.total:,} pairs await an engineer's decision")
    _case_tour(app, out, err)
    v, _ = app.audit.verify()
    if not v.ok:
        out.print(f"audit verify FAILED: {v.first_break}")
        return 4
    out.print(f"audit verify OK: {v.entries:,} entries, head {v.head[:16]}…")
    out.print("[bold]try next[/] (the demo's accounts act from this terminal with --as):")
    for line in demo.NEXT_STEPS:
        out.print("  " + escape(line.format(d=app.settings.data_dir)), highlight=False)
    return 0


def _case_tour(app: Habeas, out: Console, err: Console) -> None:
    """The demo's lifecycle part: cases from court records, priorities, gates, transport."""
    from habeas import demo

    started = time.perf_counter()
    t = demo.case_walk(app, date.today(), demo.Tour(), note=lambda s: err.print(f"… cases: {s}"))
    o, p = t["opened"], t["priorities"]
    out.print(
        f"[bold]cases[/] {o.opened:,} opened from court records and warrants, "
        f"{o.steps:,} steps recorded ({time.perf_counter() - started:.1f} s)"
    )
    for kind, n in sorted(o.refused.items()):
        out.print(f"  {n:,} stopped by a gate at {kind}")
    tiers = ", ".join(f"tier {k}: {n:,}" for k, n in sorted(p.by_tier.items()))
    out.print(f"[bold]priorities[/] {p.policy_version}: {p.scored:,} scored ({tiers})")
    cases_cmds.case_table(out, [c.model_dump() for c in t["top"].cases])
    out.print("[bold]gates refusing, with their reasons[/]")
    for line in t["refusals"]:
        out.print(f"  {escape(line)}", highlight=False)
    ready = sum("ready for removal" in c for c in t["carried"])
    out.print(
        f"[bold]carried to removal[/] {ready} of {len(t['carried'])} final-order cases, "
        "each step by its role (request, approve, assign, arrest, custody, papers)"
    )
    for line in t["carried"]:
        if "ready for removal" not in line:
            out.print(f"  {escape(line)}", highlight=False)
    if t["resolved"]:
        out.print(f"  {t['resolved']}")
    kinds = Counter((r.kind, r.status) for r in t["tasks"])
    out.print(
        "[bold]deadlines[/] "
        + (", ".join(f"{k} {st}: {n:,}" for (k, st), n in sorted(kinds.items())) or "none")
    )
    cases_cmds.transport(out, t["transport"])
    out.print(
        f"  {t['booking'].booked} booked on manifests (the removal gate checked again for each)"
    )
