"""`habeas resolve | explain | export | eval | review`: the person index from the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from habeas.app.choices import EngineName
from habeas.cli.access import AsUser, Json, Purpose, acting
from habeas.cli.context import err, out, quiet
from habeas.cli.render import emit_json

if TYPE_CHECKING:  # the resolver pulls in Splink: load it only for resolution commands
    from habeas.app.index.schemas import ExplanationOut, PersonFile, ReviewQueue
    from habeas.resolve.evaluate import Scores
    from habeas.resolve.run import Resolution

ReviewDecision = Literal["same", "different", "unsure"]

review_app = typer.Typer(
    help="Human review of uncertain links: queue, decisions, unmerge.", no_args_is_help=True
)
export_app = typer.Typer(help="Export the index.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure the index against a ground truth.", no_args_is_help=True)


commands = typer.Typer()
"""This module's top-level commands (``habeas.cli.main`` adds them to its own)."""
GROUPS: tuple[tuple[typer.Typer, str], ...] = (
    (review_app, "review"),
    (export_app, "export"),
    (eval_app, "eval"),
)
"""This module's command groups and their names."""


@commands.command("resolve")
def resolve_cmd(
    incremental: Annotated[
        bool, typer.Option("--incremental", help="Link only records new since the last run.")
    ] = False,
    engine: Annotated[EngineName, typer.Option(help="The resolution engine.")] = "duckdb",
    reuse_model: Annotated[
        bool, typer.Option("--reuse-model", help="Score with the last trained model.")
    ] = False,
    learn: Annotated[
        bool,
        typer.Option(
            "--learn",
            help="Re-estimate the last trained model from reviewers' decisions, then "
            "resolve with it (prints what changed).",
        ),
    ] = False,
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Resolve staged records into persons (train, score, cluster), then publish the
    index into the operational store (an integration engineer, purpose
    identity_resolution; audited)."""

    def _stage(stage: str) -> None:
        """Each stage on stderr (unless --quiet); the run logs it too."""
        if not quiet():
            err.print(f"… {stage}")

    a, who = acting(as_user)
    got = a.pipeline.resolve(
        who,
        purpose,
        incremental=incremental,
        engine=engine,
        reuse_model=reuse_model,
        progress=_stage,
        learn=learn,
    )
    resolution(out, got.resolution)
    out.print(f"  published {got.published_records:,} records into the operational store")


@commands.command("explain")
def explain_cmd(
    left: Annotated[str, typer.Argument(help="A record id.")],
    right: Annotated[str, typer.Argument(help="Another record id.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """Why two records were linked or not: each comparison's weight, the prior, the total."""
    a, who = acting(as_user)
    e = a.index.explain(who, purpose, left, right)
    emit_json(out, e) if as_json else explanation(out, e)


@commands.command("person")
def person_cmd(
    person_id: Annotated[str, typer.Argument(help="A person id.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """One person: records (those the purpose allows), links, flags, decisions. Audited."""
    a, who = acting(as_user)
    got = a.index.person(who, purpose, person_id)
    if as_json:
        emit_json(out, got)
        return
    person(out, got)


@commands.command("search")
def search_cmd(
    name: Annotated[str | None, typer.Option(help="A name, in either order.")] = None,
    dob: Annotated[str | None, typer.Option(help="Date of birth, YYYY-MM-DD.")] = None,
    identifier: Annotated[
        str | None, typer.Option(help="An A-number, SSN, passport number or record id.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """Find persons by name, date of birth or identifier, best match first. Audited."""
    a, who = acting(as_user)
    got = a.index.search(
        who, purpose, name=name, dob=dob, identifier=identifier, limit=limit, offset=offset
    )
    if as_json:
        emit_json(out, got)
        return
    table = Table(title=f"{got.total:,} persons found")
    for col in ("person", "score", "matched on", "names", "dates of birth"):
        table.add_column(col, overflow="fold")
    for h in got.hits:
        table.add_row(
            h.person_id,
            f"{h.score:.1f}",
            ", ".join(h.matched),
            escape("; ".join(h.names)),
            ", ".join(h.dobs),
        )
    out.print(table)
    if got.unsearched:
        out.print(
            "a whole identifier was not looked for among "
            + ", ".join(got.unsearched)
            + ": this purpose sees them masked"
        )


@commands.command("record")
def record_cmd(
    record_id: Annotated[str, typer.Argument(help="A record id.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """One record: its source, legal authority, person and link. Audited."""
    a, who = acting(as_user)
    r = a.index.record(who, purpose, record_id)
    if as_json:
        emit_json(out, r)
        return
    for k, v in r.model_dump().items():
        out.print(f"{k:<18} {escape(str(v))}", highlight=False)


@export_app.command("clusters")
def export_clusters_cmd(
    path: Annotated[Path, typer.Argument(help="Output file, .csv or .parquet.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Write source, source key, record id and person id of the records this role may
    export for this purpose."""
    a, who = acting(as_user)
    n = a.pipeline.export(who, purpose, path)
    out.print(f"wrote {n:,} records to {path}")


@eval_app.command("resolve")
def eval_resolve_cmd(
    truth: Annotated[Path, typer.Option(help="Truth file (.csv/.parquet): record → person.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Pairwise and B-cubed precision/recall/F1, exact recovery and blocking recall."""
    a, who = acting(as_user)
    ev = a.pipeline.evaluate(who, purpose, truth)
    scores(out, ev.scores, ev.blocking_recall)
    if ev.unmatched_truth_records:
        out.print(
            f"({ev.unmatched_truth_records:,} of {ev.truth_records:,} truth records are not "
            "in the index: quarantined or not ingested)"
        )


@review_app.command("queue")
def review_queue_cmd(
    limit: Annotated[int, typer.Option(min=1, max=500, help="Pairs to show.")] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_user: AsUser = None,
    purpose: Purpose = None,
    as_json: Json = False,
) -> None:
    """Pairs the model is unsure about, across two persons, most uncertain first."""
    a, who = acting(as_user)
    q = a.index.review_queue(who, purpose, limit, offset)
    emit_json(out, q) if as_json else review_queue(out, q)


@review_app.command("decide")
def review_decide_cmd(
    left: Annotated[str, typer.Argument(help="A record id.")],
    right: Annotated[str, typer.Argument(help="Another record id.")],
    decision: Annotated[ReviewDecision, typer.Argument(help="same, different or unsure.")],
    reason: Annotated[str, typer.Option(help="Why, in words a court can read.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Record a decision on a pair; it overrides the model in every later run."""
    a, who = acting(as_user)
    rec = a.index.decide(who, purpose, left, right, decision, reason)
    for w in rec.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}")
    out.print(f"decision {rec.decision_id} recorded; it applies {rec.applies}")


@review_app.command("unmerge")
def review_unmerge_cmd(
    person_id: Annotated[str, typer.Argument(help="The person id.")],
    records: Annotated[list[str], typer.Argument(help="Record ids to split off.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Split records off a person; they stay apart in every later run until undone."""
    a, who = acting(as_user)
    rec = a.index.unmerge(who, purpose, person_id, records, reason)
    out.print(f"unmerge recorded as decision {rec.decision_id}; run `habeas resolve` to apply")


@review_app.command("undo")
def review_undo_cmd(
    decision_id: Annotated[int, typer.Argument(help="The unmerge's decision id.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
) -> None:
    """Withdraw an unmerge (recorded as a decision of its own)."""
    a, who = acting(as_user)
    rec = a.index.undo(who, purpose, decision_id, reason)
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
    for line in r.learned:
        out.print(f"  learned: {escape(line)}", highlight=False)


def explanation(out: Console, e: ExplanationOut) -> None:
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


def person(out: Console, view: PersonFile) -> None:
    """Print one person's records (with source and legal authority), links, flags and
    reviewers' decisions."""
    table = Table(title=f"person {view.person_id}: {len(view.records)} records")
    for col in (
        "record",
        "source",
        "authority",
        "name",
        "dob",
        "identifiers",
        "linked via",
        "p",
        "how",
    ):
        table.add_column(col, overflow="fold")
    for r in view.records:
        ids = ", ".join(
            f"{k} {v}"
            for k, v in (("a_number", r.a_number), ("ssn", r.ssn), ("passport", r.passport_number))
            if v
        )
        p = r.match_probability
        table.add_row(
            r.record_id,
            f"{r.source}:{r.source_key}",
            escape(r.legal_authority),
            escape(r.name),
            r.dob or "",
            ids,
            r.linked_via or "",
            f"{p:.3f}" if p is not None else "",
            r.how,
        )
    out.print(table)
    for f in view.flags:
        state = f"resolved by {f.resolved_by}: {f.resolution}" if f.status == "resolved" else "OPEN"
        out.print(
            f"[bold]flag {f.flag}[/] ({state}): {escape(f.detail)} — records "
            + ", ".join(f.record_ids)
        )
    for d in view.decisions:
        undone = f" (undone by {d.undone_by})" if d.undone_by else ""
        out.print(
            f"decision {d.decision_id} {d.kind} {d.decision} by {d.reviewer} on "
            f"{d.decided_at:%Y-%m-%d}: {escape(d.reason)}{undone}"
        )
    if view.withheld:
        out.print(f"{view.withheld} record(s) withheld: their sources do not declare this purpose")
    if view.masked:
        out.print(f"shown masked for this purpose: {', '.join(view.masked)}")
    out.print(f"(index run {view.run_id})")


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


def review_queue(out: Console, q: ReviewQueue) -> None:
    """Print a page of the review queue."""
    out.print(f"{q.total:,} pairs await review, the decisions that would change most first")
    table = Table()
    for col in ("left", "right", "names", "dates of birth", "probability", "priority", "why"):
        table.add_column(col, overflow="fold")
    for r in q.pairs:
        table.add_row(
            f"{r.record_id_l} ({r.source_l})",
            f"{r.record_id_r} ({r.source_r})",
            escape(f"{r.name_l} | {r.name_r}"),
            f"{r.dob_l} | {r.dob_r}",
            f"{r.match_probability:.3f}",
            "" if r.priority is None else f"{r.priority:.2f}",
            escape(r.why or ""),
        )
    out.print(table)
