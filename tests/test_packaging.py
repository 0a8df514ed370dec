"""Packaging as the ecosystem expects: a light default install (no Spark, no PostgreSQL
driver, no Java for the demo), extras for the rest, one version, a licence, a changelog,
and ``python -m habeas``."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def test_the_default_install_is_light_and_the_extras_carry_the_rest() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = " ".join(project["dependencies"])
    assert "pyspark" not in deps and "psycopg" not in deps
    extras = project["optional-dependencies"]
    assert any("pyspark" in d for d in extras["spark"])
    assert any("psycopg" in d for d in extras["postgres"])
    core, full = pins("requirements-core.lock"), pins("requirements.lock")
    for heavy in ("pyspark", "psycopg", "psycopg-binary", "pytest", "py4j"):
        assert heavy not in core and (heavy in full or heavy == "psycopg-binary")
    # the demo's environment is the tests' environment minus the extras: same versions
    assert {n: v for n, v in core.items() if full.get(n) != v} == {}


def test_the_demo_needs_no_system_package() -> None:
    run = subprocess.run(
        ["bash", str(ROOT / "scripts/ensure-system.sh"), "demo"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0 and "no system package" in run.stdout
    bad = subprocess.run(
        ["bash", str(ROOT / "scripts/ensure-system.sh"), "everything"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "unknown target" in bad.stderr


def test_python_dash_m_habeas_and_one_version() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "habeas", "--version"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0 and run.stdout.strip() == f"habeas {version('habeas')}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == version("habeas")


def test_licence_and_changelog() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog and "keepachangelog.com" in changelog
    assert re.search(r"^## \[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)


def test_verbose_logs_a_long_jobs_stages_to_a_file_and_quiet_is_quiet(
    indexed_app: object, world: object, tmp_path: Path, capsys: object
) -> None:
    from habeas.cli.main import execute

    data = str(indexed_app.settings.data_dir)  # type: ignore[attr-defined]
    source = str(world.out / "ssa_numident.csv")  # type: ignore[attr-defined]
    log = tmp_path / "job.log"
    args = [
        "ingest",
        "ssa_numident",
        source,
        "--as",
        "eng1",
        "--purpose",
        "identity_resolution",
        "--dry-run",
    ]
    assert execute(["--data-dir", data, "-v", "--log-file", str(log), *args]) == 0
    text = log.read_text(encoding="utf-8")
    assert "INFO habeas.sources.ingest: ingest ssa_numident: read" in text and "done (100%)" in text
    assert execute(["--data-dir", data, "--quiet", "--verbose", *args]) == 2
    assert execute(["--data-dir", data, "--log-file", str(tmp_path / "no" / "x.log"), *args]) == 2
