"""`habeas dispute open|acknowledge|decide|statement|list|redirects`: disputes on a
person's record, link or flag, with the Privacy Act's clocks, and decisions that travel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from habeas.app.redress import DisputeOut
from habeas.cli.access import AsUser, Json, Purpose, acting, refusals
from habeas.cli.context import err, out
from habeas.cli.render import emit_json
from habeas.errors import HabeasError
from habeas.redress.rules import MAX_DOCUMENT_BYTES

dispute_app = typer.Typer(
    help="Disputes on a person's record, link or flag: opened by counsel, a case officer or "
    "a supervisor; decided (corrected, split, denied) by a supervisor who did not open them.",
    no_args_is_help=True,
)
commands = typer.Typer()
"""This module's top-level commands (none: the group holds them)."""
GROUPS: tuple[tuple[typer.Typer, str], ...] = ((dispute_app, "dispute"),)
"""This module's command groups and their names."""

Client = Annotated[
    str, typer.Option(help="Counsel: the client (a person id) you act for.", show_default=False)
]


def _show(d: DisputeOut, json_out: bool) -> None:
    if json_out:
        emit_json(out, d)
        return
    late = f" — OVERDUE: {'; '.join(d.overdue)}" if d.overdue else ""
    out.print(
        f"dispute {d.dispute_id} on {d.target_kind} {escape(d.target)} of {escape(d.person_id)}: "
        f"{d.state}{' (' + d.decision + ')' if d.decision else ''}; acknowledge by "
        f"{d.acknowledge_by}, decide by {d.decide_by}{late}",
        soft_wrap=True,
    )
    if d.outcome:
        for key in ("moved", "flags_cleared", "flags_raised", "redirects", "notified"):
            if d.outcome.get(key):
                out.print(f"  {key.replace('_', ' ')}: {escape(str(d.outcome[key]))}")
    if d.statement:
        out.print(f"  statement of disagreement: {escape(d.statement)}")


def _documents(paths: list[Path] | None) -> list[tuple[str, bytes]]:
    docs = []
    for p in paths or []:
        try:
            if p.stat().st_size > MAX_DOCUMENT_BYTES:
                raise HabeasError(f"document {p}: over {MAX_DOCUMENT_BYTES:,} bytes")
            docs.append((p.name, p.read_bytes()))
        except OSError as exc:
            raise HabeasError(f"document {p}: {exc.strerror or exc}") from None
    return docs


@dispute_app.command("open")
def open_(
    person: Annotated[str, typer.Argument(help="The person (id in the index).")],
    kind: Annotated[str, typer.Argument(help="record, link or flag.")],
    target: Annotated[str, typer.Argument(help="The record id, LEFT~RIGHT, or the flag's number.")],
    reason: Annotated[str, typer.Option(help="Why the record, link or flag is wrong.")],
    field: Annotated[str | None, typer.Option(help="The field that is wrong (dob, …).")] = None,
    claimed: Annotated[
        str | None, typer.Option(help="The value the subject says is right.")
    ] = None,
    document: Annotated[list[Path] | None, typer.Option(help="A document (repeat).")] = None,
    as_user: AsUser = None,
    purpose: Purpose = None,
    client: Client = "",
    json_out: Json = False,
) -> None:
    """Open a dispute; its clocks start (acknowledge within 10 working days, decide within 30)."""
    app, who = acting(as_user)
    with refusals(err):
        d = app.redress.open(
            who, purpose, person, kind, target, reason, field, claimed, _documents(document), client
        )
    _show(d, json_out)


@dispute_app.command("acknowledge")
def acknowledge(
    dispute: Annotated[int, typer.Argument(help="The dispute's number.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
    json_out: Json = False,
) -> None:
    """Acknowledge a dispute (a supervisor who did not open it)."""
    app, who = acting(as_user)
    with refusals(err):
        d = app.redress.acknowledge(who, purpose, dispute)
    _show(d, json_out)


@dispute_app.command("decide")
def decide(
    dispute: Annotated[int, typer.Argument(help="The dispute's number.")],
    decision: Annotated[str, typer.Argument(help="corrected, split or denied.")],
    reason: Annotated[str, typer.Option(help="The reason (and, corrected, the evidence).")],
    record: Annotated[str | None, typer.Option(help="Corrected: the record.")] = None,
    field: Annotated[str | None, typer.Option(help="Corrected: the field.")] = None,
    value: Annotated[str | None, typer.Option(help="Corrected: the right value.")] = None,
    split: Annotated[
        list[str] | None, typer.Option(help="Split: a record to take off the person (repeat).")
    ] = None,
    as_user: AsUser = None,
    purpose: Purpose = None,
    json_out: Json = False,
) -> None:
    """Decide a dispute; a correction or a split travels at once to the links, flags,
    priorities, assignments and earlier recipients it touches."""
    app, who = acting(as_user)
    with refusals(err):
        d = app.redress.decide(
            who, purpose, dispute, decision, reason, record, field, value, split or []
        )
    _show(d, json_out)


@dispute_app.command("statement")
def statement(
    dispute: Annotated[int, typer.Argument(help="The dispute's number (denied).")],
    text: Annotated[str, typer.Option(help="The subject's statement of disagreement.")],
    as_user: AsUser = None,
    purpose: Purpose = None,
    client: Client = "",
    json_out: Json = False,
) -> None:
    """File the subject's statement of disagreement after a denial (it travels with the
    record in every later packet)."""
    app, who = acting(as_user)
    with refusals(err):
        d = app.redress.statement(who, purpose, dispute, text, client)
    _show(d, json_out)


@dispute_app.command("list")
def list_(
    person: Annotated[
        str | None, typer.Argument(help="A person (all: supervisors, oversight).")
    ] = None,
    overdue: Annotated[bool, typer.Option(help="Only disputes past a due date.")] = False,
    as_user: AsUser = None,
    purpose: Purpose = None,
    client: Client = "",
    json_out: Json = False,
) -> None:
    """Disputes with their clocks; --overdue lists those past a due date (for oversight)."""
    app, who = acting(as_user)
    with refusals(err):
        rows = app.redress.disputes(who, purpose, person, overdue, client)
    if json_out:
        emit_json(out, rows)
        return
    if not rows:
        out.print("no dispute")
    for d in rows:
        _show(d, False)
