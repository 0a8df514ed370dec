"""`habeas resolve | explain | export | eval | review`: the person index from the terminal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from habeas.cli.access import AsUser, Purpose, context, refusals
from habeas.errors import HabeasError

if TYPE_CHECKING:  # the resolver pulls in Splink: load it only for resolution commands
    from habeas.resolve.evaluate import Scores
    from habeas.resolve.explain import Explanation
    from habeas.resolve.person import PersonView
    from habeas.resolve.run import Resolution
    from habeas.store.staging import StagingStore

review_app = typer.Typer(
    help="Human review of uncertain links: queue, decisions, unmerge.", no_args_is_help=True
)
export_app = typer.Typer(help="Export the index.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure the index against a ground truth.", no_args_is_help=True)


def register(
    app: typer.Typer,
    open_store: Callable[[], StagingStore],
    operational_url: Callable[[], str],
    out: Console,
    err: Console,
) -> None:
    """Attach the resolution commands to ``app``; ``open_store`` opens the staging store."""
    _open = open_store

    app.add_typer(review_app, name="review")
    app.add_typer(export_app, name="export")
    app.add_typer(eval_app, name="eval")

    @app.command("resolve")
    def resolve_cmd(
        incremental: Annotated[
            bool, typer.Option("--incremental", help="Link only records new since the last run.")
        ] = False,
        engine: Annotated[str, typer.Option(help="duckdb (default) or spark.")] = "duckdb",
        reuse_model: Annotated[
            bool, typer.Option("--reuse-model", help="Score with the last trained model.")
        ] = False,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Resolve staged records into persons (train, score, cluster) and write the index
        (an integration engineer, purpose identity_resolution; audited)."""
        from habeas.governance.pipeline_access import resolve_as

        if engine not in ("duckdb", "spark"):
            raise HabeasError(f"--engine must be duckdb or spark, not {engine!r}")
        if incremental and engine != "duckdb":
            raise HabeasError("--incremental runs on the duckdb engine")
        store_engine, ctx = _context(as_user, purpose)
        with _open() as st, refusals(err):
            result = resolve_as(
                store_engine, st, ctx, datetime.now(), incremental=incremental,
                resolver=engine, reuse_model=reuse_model, progress=lambda s: err.print(f"… {s}"),
            )  # fmt: skip
        resolution(out, result)

    def _context(as_user: str | None, purpose: str | None, client: str = "") -> tuple[Any, Any]:
        return context(operational_url(), as_user, purpose, client)

    @app.command("explain")
    def explain_cmd(
        left: Annotated[str, typer.Argument(help="A record id.")],
        right: Annotated[str, typer.Argument(help="Another record id.")],
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Why two records were linked or not: each comparison's weight, the prior, the total."""
        from habeas.governance.record_access import require_sources
        from habeas.resolve.explain import explain_pair

        engine, ctx = _context(as_user, purpose)
        with _open() as st:
            needed = {r[0] for r in st.rows(
                "SELECT source FROM records WHERE record_id IN (?, ?)", [left, right])}  # fmt: skip
            with refusals(err):
                require_sources(engine, st, ctx, "explain_pair", needed,
                                [f"record:{left}", f"record:{right}"])  # fmt: skip
            explanation(out, explain_pair(st, left, right))

    @app.command("person")
    def person_cmd(
        person_id: Annotated[str, typer.Argument(help="A person id.")],
        as_user: AsUser = None,
        purpose: Purpose = None,
        client: Annotated[str, typer.Option(help="Counsel: the person you represent.")] = "",
    ) -> None:
        """One person: records (those the purpose allows), links, flags, decisions. Audited."""
        from habeas.governance.person_access import read_person

        engine, ctx = _context(as_user, purpose, client)
        with _open() as st, refusals(err):
            got = read_person(engine, st, ctx, person_id)
        person(out, got.view)
        if got.withheld:
            out.print(
                f"{got.withheld} record(s) withheld: their sources do not declare purpose "
                f"{ctx.purpose}"
            )

    @export_app.command("clusters")
    def export_clusters_cmd(
        path: Annotated[Path, typer.Argument(help="Output file, .csv or .parquet.")],
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Write source, source key, record id and person id of the records the purpose allows."""
        from habeas.governance.record_access import allowed_source_list
        from habeas.resolve.export import export_clusters

        engine, ctx = _context(as_user, purpose)
        with _open() as st:
            with refusals(err):
                sources = allowed_source_list(engine, st, ctx, "export_clusters", str(path))
            n = export_clusters(st, path, sources)
        out.print(f"wrote {n:,} records to {path}")

    @eval_app.command("resolve")
    def eval_resolve_cmd(
        truth: Annotated[Path, typer.Option(help="Truth file (.csv/.parquet): record → person.")],
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Pairwise and B-cubed precision/recall/F1, exact recovery and blocking recall."""
        from habeas.governance.pipeline_access import evaluate_as

        engine, ctx = _context(as_user, purpose)
        with _open() as st, refusals(err):
            ev = evaluate_as(engine, st, ctx, truth)
        scores(out, ev.scores, ev.blocking_recall)
        if ev.unmatched_truth_records:
            out.print(
                f"({ev.unmatched_truth_records:,} of {ev.truth_records:,} truth records are not "
                "in the index: quarantined or not ingested)"
            )

    @review_app.command("queue")
    def review_queue_cmd(
        limit: Annotated[int, typer.Option(min=1, help="Pairs to show.")] = 20,
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Pairs the model is unsure about, across two persons, most uncertain first."""
        from habeas.governance.record_access import allowed_source_list
        from habeas.resolve.review import queue

        engine, ctx = _context(as_user, purpose)
        with _open() as st:
            with refusals(err):
                sources = allowed_source_list(engine, st, ctx, "review_queue", "review_queue")
            total, rows = queue(st.con, limit, sources)
        review_queue(out, total, rows)

    def _review_access(
        st: StagingStore, engine: Any, ctx: Any, action: str, record_ids: list[str]
    ) -> str:
        """Authorize and audit a review action on these records; the account's name."""
        from habeas.governance.record_access import require_sources

        needed = {r[0] for r in st.rows(
            "SELECT DISTINCT source FROM records WHERE record_id IN (SELECT unnest(?))",
            [record_ids])}  # fmt: skip
        with refusals(err):
            require_sources(engine, st, ctx, action, needed,
                            [f"record:{r}" for r in record_ids], "review_link")  # fmt: skip
        return str(ctx.user)

    @review_app.command("decide")
    def review_decide_cmd(
        left: Annotated[str, typer.Argument(help="A record id.")],
        right: Annotated[str, typer.Argument(help="Another record id.")],
        decision: Annotated[str, typer.Argument(help="same, different or unsure.")],
        reason: Annotated[str, typer.Option(help="Why, in words a court can read.")],
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Record a decision on a pair; it overrides the model in every later run."""
        from habeas.resolve.review import decide

        engine, ctx = _context(as_user, purpose)  # who and why, before any record is read
        with _open() as st:
            reviewer = _review_access(st, engine, ctx, "review_decide", [left, right])
            rec = decide(st.con, left, right, decision, reviewer, reason, datetime.now())
        for w in rec.warnings:
            err.print(f"[yellow]warning:[/] {w}")
        out.print(f"decision {rec.decision_id} recorded; it applies from the next resolve run")

    @review_app.command("unmerge")
    def review_unmerge_cmd(
        person: Annotated[str, typer.Argument(help="The person id.")],
        records: Annotated[list[str], typer.Argument(help="Record ids to split off.")],
        reason: Annotated[str, typer.Option(help="Why.")],
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Split records off a person; they stay apart in every later run until undone."""
        from habeas.resolve.review import unmerge

        engine, ctx = _context(as_user, purpose)
        with _open() as st:
            members = [r[0] for r in st.rows(
                "SELECT record_id FROM person_records WHERE person_id = ?", [person])]  # fmt: skip
            reviewer = _review_access(st, engine, ctx, "review_unmerge", members or records)
            rec = unmerge(st.con, person, records, reviewer, reason, datetime.now())
        out.print(f"unmerge recorded as decision {rec.decision_id}; run `habeas resolve` to apply")

    @review_app.command("undo")
    def review_undo_cmd(
        decision_id: Annotated[int, typer.Argument(help="The unmerge's decision id.")],
        reason: Annotated[str, typer.Option(help="Why.")],
        as_user: AsUser = None,
        purpose: Purpose = None,
    ) -> None:
        """Withdraw an unmerge (recorded as a decision of its own)."""
        from habeas.resolve.review import undo_unmerge

        engine, ctx = _context(as_user, purpose)
        with _open() as st:
            sides = st.rows(
                """SELECT coalesce(side_a, []) || coalesce(side_b, []) FROM review_decisions
                   WHERE decision_id = ?""",
                [decision_id],
            )
            involved = list(sides[0][0]) if sides else []
            reviewer = _review_access(st, engine, ctx, "review_undo", involved)
            rec = undo_unmerge(st.con, decision_id, reviewer, reason, datetime.now())
        out.print(f"unmerge {decision_id} undone by decision {rec.decision_id}")


def resolution(out: Console, r: Resolution) -> None:
    """Print what a resolution run did."""
    flags = ", ".join(f"{k} {v:,}" for k, v in sorted(r.flags.items())) or "none"
    out.print(
        f"[bold]resolve[/] ({r.mode}, {r.engine}) {r.records:,} records"
        + (f" ({r.new_records:,} new)" if r.mode == "incremental" else "")
        + f" → {r.persons:,} persons in {r.seconds:.1f} s"
    )
    out.print(f"  pairs scored {r.pairs_scored:,}; records linked {r.links:,}")
    out.print(f"  flags raised: {flags}")
    out.print(f"  review queue: {r.review_queue:,} pairs (`habeas review queue`)")


def explanation(out: Console, e: Explanation) -> None:
    """Print the waterfall of one pair."""
    table = Table(title=f"{e.left} ⇄ {e.right}", show_lines=False)
    for col in ("comparison", "level reached", "values (left | right)", "weight", "running"):
        table.add_column(col, justify="right" if col in ("weight", "running") else "left")
    running = e.prior_weight
    table.add_row(
        "prior", "two records picked at random", "", f"{e.prior_weight:+.2f}", f"{running:+.2f}"
    )
    for s in e.steps:
        running += s.weight
        table.add_row(s.comparison, s.level, s.values, f"{s.weight:+.2f}", f"{running:+.2f}")
        if s.tf_adjustment:
            running += s.tf_adjustment
            table.add_row(
                "",
                "  term frequency (how common)",
                "",
                f"{s.tf_adjustment:+.2f}",
                f"{running:+.2f}",
            )
    out.print(table)
    verdict = "linked" if e.match_probability >= e.threshold else "not linked by the model"
    out.print(
        f"total match weight {e.match_weight:+.2f} = probability {e.match_probability:.4f} "
        f"(threshold {e.threshold}): {verdict}"
    )
    same = e.person_left is not None and e.person_left == e.person_right
    out.print(
        f"in the index: {e.person_left} and {e.person_right}"
        + (" (the same person)" if same else " (different persons)")
    )
    if e.decision:
        out.print(f"reviewer's decision in force: {e.decision}")


def person(out: Console, view: PersonView) -> None:
    """Print one person's records, links, flags and decisions."""
    table = Table(title=f"person {view.person_id}: {len(view.records)} records")
    for col in ("record", "source", "name", "dob", "identifiers", "linked via", "p", "how"):
        table.add_column(col)
    for r in view.records:
        ids = ", ".join(f"{k} {r[k]}" for k in ("a_number", "ssn", "passport_number") if r.get(k))
        p = r["match_probability"]
        table.add_row(
            r["record_id"], f"{r['source']}:{r['source_key']}", r["name"] or r["full_name"] or "",
            str(r["dob"] or ""), ids, r["linked_via"] or "", f"{p:.3f}" if p is not None else "",
            r["how"],
        )  # fmt: skip
    out.print(table)
    for f in view.flags:
        out.print(
            f"[bold]flag {f['flag']}[/] ({f['status']}): {f['detail']} — records "
            + ", ".join(f["record_ids"])
        )
    for d in view.decisions:
        undone = f" (undone by {d['undone_by']})" if d["undone_by"] else ""
        out.print(
            f"decision {d['decision_id']} {d['kind']} {d['decision']} by {d['reviewer']} "
            f"on {d['decided_at']:%Y-%m-%d}: {d['reason']}{undone}"
        )


def scores(out: Console, s: Scores, blocking_recall: float | None = None) -> None:
    """Print cluster quality figures."""
    out.print(
        f"records {s.records:,}; persons predicted {s.predicted_clusters:,}, "
        f"true {s.true_clusters:,}"
    )
    out.print(
        f"pairwise  precision {s.pair_precision:.4f}  recall {s.pair_recall:.4f}  "
        f"F1 {s.pair_f1:.4f}"
    )
    out.print(
        f"B-cubed   precision {s.bcubed_precision:.4f}  recall {s.bcubed_recall:.4f}  "
        f"F1 {s.bcubed_f1:.4f}"
    )
    out.print(f"people recovered exactly {s.exact_share:.4f}")
    if blocking_recall is not None:
        out.print(f"blocking recall (true pairs ever compared) {blocking_recall:.4f}")


def review_queue(out: Console, total: int, rows: list[dict[str, object]]) -> None:
    """Print the head of the review queue."""
    out.print(f"{total:,} pairs await review")
    table = Table()
    for col in ("left", "right", "names", "dates of birth", "probability"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            f"{r['record_id_l']} ({r['source_l']})",
            f"{r['record_id_r']} ({r['source_r']})",
            f"{r['name_l']} | {r['name_r']}",
            f"{r['dob_l']} | {r['dob_r']}",
            f"{r['match_probability']:.3f}",
        )
    out.print(table)
