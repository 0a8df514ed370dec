"""The CLI reference, generated from the application's commands (``docs/cli.md``).

``python -m habeas.cli.reference > docs/cli.md`` writes it; a test fails when the file
and the commands disagree, so the reference never drifts from what ``habeas`` does.
"""

from __future__ import annotations

from typing import Any

import typer

from habeas.cli.main import app

HEADER = """# CLI reference

Generated from the commands themselves (`python -m habeas.cli.reference > docs/cli.md`);
`tests/test_docs.py` fails when this file is out of date. Every command that reads or
changes personal data acts for an account (`--as NAME` or `HABEAS_USER`) and names a
purpose (`--purpose`). Exit codes: 0 done, 2 a problem in the input, 3 refused (by
policy, by law, or for want of an account), 4 the audit chain does not verify, 143
stopped by SIGTERM.
"""


# Typer carries its own copy of click: commands and parameters are read by shape, and
# each parameter's line is its help record, exactly as ``--help`` shows it.


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _param_line(p: Any, cmd: Any) -> str:
    from typer._click.core import Context

    record = p.get_help_record(Context(cmd, info_name=cmd.name))
    if record is None:
        return ""
    flags, text = record
    return f"| `{_cell(flags)}` | {_cell(text)} |"


def _usage(path: list[str], cmd: Any) -> str:
    from typer._click.core import Context

    pieces = cmd.collect_usage_pieces(Context(cmd, info_name=cmd.name))
    return " ".join(["habeas", *path, *pieces])


def _section(path: list[str], cmd: Any, out: list[str]) -> None:
    level = "#" * min(len(path) + 1, 4)
    title = " ".join(["habeas", *path]) if path else "habeas"
    out.append(f"\n{level} `{title}`\n")
    text = (cmd.help or "").strip()
    if text:
        out.append(" ".join(text.split("\n\n")[0].split()) + "\n")
    commands = getattr(cmd, "commands", None)
    if commands is not None:
        names = sorted(n for n, c in commands.items() if not c.hidden)
        out.append("Commands: " + ", ".join(f"`{n}`" for n in names) + ".\n")
        for name in names:
            _section([*path, name], commands[name], out)
        return
    out.append(f"```\n{_usage(path, cmd)}\n```\n")
    params = [p for p in cmd.params if p.name != "help" and not getattr(p, "hidden", False)]
    if params:
        out.append("| parameter | what |\n| --- | --- |")
        out.extend(line for p in params if (line := _param_line(p, cmd)))
        out.append("")


def cli_reference() -> str:
    """The whole command tree as Markdown: each command's usage, help and parameters."""

    root = typer.main.get_command(app)
    out = [HEADER]
    out.append("\n## Global options\n")
    out.append("| parameter | what |\n| --- | --- |")
    out.extend(line for p in root.params if p.name != "help" and (line := _param_line(p, root)))
    out.append("")
    commands: dict[str, Any] = getattr(root, "commands", {})
    for name in sorted(n for n, c in commands.items() if not c.hidden):
        _section([name], commands[name], out)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(cli_reference(), end="")
