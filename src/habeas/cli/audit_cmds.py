"""`habeas db upgrade` and `habeas audit verify | checkpoint | show`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from habeas.cli.access import AsUser, Purpose, context, refusals
from habeas.errors import HabeasError

if TYPE_CHECKING:
    from sqlalchemy import Engine

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
db_app = typer.Typer(help="The operational store.", no_args_is_help=True)


def register(
    app: typer.Typer,
    url: Callable[[], str],
    data_dir: Callable[[], Path],
    out: Console,
    err: Console,
) -> None:
    """Attach the commands; ``url`` gives the operational store's URL."""
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")

    def _engine() -> Engine:
        from habeas.store.operational import current_revision, make_engine

        engine = make_engine(url())
        if current_revision(engine) is None:
            raise HabeasError("the operational store is empty: run `habeas db upgrade` first")
        return engine

    @db_app.command("upgrade")
    def db_upgrade() -> None:
        """Create or migrate the operational store to the latest schema."""
        from habeas.store.operational import current_revision, make_engine, upgrade

        engine = make_engine(url())
        before = current_revision(engine)
        upgrade(engine)
        out.print(f"operational store at revision {current_revision(engine)} (was {before})")

    @audit_app.command("verify")
    def audit_verify(
        checkpoint: Annotated[
            Path | None, typer.Option(help="A checkpoint (JSON) kept by a witness.")
        ] = None,
        public_key: Annotated[
            Path | None, typer.Option(help="The log's public key (PEM); default: data dir.")
        ] = None,
    ) -> None:
        """Recompute the hash chain; report the first entry that does not fit (exit 4)."""
        from habeas.governance import audit
        from habeas.governance.chain import Checkpoint

        cp = None
        key = None
        if checkpoint is not None:
            try:
                cp = Checkpoint.from_json(checkpoint.read_text())
            except (OSError, ValueError, KeyError) as exc:
                raise HabeasError(f"{checkpoint}: not a checkpoint ({exc})") from None
            key = audit.load_public(public_key or data_dir() / audit.PUBLIC_FILE)
        v = audit.verify(_engine(), cp, key)
        if v.ok:
            covered = f"; matches checkpoint of {cp.size} entries" if cp else ""
            out.print(f"audit verify OK: {v.entries:,} entries, head {v.head[:16]}…{covered}")
            return
        if v.first_break is not None:
            b = v.first_break
            out.print(f"audit verify FAILED at entry {b.seq} (position {b.position}): {b.reason}")
        if v.checkpoint_problem:
            out.print(f"audit verify FAILED against the checkpoint: {v.checkpoint_problem}")
        raise typer.Exit(code=4)

    @audit_app.command("checkpoint")
    def audit_checkpoint(
        path: Annotated[Path, typer.Argument(help="Where to write the signed checkpoint.")],
    ) -> None:
        """Sign the log's size, Merkle root and head with the log's Ed25519 key."""
        from habeas.governance import audit

        cp = audit.make_checkpoint(_engine(), audit.load_or_create_key(data_dir()))
        path.write_text(cp.to_json())
        out.print(f"checkpoint of {cp.size:,} entries written to {path} (key {cp.key_id})")

    @audit_app.command("show")
    def audit_show(
        as_user: AsUser = None,
        purpose: Purpose = None,
        user: Annotated[str | None, typer.Option(help="Only this user.")] = None,
        for_purpose: Annotated[
            str | None, typer.Option("--for-purpose", help="Only accesses for this purpose.")
        ] = None,
        person: Annotated[str | None, typer.Option(help="Only entries naming this person.")] = None,
        since: Annotated[str | None, typer.Option(help="From this time (ISO).")] = None,
        until: Annotated[str | None, typer.Option(help="Before this time (ISO).")] = None,
        limit: Annotated[int, typer.Option(min=1)] = 50,
    ) -> None:
        """Entries filtered by user, purpose, person and time, oldest first (oversight only;
        the search is itself audited)."""
        from habeas.governance.audit_access import AuditFilter, search

        _engine()  # refuses an empty store with the fix to run
        engine, ctx = context(url(), as_user, purpose or "oversight")
        f = AuditFilter(user, for_purpose, person, since, until, limit)
        with refusals(err):
            rows = search(engine, ctx, f)
        table = Table()
        for col in ("seq", "at", "user", "role", "purpose", "action", "resources", "decision",
                    "why", "request"):  # fmt: skip
            table.add_column(col)
        for r in rows:
            table.add_row(
                str(r.seq), r.at, r.user, r.role, r.purpose, r.action,
                ", ".join(json.loads(r.resources)), r.decision, r.detail, r.request_id,
            )  # fmt: skip
        out.print(table)


users_app = typer.Typer(help="Local accounts (managed by the admin role).", no_args_is_help=True)


def register_users(app: typer.Typer, url: Callable[[], str], out: Console) -> None:
    """Attach `habeas users bootstrap | add`."""
    app.add_typer(users_app, name="users")

    @users_app.command("bootstrap")
    def users_bootstrap(
        username: Annotated[str, typer.Argument(help="The first account: an admin.")],
    ) -> None:
        """Create the first account (an admin) on an empty store; prints its password once."""
        import secrets

        from habeas.governance.identity import bootstrap_admin
        from habeas.store.operational import make_engine, session_factory, upgrade

        engine = make_engine(url())
        upgrade(engine)
        password = secrets.token_urlsafe(18)
        with session_factory(engine).begin() as s:
            bootstrap_admin(s, username, password)
        out.print(f"admin {username} created; password (shown once): {password}")

    @users_app.command("add")
    def users_add(
        username: Annotated[str, typer.Argument(help="The new account.")],
        role: Annotated[str, typer.Option(help="One role: case_officer, supervisor, …")],
        as_user: Annotated[
            str | None, typer.Option("--as", envvar="HABEAS_USER", help="The admin acting.")
        ] = None,
    ) -> None:
        """Create an account (admin only, audited); prints its password once."""
        import secrets

        from habeas.governance.identity import create_user
        from habeas.store.operational import session_factory

        engine, ctx = context(url(), as_user, "oversight")
        password = secrets.token_urlsafe(18)
        with session_factory(engine).begin() as s:
            create_user(s, ctx, username, role, password)
        out.print(f"{username} ({role}) created; password (shown once): {password}")
