"""`habeas field`: setting up field offices, teams and who works in them (the admin's
job); the planner and the officer's view are pages and HTTP routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from habeas.cli.access import AsUser, principal
from habeas.cli.context import application, out
from habeas.errors import HabeasError, UnreadableFile
from habeas.sources.files import MAX_DECLARATION_BYTES, read_bounded
from habeas.synth.field import offices as synthetic_offices

if TYPE_CHECKING:
    pass

field_app = typer.Typer(help="Field offices, teams and their members.", no_args_is_help=True)


def read_set_up(path: Path) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str | None]]]:
    """Offices and members from a JSON file (at most 1 MiB): ``{"offices": [{"code",
    "name", "states", "teams": [...]}], "members": {"account": ["office", "team" or
    null]}}``; a clear error names what is wrong."""

    try:
        raw = read_bounded(path, MAX_DECLARATION_BYTES, "a field set-up (JSON)")
        data = json.loads(raw.decode("utf-8"))
    except UnreadableFile as exc:
        raise HabeasError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise HabeasError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise HabeasError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise HabeasError(f"{path}: nested too deeply") from None
    if not isinstance(data, dict) or set(data) - {"offices", "members"}:
        raise HabeasError(f"{path}: an object with 'offices' and 'members', nothing else")
    offices = data.get("offices", [])
    members_in = data.get("members", {})
    if not isinstance(offices, list) or not all(isinstance(o, dict) for o in offices):
        raise HabeasError(f"{path}: offices: a list of objects")
    if not isinstance(members_in, dict):
        raise HabeasError(f"{path}: members: an object of account → [office, team or null]")
    members: dict[str, tuple[str, str | None]] = {}
    for name, where in members_in.items():
        ok = isinstance(where, list) and len(where) == 2 and isinstance(where[0], str)
        if not ok or not (where[1] is None or isinstance(where[1], str)):
            raise HabeasError(f"{path}: members.{name}: [office, team or null]")
        members[name] = (where[0], where[1])
    return offices, members


commands = typer.Typer()
"""This module's top-level commands (``habeas.cli.main`` adds them to its own)."""
GROUPS: tuple[tuple[typer.Typer, str], ...] = ((field_app, "field"),)
"""This module's command groups and their names."""


@field_app.command("set-up")
def set_up(
    path: Annotated[Path | None, typer.Argument(help="A JSON file of offices and members.")] = None,
    synthetic: Annotated[
        bool,
        typer.Option("--synthetic", help="The synthetic world's four offices, three teams each."),
    ] = False,
    as_user: AsUser = None,
) -> None:
    """Create or replace field offices and their teams, and place accounts in them
    (admin only, audited). Supervisors plan for their office's area; field officers
    see their team's day."""
    if (path is not None) == synthetic:
        raise HabeasError("name a set-up file or --synthetic (one of them)")
    members: dict[str, tuple[str, str | None]] = {}
    if synthetic:
        offices = synthetic_offices()
    else:
        assert path is not None
        offices, members = read_set_up(path)
    a = application()
    n = a.field.set_up(principal(a, as_user), offices, members)
    teams = sum(len(o.get("teams", [])) for o in offices)
    out.print(f"{n} office(s) with {teams} team(s) set up; {len(members)} member(s) placed")
