"""The demo as the terminal shows it: ``habeas.demo.run`` reports each stage as it ends,
and this prints it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from habeas import demo
from habeas.cli import cases_cmds, render, resolve_cmds

if TYPE_CHECKING:
    from habeas.app.core import Habeas
    from habeas.app.pipeline import Published
    from habeas.governance.audit import Verification
    from habeas.pipeline import IntakeReport
    from habeas.resolve.quality import Evaluation
    from habeas.synth.world import WorldSummary


class Printed:
    """The demo's stages, printed."""

    def __init__(self, out: Console, err: Console, bar: Progress) -> None:
        self.out, self.err, self.bar = out, err, bar
        self.gen = bar.add_task("synthetic world", total=13, note="")
        self.ingest: Any = None

    def tick(self, step: str, n: int) -> None:
        """A step of the world's generation."""
        self.bar.update(self.gen, advance=1, note=f"{step}: {n:,}")

    def note(self, name: str, stage: str) -> None:
        """A source registered or ingested."""
        if self.ingest is None:
            self.ingest = self.bar.add_task("register and ingest", total=None, note="")
        self.bar.update(self.ingest, advance=1, note=f"{name}: {stage}")

    def say(self, line: str) -> None:
        """A line of progress."""
        self.err.print(f"… {line}")

    def world(self, summary: WorldSummary, seconds: float) -> None:
        """The synthetic world."""
        self._world = (summary, seconds)

    def intake(self, report: IntakeReport, seconds: float) -> None:
        """Registration and ingest (printed with the world, once the bars are done)."""
        self.bar.stop()
        render.world(self.out, *self._world)
        render.intake(self.out, report, seconds)

    def resolved(self, published: Published, evaluation: Evaluation) -> None:
        """Resolution, publication and scores."""
        resolve_cmds.resolution(self.out, published.resolution)
        self.out.print(
            f"  published {published.published_records:,} records into the operational store"
        )
        self.out.print("[bold]against the world's truth[/]")
        resolve_cmds.scores(self.out, evaluation.scores, evaluation.blocking_recall)

    def access(self, lines: list[str], review_queue: int) -> None:
        """Reads allowed and refused."""
        self.out.print("[bold]purpose-bound access (operational store)[/]")
        for line in lines:
            self.out.print(f"  {escape(line)}", highlight=False)
        self.out.print(f"  review queue: {review_queue:,} pairs await an engineer's decision")

    def cases(self, t: dict[str, Any], seconds: float) -> None:
        """The lifecycle walk."""
        out = self.out
        o, p = t["opened"], t["priorities"]
        out.print(
            f"[bold]cases[/] {o.opened:,} opened from court records and warrants, "
            f"{o.steps:,} steps recorded ({seconds:.1f} s)"
        )
        for kind, n in sorted(o.refused.items()):
            out.print(f"  {n:,} stopped by a gate at {kind}")
        out.print(
            f"  {o.to_review:,} court records sent to review for contradictory dates "
            "(not seeded: a history nobody could believe)"
        )
        for line in o.review_examples:
            out.print(f"    {escape(line)}", highlight=False)
        tiers = ", ".join(f"tier {k}: {n:,}" for k, n in sorted(p.by_tier.items()))
        out.print(f"[bold]priorities[/] {p.policy_version}: {p.scored:,} scored ({tiers})")
        cases_cmds.case_table(out, [c.model_dump() for c in t["top"].cases])
        out.print("[bold]gates refusing, with their reasons[/]")
        for line in t["refusals"]:
            out.print(f"  {escape(line)}", highlight=False)
        ready = sum("ready for removal" in c for c in t["carried"])
        out.print(
            f"[bold]carried to removal[/] {ready} of {len(t['carried'])} final-order "
            "cases, each step by its role (request, approve, assign, arrest, custody, "
            "papers)"
        )
        for line in t["carried"]:
            if "ready for removal" not in line:
                out.print(f"  {escape(line)}", highlight=False)
        if t["resolved"]:
            out.print(f"  {t['resolved']}")
        out.print(
            f"[bold]deadlines passed[/] {t['settled']:,} alternate orders of removal took "
            "effect (voluntary departure deadline passed with no verified departure, "
            "8 CFR 1240.26(d)), each recorded citing its deadline"
        )
        kinds = Counter((r.kind, r.status) for r in t["tasks"])
        out.print(
            "[bold]deadlines[/] "
            + (", ".join(f"{k} {st}: {n:,}" for (k, st), n in sorted(kinds.items())) or "none")
        )
        cases_cmds.transport(out, t["transport"])
        out.print(
            f"  {t['booking'].booked} booked on manifests (the removal gate checked again for each)"
        )
        if t["tamper"] is not None:
            what, v = t["tamper"]
            found = v.history_problem or v.first_break or "nothing (a bug: report it)"
            verdict = "OK" if v.ok else "FAILED"
            out.print(
                f"[bold]tamper check[/] {escape(what)}: audit verify on the copy "
                f"{verdict}: {escape(str(found))}",
                highlight=False,
            )

    def field(self, lines: list[str]) -> None:
        """The field offices, the planner's cases and a routed day."""
        for i, line in enumerate(lines):
            self.out.print(("[bold]field[/] " if i == 0 else "  ") + escape(line), highlight=False)

    def monitor(self, lines: list[str]) -> None:
        """The departure feeds, the stream played and what it did."""
        for i, line in enumerate(lines):
            self.out.print(
                ("[bold]monitor[/] " if i == 0 else "  ") + escape(line), highlight=False
            )

    def packets(self, lines: list[str]) -> None:
        """The evidence packet produced for counsel."""
        for i, line in enumerate(lines):
            self.out.print(("[bold]packet[/] " if i == 0 else "  ") + escape(line), highlight=False)

    def verified(self, v: Verification) -> None:
        """The chain, recomputed."""
        if v.ok:
            self.out.print(
                f"audit verify OK: {v.entries:,} entries, head {v.head[:16]}…; "
                f"{v.case_events:,} case events, each the one the log recorded"
            )
        else:
            self.out.print(f"audit verify FAILED: {v.first_break or v.history_problem}")


def run_demo(
    app: Habeas,
    people: int,
    seed: int,
    out: Console,
    err: Console,
    progress: Callable[[], Progress],
) -> int:
    """Run the demo on ``app``; the exit code (4 when the audit chain does not verify)."""

    with progress() as bar:
        ok = demo.run(app, people, seed, Printed(out, err, bar))
    if not ok:
        return 4
    out.print("[bold]try next[/] (the demo's accounts act from this terminal with --as):")
    for line in demo.NEXT_STEPS:
        out.print("  " + escape(line.format(d=app.settings.data_dir)), highlight=False)
    return 0
