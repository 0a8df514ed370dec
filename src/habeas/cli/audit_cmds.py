"""`habeas db upgrade`, `habeas audit verify | checkpoint | show`, `habeas users …`,
`habeas tokens …` and `habeas whoami`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from habeas.app.choices import PurposeName, RoleName
from habeas.cli.access import AsUser, Json, Purpose, principal
from habeas.cli.context import application, err, out
from habeas.cli.render import emit_json
from habeas.governance.audit_access import AuditFilter

if TYPE_CHECKING:
    pass

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
db_app = typer.Typer(help="The operational store.", no_args_is_help=True)
users_app = typer.Typer(help="Local accounts (managed by the admin role).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (managed by the admin role).", no_args_is_help=True)


commands = typer.Typer()
"""This module's top-level commands (``habeas.cli.main`` adds them to its own)."""
GROUPS: tuple[tuple[typer.Typer, str], ...] = (
    (audit_app, "audit"),
    (db_app, "db"),
    (users_app, "users"),
    (tokens_app, "tokens"),
)
"""This module's command groups and their names."""


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the operational store to the latest schema."""
    before, after = application().create_store()
    out.print(f"operational store at revision {after} (was {before})")


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        Path | None, typer.Option(help="A checkpoint (JSON) kept by a witness.")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="The log's public key (PEM); default: data dir.")
    ] = None,
    witness: Annotated[
        Path | None,
        typer.Option(help="A witness's folder of checkpoints: verify against the latest."),
    ] = None,
) -> None:
    """Recompute the hash chain and check it ends at the head row; report the first
    entry that does not fit (exit 4), and how many entries no checkpoint covers."""
    v, cp = application().audit.verify(checkpoint, public_key, witness)
    if v.ok:
        covered = f"; matches checkpoint of {cp.size:,} entries" if cp else ""
        if v.beyond_checkpoint:
            covered += (
                f"; {v.beyond_checkpoint:,} entries lie beyond it, not covered by any checkpoint"
            )
        elif cp is None:
            covered = "; no checkpoint given: a rewritten log is detected only against one"
        out.print(
            f"audit verify OK: {v.entries:,} entries, head {v.head[:16]}…{covered}; "
            f"{v.case_events:,} case events, each the one the log recorded"
        )
        return
    if v.first_break is not None:
        b = v.first_break
        out.print(f"audit verify FAILED at entry {b.seq} (position {b.position}): {b.reason}")
    if v.checkpoint_problem:
        out.print(f"audit verify FAILED against the checkpoint: {v.checkpoint_problem}")
    if v.history_problem:
        out.print(f"audit verify FAILED on a case history: {v.history_problem}")
    if v.head_problem:
        out.print(f"audit verify FAILED at the head: {v.head_problem}")
    raise typer.Exit(code=4)


@audit_app.command("checkpoint")
def audit_checkpoint(
    path: Annotated[
        Path | None, typer.Argument(help="Where to write the signed checkpoint.")
    ] = None,
    witness: Annotated[
        Path | None,
        typer.Option(help="A witness's folder: write a new checkpoint file there."),
    ] = None,
) -> None:
    """Sign the log's size, Merkle root and head with the log's Ed25519 key."""
    written = application().audit.checkpoint(path, witness)
    out.print(f"checkpoint written to {written}")


@audit_app.command("show")
def audit_show(
    as_user: AsUser = None,
    purpose: Purpose = "oversight",
    user: Annotated[str | None, typer.Option(help="Only this user.")] = None,
    for_purpose: Annotated[
        PurposeName | None,
        typer.Option("--for-purpose", help="Only accesses for this purpose."),
    ] = None,
    person: Annotated[str | None, typer.Option(help="Only entries naming this person.")] = None,
    since: Annotated[str | None, typer.Option(help="From this time (ISO).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (ISO).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Json = False,
) -> None:
    """Entries filtered by user, purpose, person and time, oldest first (oversight only;
    the search is itself audited)."""

    a = application()
    f = AuditFilter(user, for_purpose, person, since, until, limit, offset)
    rows = a.audit.show(principal(a, as_user), purpose, f)
    if as_json:
        emit_json(out, rows)
        return
    table = Table()
    for col in (
        "seq",
        "at",
        "user",
        "role",
        "purpose",
        "action",
        "resources",
        "decision",
        "why",
        "request",
    ):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            str(r.seq),
            r.at,
            r.user,
            r.role,
            r.purpose,
            r.action,
            ", ".join(r.resources),
            r.decision,
            escape(r.detail),
            r.request_id,
        )
    out.print(table)


@users_app.command("bootstrap")
def users_bootstrap(
    username: Annotated[str, typer.Argument(help="The first account: an admin.")],
) -> None:
    """Create the store and its first account (an admin); prints its password once."""
    got = application().users.bootstrap(username)
    out.print(f"admin {got.username} created; password (shown once): {got.secret}")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="The new account.")],
    role: Annotated[RoleName, typer.Option(help="The account's one role.")],
    as_user: Annotated[
        str | None, typer.Option("--as", envvar="HABEAS_USER", help="The admin acting.")
    ] = None,
) -> None:
    """Create an account (admin only, audited); prints its password once."""
    a = application()
    got = a.users.add(principal(a, as_user), username, role)
    out.print(f"{username} ({role}) created; password (shown once): {got.secret}")


@users_app.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Argument(help="The account.")],
    as_user: Annotated[
        str | None, typer.Option("--as", envvar="HABEAS_USER", help="The admin acting.")
    ] = None,
) -> None:
    """Give an account a new password (admin only, audited); prints it once and ends the
    account's browser sessions."""
    a = application()
    got = a.users.reset_password(principal(a, as_user), username)
    out.print(f"{username}: new password (shown once): {got.secret}")


@users_app.command("list")
def users_list(
    as_user: Annotated[
        str | None, typer.Option("--as", envvar="HABEAS_USER", help="The admin acting.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Every account and its role (admin only, audited)."""
    a = application()
    rows = a.users.list_users(principal(a, as_user))
    if as_json:
        emit_json(out, rows)
        return
    table = Table()
    for col in ("account", "role", "active", "created"):
        table.add_column(col)
    for u in rows:
        table.add_row(u.username, u.role, "yes" if u.active else "no", f"{u.created_at:%Y-%m-%d}")
    out.print(table)


@commands.command("whoami")
def whoami(as_user: AsUser = None, as_json: Json = False) -> None:
    """The account you act as, its role, and the stores this command uses."""
    a = application()
    u = a.users.whoami(principal(a, as_user))
    if as_json:
        emit_json(out, {**u.model_dump(mode="json"), **a.describe()})
        return
    out.print(f"{u.username} ({u.role}){'' if u.active else ' — inactive'}")
    for k, v in a.describe().items():
        out.print(f"  {k.replace('_', ' ')}: {v}")


@tokens_app.command("create")
def tokens_create(
    username: Annotated[str, typer.Argument(help="The account the token acts as.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    days: Annotated[int, typer.Option(min=1, max=366, help="Days until it expires.")] = 90,
    as_user: Annotated[
        str | None, typer.Option("--as", envvar="HABEAS_USER", help="The admin acting.")
    ] = None,
) -> None:
    """Issue an API token (admin only); shown once, stored as a hash."""
    a = application()
    got = a.users.create_token(principal(a, as_user), username, label, days)
    out.print(
        f"token {got.token_id} for {username} ({label}), valid until "
        f"{got.expires_at:%Y-%m-%d}; shown once:\n{got.secret}"
    )


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (from the audit log).")],
    as_user: Annotated[
        str | None, typer.Option("--as", envvar="HABEAS_USER", help="The admin acting.")
    ] = None,
) -> None:
    """Revoke an API token (admin only, audited)."""
    a = application()
    a.users.revoke_token(principal(a, as_user), token_id)
    out.print(f"token {token_id} revoked")


del err
