"""What every command that reads personal data shares: who acts, for what purpose, and
how a refusal is shown (one line on stderr, exit code 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from habeas.governance.authz import AccessContext

AsUser = Annotated[
    str | None, typer.Option("--as", envvar="HABEAS_USER", help="Who is acting (an account).")
]
Purpose = Annotated[str | None, typer.Option(help="Why: a declared purpose.")]


def cli_origin() -> str:
    """Where a command runs: ``cli:<operating-system account>@<host>``. The CLI trusts the
    ``--as`` account (whoever can run it can also read the data directory); the audit log
    records the operating-system account beside it, so the two can be compared."""
    import getpass
    import socket

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return f"cli:{who}@{socket.gethostname()}"


def context(
    url: str, as_user: str | None, purpose: str | None, client: str = ""
) -> tuple[Engine, AccessContext]:
    """The operational store at ``url`` and the caller's access context (account, role,
    purpose, client) for a command; the request id starts with ``cli_origin()``."""
    from habeas.governance.person_access import context_for
    from habeas.store.operational import make_engine

    engine = make_engine(url)
    return engine, context_for(engine, as_user, purpose, client, origin=cli_origin())


@contextmanager
def refusals(err: Console) -> Iterator[None]:
    """Turn a refusal — by policy (access) or by law (a lifecycle gate) — into its one-line
    reasons on stderr and exit code 3."""
    from habeas.cases.service import GateRefused
    from habeas.governance.identity import AccessDenied

    try:
        yield
    except (AccessDenied, GateRefused) as exc:
        err.print(f"[bold red]refused:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=3) from None
