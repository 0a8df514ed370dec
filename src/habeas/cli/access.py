"""What every command that acts for an account shares: who acts (``--as``), for what
purpose, the principal the application issues for the terminal, and how a refusal is
shown (one line on stderr, exit code 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from habeas.app.choices import PurposeName
from habeas.cli.context import application
from habeas.errors import AccessDenied, GateRefused, Unauthenticated

if TYPE_CHECKING:
    from habeas.app.core import Habeas, Principal

AsUser = Annotated[
    str | None, typer.Option("--as", envvar="HABEAS_USER", help="Who is acting (an account).")
]
Purpose = Annotated[PurposeName | None, typer.Option(help="Why: a declared purpose.")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


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


def principal(app: Habeas, as_user: str | None) -> Principal | None:
    """The terminal's principal for ``--as`` (None without one: the app refuses)."""
    return app.users.local(as_user, cli_origin())


def acting(as_user: str | None) -> tuple[Habeas, Principal | None]:
    """This invocation's application and the terminal's principal for ``--as``."""
    app = application()
    return app, principal(app, as_user)


@contextmanager
def refusals(err: Console) -> Iterator[None]:
    """Turn a refusal — by policy (access), by law (a lifecycle gate) or for want of an
    account — into its one-line reasons on stderr and exit code 3."""

    try:
        yield
    except (AccessDenied, GateRefused, Unauthenticated) as exc:
        err.print(f"[bold red]refused:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=3) from None
