"""What every command that reads personal data shares: who acts, for what purpose, and
how a refusal is shown (one line on stderr, exit code 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

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


@contextmanager
def refusals(err: Console) -> Iterator[None]:
    """Turn an access refusal into its one-line reason on stderr and exit code 3."""
    from habeas.governance.identity import AccessDenied

    try:
        yield
    except AccessDenied as exc:
        err.print(f"[bold red]refused:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=3) from None
