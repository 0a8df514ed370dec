"""The documentation stays true: the CLI reference is the commands' own, every document
the README promises exists and every link resolves, and every command the README shows
is run here, on the demo's data, and succeeds."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("architecture", "safeguards", "sources", "operations", "benchmarks", "cli")


def test_the_cli_reference_is_current() -> None:
    from habeas.cli.reference import cli_reference

    written = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == cli_reference(), (
        "docs/cli.md is out of date: run `.venv/bin/python -m habeas.cli.reference > docs/cli.md`"
    )


def test_the_reference_covers_every_command() -> None:
    import typer

    from habeas.cli.main import app

    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    for name, cmd in getattr(root, "commands", {}).items():
        assert f"`habeas {name}`" in reference
        for sub in getattr(cmd, "commands", {}):
            assert f"`habeas {name} {sub}`" in reference


def test_every_document_exists_is_linked_and_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in DOCS:
        assert (ROOT / "docs" / f"{name}.md").is_file()
        assert f"(docs/{name}.md)" in readme
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:]+?)(?:#[^)]*)?\)", text):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_the_readme_starts_where_a_newcomer_starts() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_screen = "\n".join(readme.splitlines()[:60])
    for must in (
        "make demo",
        "make test",
        "## Try this next",
        "person PERSON_ID",
        "explain",
        "cases show",
        "audit show",
    ):
        assert must in first_screen
    assert "issue" not in readme.lower()
    assert len(readme) < 8_000


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Try this next", 1)[1].split("```", 2)[1]
    return [ln.strip() for ln in block.splitlines() if ln.strip().startswith("habeas ")]


@pytest.mark.slow
def test_every_command_the_readme_shows_runs_on_the_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from habeas.app import Habeas
    from habeas.cli.main import execute
    from habeas.settings import Settings
    from habeas.store.models import Case, IndexRecord

    data = tmp_path / "habeas-data"
    assert execute(["--data-dir", str(data), "demo", "--people", "1500"]) == 0
    app = Habeas(Settings(data_dir=data))
    with app.sessions() as s:
        case = s.execute(select(Case).order_by(Case.id).limit(1)).scalar_one()
        pid = s.execute(
            select(IndexRecord.person_id)
            .group_by(IndexRecord.person_id)
            .having(func.count() >= 2)
            .order_by(IndexRecord.person_id)
            .limit(1)
        ).scalar_one()
        records = (
            s.execute(
                select(IndexRecord.record_id)
                .where(IndexRecord.person_id == pid)
                .order_by(IndexRecord.record_id)
                .limit(2)
            )
            .scalars()
            .all()
        )
    app.close()
    values = {
        "PERSON_ID": pid,
        "RECORD_ID_2": records[1],
        "RECORD_ID": records[0],
        "CASE_ID": str(case.id),
    }
    commands = _readme_commands()
    assert len(commands) == 5
    for line in commands:
        for key, value in values.items():
            line = line.replace(key, value)
        argv = shlex.split(line)[1:]
        argv[argv.index("--data-dir") + 1] = str(data)
        capsys.readouterr()
        code = execute(argv)
        shown = capsys.readouterr()
        assert code == 0, f"{line}: exit {code}: {shown.err}"
        assert shown.out.strip(), line
