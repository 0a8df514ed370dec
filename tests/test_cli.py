"""The command line: the demo's summary, clear one-line errors, exit codes.

Commands run in-process (``execute`` is what the installed entry point calls), except the
demo, which proves the entry point in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from habeas.synth.world import WorldSummary

pytestmark = pytest.mark.slow

_CAPTURE: list[pytest.CaptureFixture[str]] = []


@pytest.fixture(autouse=True)
def _capture(capsys: pytest.CaptureFixture[str]) -> None:
    from habeas.cli import main

    main.out.width = main.err.width = 200
    _CAPTURE[:] = [capsys]


def habeas(*args: str, cwd: Path, env: dict[str, str] | None = None) -> SimpleNamespace:
    """Run one command in-process; its exit code, stdout and stderr."""
    from habeas.cli.main import execute

    capsys = _CAPTURE[0]
    capsys.readouterr()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    here = os.getcwd()
    os.chdir(cwd)
    try:
        code = execute(list(args))
    except Exception as exc:  # a traceback would reach the user: show it as such
        import traceback

        out, err = capsys.readouterr()
        return SimpleNamespace(
            returncode=1, stdout=out, stderr=err + "Traceback\n" + traceback.format_exc() + str(exc)
        )
    finally:
        os.chdir(here)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out, err = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out, stderr=err)


def entry_point(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed entry point, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-c", "from habeas.cli.main import run; run()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=600,
    )


def test_demo_prints_the_summary(tmp_path: Path) -> None:
    run = entry_point("--data-dir", str(tmp_path / "d"), "demo", "--people", "400", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = run.stdout
    for expected in (
        "ingest by source",
        "audit verify OK",
        "refused: demo_officer (case_officer, purpose analytics)",
        "admin-reads-no-personal-data",
        "uscis_benefits",
        "fields dropped by minimization",
        "ETHNICITY",
        "quarantined, by reason",
        "tax-6103-request-scope",
        "sources refused",
        "MOU-HUD-DHS-2023-02 expired",
        "[legal-authority]",
        "records staged in",
        "published",
        "refused: demo_counsel (redress, client",
        "audit show --as demo_oversight",
        "court records sent to review for contradictory dates",
        "the day it is recorded: a step is recorded on or after the day it",
        "lift stay is a court's act",
        "edited in a copy: audit verify on the copy FAILED",
        "approved for field action (warrant, request, a second person's approval)",
        "demo_field is on team",
        "produced packet 1:",
        "packet verify OK",
    ):
        assert expected in " ".join(text.split()), expected
    again = entry_point("--data-dir", str(tmp_path / "d"), "demo", "--people", "400", cwd=tmp_path)
    assert again.returncode == 0 and "already ingested: nothing changed" in again.stdout
    ig = entry_point(
        "--data-dir",
        str(tmp_path / "d"),
        "audit",
        "show",
        "--as",
        "demo_oversight",
        "--limit",
        "3",
        "--json",
        cwd=tmp_path,
    )
    assert ig.returncode == 0 and '"action"' in ig.stdout, ig.stderr
    _serve_signs_in_with_a_printed_password(tmp_path / "d", tmp_path)


def _serve_signs_in_with_a_printed_password(data: Path, cwd: Path) -> None:
    """`make demo`'s second command: new passwords printed with the URL, then the pages."""
    import re
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [
        sys.executable,
        "-c",
        "from habeas.cli.main import run; run()",
        "--data-dir",
        str(data),
        "serve",
        "--demo-accounts",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(9)]
        text = "".join(lines)
        assert f"sign in at http://127.0.0.1:{port}/" in text, text
        found = re.search(r"demo_field\s+(\S+)\s+\(field_officer; purpose field_operation\)", text)
        assert found, text
        body = json.dumps(
            {"username": "demo_field", "password": found.group(1), "purpose": "field_operation"}
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/auth/login", body, {"Content-Type": "application/json"}
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(request, timeout=5) as r:
                    assert json.loads(r.read())["role"] == "field_officer"
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server never answered")
    finally:
        server.terminate()
        server.wait(timeout=30)


def _accounts(data: Path) -> None:
    """An operational store in ``data`` with an admin, an officer, an engineer and an IG."""
    from conftest import make_app

    make_app(
        data, users={"officer1": "case_officer", "eng1": "integration_engineer", "ig1": "oversight"}
    ).close()


ENG = ("--as", "eng1", "--purpose", "identity_resolution")


def test_user_errors_are_one_line_without_traceback(tmp_path: Path, world: WorldSummary) -> None:
    data = str(tmp_path / "d")
    run = habeas("--data-dir", data, "ingest", "nope", "x.csv", cwd=tmp_path)
    assert run.returncode == 2 and "no operational store at" in run.stderr  # never created
    assert not (tmp_path / "d" / "habeas.db").exists()
    _accounts(tmp_path / "d")
    run = habeas("--data-dir", data, "ingest", "nope", "x.csv", cwd=tmp_path)
    assert run.returncode == 3 and "no credentials" in run.stderr
    run = habeas("--data-dir", data, "ingest", "nope", "x.csv", *ENG, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().startswith("error: unknown source 'nope'")
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1

    added = habeas(
        "--data-dir",
        data,
        "sources",
        "add",
        str(world.out / "uscis_benefits.toml"),
        *ENG,
        cwd=tmp_path,
    )
    assert added.returncode == 0 and "registered" in added.stdout
    wrong = habeas(
        "--data-dir",
        data,
        "ingest",
        "uscis_benefits",
        str(world.files["cbp_crossings"]),
        *ENG,
        cwd=tmp_path,
    )
    assert (
        wrong.returncode == 2
        and "is a Parquet file" in wrong.stderr
        and "Traceback" not in wrong.stderr
    )

    debug = habeas("--debug", "--data-dir", data, "ingest", "nope", "x.csv", *ENG, cwd=tmp_path)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_sources_add_reports_refusals_with_exit_code(tmp_path: Path, world: WorldSummary) -> None:
    data = str(tmp_path / "d")
    _accounts(tmp_path / "d")
    run = habeas(
        "--data-dir",
        data,
        "sources",
        "add",
        str(world.out / "tipline_reports.toml"),
        "--as",
        "officer1",
        cwd=tmp_path,
    )
    assert run.returncode == 3 and "may not register sources" in run.stderr
    run = habeas(
        "--data-dir",
        data,
        "sources",
        "add",
        str(world.out / "tipline_reports.toml"),
        *ENG,
        cwd=tmp_path,
    )
    assert run.returncode == 3
    assert "refused" in run.stdout and "legal-authority" in run.stdout
    listed = habeas("--data-dir", data, "sources", "list", *ENG, cwd=tmp_path)
    assert "tipline_reports" in listed.stdout and "refused" in listed.stdout


def test_sources_check_on_a_later_date_finds_lapsed_agreements(
    tmp_path: Path, world: WorldSummary
) -> None:
    data = str(tmp_path / "d")
    _accounts(tmp_path / "d")
    habeas(
        "--data-dir",
        data,
        "sources",
        "add",
        str(world.out / "ssa_numident.toml"),
        *ENG,
        cwd=tmp_path,
    )
    now = habeas("--data-dir", data, "sources", "check", "--on", "2027-01-01", *ENG, cwd=tmp_path)
    assert now.returncode == 0 and "ok" in now.stdout
    later = habeas("--data-dir", data, "sources", "check", "--on", "2031-01-01", *ENG, cwd=tmp_path)
    assert later.returncode == 3 and "CMA-SSA-DHS-2025-07 expired" in later.stdout


def test_ingest_and_quarantine_list(tmp_path: Path, world: WorldSummary) -> None:
    data = str(tmp_path / "d")
    boot = habeas("--data-dir", data, "users", "bootstrap", "root", cwd=tmp_path)
    assert boot.returncode == 0 and "password (shown once)" in boot.stdout
    add = habeas(
        "--data-dir",
        data,
        "users",
        "add",
        "eng1",
        "--role",
        "integration_engineer",
        "--as",
        "root",
        cwd=tmp_path,
    )
    assert add.returncode == 0, add.stderr
    habeas(
        "--data-dir",
        data,
        "sources",
        "add",
        str(world.out / "clear_broker.toml"),
        *ENG,
        cwd=tmp_path,
    )
    sneaky = habeas(
        "--data-dir", data, "users", "add", "eng2", "--role", "admin", "--as", "eng1", cwd=tmp_path
    )
    assert sneaky.returncode == 3 and "may not create_user" in sneaky.stderr
    file = str(world.files["clear_broker"])
    run = habeas(
        "--data-dir",
        data,
        "ingest",
        "clear_broker",
        file,
        "--as",
        "root",
        "--purpose",
        "oversight",
        cwd=tmp_path,
    )
    assert run.returncode == 3 and "may not ingest clear_broker" in run.stderr
    dry = habeas(
        "--data-dir", data, "ingest", "clear_broker", file, "--dry-run", *ENG, cwd=tmp_path
    )
    assert dry.returncode == 0 and "dry run (nothing kept) clear_broker" in dry.stdout
    assert "fields filled:" in dry.stdout and "full_name 100%" in dry.stdout
    run = habeas("--data-dir", data, "ingest", "clear_broker", file, *ENG, cwd=tmp_path)
    assert run.returncode == 0 and "ingested clear_broker" in run.stdout
    # bad phones and ZIP codes are set aside, their records kept, and the summary says so
    assert "values set aside in records that were kept" in run.stdout
    assert "set aside" in run.stdout and "phone:" in run.stdout
    again = habeas("--data-dir", data, "ingest", "clear_broker", file, *ENG, cwd=tmp_path)
    assert "already ingested" in again.stdout and "nothing changed" in again.stdout
    q = habeas("--data-dir", data, "quarantine", "list", "--source", "clear_broker", cwd=tmp_path)
    assert q.returncode == 3 and "no credentials" in q.stderr
    q = habeas(
        "--data-dir",
        data,
        "quarantine",
        "list",
        "--source",
        "clear_broker",
        "--as",
        "eng1",
        "--purpose",
        "identity_resolution",
        cwd=tmp_path,
    )
    assert q.returncode == 0 and "quarantine:" in q.stdout and "clear_broker" in q.stdout
    kept = habeas(
        "--data-dir",
        data,
        "quarantine",
        "list",
        "--kept",
        "--json",
        "--as",
        "eng1",
        "--purpose",
        "identity_resolution",
        cwd=tmp_path,
    )
    assert kept.returncode == 0, kept.stderr
    page = json.loads(kept.stdout)
    assert page["total"] > 0
    assert {r["disposition"] for r in page["rows"]} == {"value set aside; record kept"}
    refused = habeas(
        "--data-dir",
        data,
        "quarantine",
        "list",
        "--refused",
        "--json",
        "--as",
        "eng1",
        "--purpose",
        "identity_resolution",
        cwd=tmp_path,
    )
    assert refused.returncode == 0 and json.loads(refused.stdout)["total"] == 0
    q = habeas(
        "--data-dir",
        data,
        "quarantine",
        "list",
        "--as",
        "root",
        "--purpose",
        "oversight",
        cwd=tmp_path,
    )
    assert q.returncode == 3 and "refused" in q.stderr


def test_synth_command_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        run = habeas(
            "--data-dir",
            str(tmp_path / name),
            "synth",
            "--people",
            "200",
            "--seed",
            "3",
            cwd=tmp_path,
        )
        assert run.returncode == 0, run.stderr
    assert not (tmp_path / "habeas-data").exists()  # synth writes into --data-dir
    for f in (tmp_path / "a" / "world").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / "world" / f.name).read_bytes(), f.name


def test_bad_option_value_is_a_usage_error(tmp_path: Path) -> None:
    run = habeas("synth", "--people", "0", cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    run = habeas("synth", "--profile", "rough", cwd=tmp_path)
    assert run.returncode == 2 and "'rough': profiles are standard, messy" in run.stderr


def test_synth_writes_the_messy_profile(tmp_path: Path) -> None:
    run = habeas(
        "--data-dir",
        str(tmp_path / "d"),
        "synth",
        "--people",
        "200",
        "--profile",
        "messy",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    decl = (tmp_path / "d" / "world" / "fbi_criminal.toml").read_text(encoding="utf-8")
    assert 'kinds = ["a_number", "ssn"]' in decl and 'split = "auto"' in decl


def test_resolution_commands_end_to_end(tmp_path: Path, world: WorldSummary) -> None:
    data = str(tmp_path / "d")
    _accounts(tmp_path / "d")
    assert habeas(
        "--data-dir", data, "sources", "add", str(world.out), *ENG, cwd=tmp_path
    ).returncode in (
        0,
        3,  # the two feeds that must be refused
    )
    officer = ("--as", "officer1", "--purpose", "case_review")
    for decl in sorted(world.out.glob("*.toml")):
        if decl.stem in ("hud_tenants", "tipline_reports"):
            continue
        data_file = next(p for p in world.out.glob(f"{decl.stem}.*") if p.suffix != ".toml")
        if decl.stem == "uscis_benefits":  # an officer may not load data
            run = habeas(
                "--data-dir", data, "ingest", decl.stem, str(data_file), *officer, cwd=tmp_path
            )
            assert run.returncode == 3 and "may not ingest uscis_benefits" in run.stderr
        run = habeas("--data-dir", data, "ingest", decl.stem, str(data_file), *ENG, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
    run = habeas("--data-dir", data, "resolve", *officer, cwd=tmp_path)
    assert run.returncode == 3 and "may not resolve" in run.stderr
    run = habeas("--data-dir", data, "resolve", *ENG, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "persons in" in run.stdout and "review queue" in run.stdout
    out = tmp_path / "clusters.csv"
    run = habeas("--data-dir", data, "export", "clusters", str(out), cwd=tmp_path)
    assert run.returncode == 3 and "no credentials" in run.stderr
    run = habeas("--data-dir", data, "export", "clusters", str(out), *officer, cwd=tmp_path)
    assert run.returncode == 3 and "may not export" in run.stderr
    eng = ("--as", "eng1", "--purpose", "identity_resolution")
    run = habeas("--data-dir", data, "export", "clusters", str(out), *eng, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "source,source_key,record_id,person_id"
    a, b = lines[1].split(",")[2], lines[2].split(",")[2]
    run = habeas("--data-dir", data, "explain", a, b, *eng, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "prior" in run.stdout and "total match weight" in run.stdout
    run = habeas(
        "--data-dir", data, "eval", "resolve", "--truth", str(world.truth), *eng, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert "pairwise  precision" in run.stdout and "blocking recall" in run.stdout
    run = habeas("--data-dir", data, "review", "queue", "--limit", "3", *eng, cwd=tmp_path)
    assert run.returncode == 0 and "pairs await review" in run.stdout
    run = habeas(
        "--data-dir",
        data,
        "review",
        "decide",
        a,
        b,
        "maybe",
        "--reason",
        "not sure at all",
        *eng,
        cwd=tmp_path,
    )
    assert run.returncode == 2 and "'maybe' is not one of" in run.stderr
    run = habeas(
        "--data-dir",
        data,
        "review",
        "decide",
        a,
        b,
        "same",
        "--reason",
        "same A-number on the paper file",
        *eng,
        cwd=tmp_path,
    )
    assert run.returncode == 0 and "recorded" in run.stdout, run.stderr
    run = habeas(
        "--data-dir",
        data,
        "review",
        "decide",
        a,
        b,
        "different",
        "--reason",
        "an officer may not decide links",
        "--as",
        "officer1",
        "--purpose",
        "case_review",
        cwd=tmp_path,
    )
    assert run.returncode == 3 and "refused" in run.stderr
    run = habeas("--data-dir", data, "explain", a, "rNOPE", *eng, cwd=tmp_path)
    assert run.returncode == 2 and "rNOPE" in run.stderr
    person = lines[1].split(",")[3]
    run = habeas("--data-dir", data, "person", person, cwd=tmp_path)
    assert run.returncode == 3 and "no credentials" in run.stderr
    run = habeas(
        "--data-dir",
        data,
        "person",
        person,
        "--as",
        "officer1",
        "--purpose",
        "case_review",
        "--json",
        cwd=tmp_path,
    )
    assert run.returncode == 0 and f'"person_id": "{person}"' in run.stdout
    run = habeas(
        "--data-dir",
        data,
        "search",
        "--identifier",
        a,
        "--as",
        "officer1",
        "--purpose",
        "case_review",
        cwd=tmp_path,
    )
    assert run.returncode == 0 and person in run.stdout, run.stderr
    run = habeas(
        "--data-dir",
        data,
        "person",
        person,
        "--as",
        "officer1",
        "--purpose",
        "case_review",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert f"person {person}" in run.stdout and a in run.stdout
    run = habeas(
        "--data-dir", data, "person", person, "--as", "root", "--purpose", "oversight", cwd=tmp_path
    )
    assert run.returncode == 3 and "admin-reads-no-personal-data" in run.stderr
    run = habeas(
        "--data-dir",
        data,
        "person",
        person,
        "--purpose",
        "case_review",
        cwd=tmp_path,
        env={"HABEAS_USER": "eng1"},
    )
    assert run.returncode == 3 and "deny by default" in run.stderr
    run = habeas("--data-dir", data, "audit", "show", "--person", person, cwd=tmp_path)
    assert run.returncode == 3 and "no credentials" in run.stderr
    run = habeas(
        "--data-dir", data, "audit", "show", "--person", person, "--as", "officer1", cwd=tmp_path
    )
    assert run.returncode == 3 and "may not read the audit log" in run.stderr
    run = habeas(
        "--data-dir", data, "audit", "show", "--person", person, "--as", "ig1", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("read_person") >= 3
    # the officer's refused search and this one name the person, and both are in the log
    assert run.stdout.count("read_audit") == 2 and run.stdout.count("deny") >= 1
    run = habeas(
        "--data-dir",
        data,
        "review",
        "queue",
        "--as",
        "root",
        "--purpose",
        "oversight",
        cwd=tmp_path,
    )
    assert run.returncode == 3 and "refused" in run.stderr
    run = habeas("--data-dir", data, "resolve", "--engine", "oracle", *eng, cwd=tmp_path)
    assert run.returncode == 2 and "'oracle' is not one of" in run.stderr
    _case_commands(tmp_path, data)


def _case_commands(tmp_path: Path, data: str) -> None:
    """The case lifecycle from the terminal, on the resolved world of the test above."""
    officer = ("--as", "officer1", "--purpose", "case_review")
    on = ("--on", "2026-11-01")
    run = habeas("--data-dir", data, "cases", "open", *on, *officer, cwd=tmp_path)
    assert run.returncode == 0 and "cases" in run.stdout, run.stderr
    run = habeas("--data-dir", data, "prioritize", *on, *officer, cwd=tmp_path)
    assert run.returncode == 0 and "prioritized with default-priorities@" in run.stdout
    run = habeas("--data-dir", data, "cases", "list", "--tier", "1", *officer, cwd=tmp_path)
    assert run.returncode == 0 and "felony-conviction-recent" in run.stdout
    run = habeas("--data-dir", data, "cases", "show", "1", *on, *officer, cwd=tmp_path)
    assert run.returncode == 0 and "history (legal date" in run.stdout
    assert "removal gate:" in run.stdout
    run = habeas(
        "--data-dir",
        data,
        "cases",
        "show",
        "1",
        "--as",
        "officer1",
        "--purpose",
        "analytics",
        cwd=tmp_path,
    )
    assert run.returncode == 3 and "may not read case 1" in run.stderr
    run = habeas(
        "--data-dir", data, "cases", "step", "1", "confirm_removal", *on, *officer, cwd=tmp_path
    )
    assert run.returncode == 3 and "no policy permits it" in run.stderr
    run = habeas(
        "--data-dir",
        data,
        "cases",
        "step",
        "1",
        "approve_field_action",
        *on,
        "--as",
        "officer1",
        "--purpose",
        "case_review",
        cwd=tmp_path,
    )
    assert run.returncode == 3 and "supervisor-steps" in run.stderr
    run = habeas("--data-dir", data, "cases", "step", "1", "close", *on, *officer, cwd=tmp_path)
    assert run.returncode == 3 and "closing a case needs a reason" in run.stderr
    run = habeas("--data-dir", data, "cases", "step", "1", "teleport", *officer, cwd=tmp_path)
    assert run.returncode == 2 and "'teleport' is not one of" in run.stderr
    run = habeas(
        "--data-dir", data, "cases", "step", "1", "close", "--set", "race=x", *officer, cwd=tmp_path
    )
    assert run.returncode == 2 and "unknown field(s) race" in run.stderr
    run = habeas("--data-dir", data, "tasks", "due", *on, *officer, cwd=tmp_path)
    assert run.returncode == 0 and "tasks due" in run.stdout
    bad = tmp_path / "bad-policy.yaml"
    bad.write_text(
        "policy: bad-one\ndescription: x\ntiers: [{tier: 1, min_score: 0}]\nrules:\n"
        "  - {id: by-religion, description: refused at load, points: 5,\n"
        "     when: {fact: religion, op: '==', value: 1}}\n"
    )
    run = habeas("--data-dir", data, "policy", "check", str(bad), cwd=tmp_path)
    assert run.returncode == 2 and "rule 'by-religion' (rules[0])" in run.stderr
    assert "protected trait (religion)" in run.stderr
    run = habeas(
        "--data-dir",
        data,
        "transport",
        "plan",
        "--as",
        "officer1",
        "--purpose",
        "case_review",
        cwd=tmp_path,
    )
    assert run.returncode == 0 and "transport: 0 ready for removal" in run.stdout
    run = habeas(
        "--data-dir",
        data,
        "transport",
        "lock",
        "F-NONE",
        "--as",
        "officer1",
        "--purpose",
        "case_review",
        cwd=tmp_path,
    )
    assert run.returncode == 2 and "nobody is on a manifest of flight 'F-NONE'" in run.stderr
    run = habeas(
        "--data-dir",
        data,
        "cases",
        "show",
        "1",
        "--as",
        "officer1",
        "--purpose",
        "case_review",
        "--json",
        cwd=tmp_path,
    )
    assert run.returncode == 0 and '"history"' in run.stdout
    run = habeas("--data-dir", data, "audit", "verify", cwd=tmp_path)
    assert run.returncode == 0 and "audit verify OK" in run.stdout


def test_audit_commands_verify_checkpoint_and_report_tampering(tmp_path: Path) -> None:
    import sqlite3
    from datetime import UTC, datetime

    from habeas.governance import audit
    from habeas.governance.authz import AccessContext
    from habeas.governance.identity import bootstrap_admin, create_user
    from habeas.store.operational import make_engine, session_factory

    data = str(tmp_path / "d")
    run = habeas("--data-dir", data, "audit", "verify", cwd=tmp_path)
    assert run.returncode == 2 and "habeas db upgrade" in run.stderr
    assert not (tmp_path / "d").exists()
    assert habeas("--data-dir", data, "db", "upgrade", cwd=tmp_path).returncode == 0
    sessions = session_factory(make_engine(f"sqlite:///{tmp_path / 'd' / 'habeas.db'}"))
    with sessions.begin() as s:
        bootstrap_admin(s, "root", "a long admin passphrase")
        create_user(
            s,
            AccessContext("root", "admin", "oversight"),
            "ig1",
            "oversight",
            "a long inspector passphrase",
        )
    for i in range(3):
        with sessions.begin() as s:
            audit.append(
                s,
                user="officer1",
                role="case_officer",
                purpose="case_review",
                action="read_person",
                resources=[f"person:P{i}"],
                decision="allow",
                now=datetime(2026, 11, 2, 9, i, tzinfo=UTC),
            )
    cp = tmp_path / "cp.json"
    assert habeas("--data-dir", data, "audit", "checkpoint", str(cp), cwd=tmp_path).returncode == 0
    run = habeas("--data-dir", data, "audit", "verify", "--checkpoint", str(cp), cwd=tmp_path)
    assert run.returncode == 0 and "audit verify OK: 5 entries" in run.stdout
    run = habeas("--data-dir", data, "audit", "show", "--person", "P1", "--as", "ig1", cwd=tmp_path)
    assert run.returncode == 0 and "person:P1" in run.stdout and "person:P2" not in run.stdout
    run = habeas(
        "--data-dir", data, "audit", "checkpoint", str(tmp_path / "no" / "cp.json"), cwd=tmp_path
    )
    assert run.returncode == 2 and "no folder" in run.stderr and "Traceback" not in run.stderr
    con = sqlite3.connect(tmp_path / "d" / "habeas.db")
    con.execute("UPDATE audit_entries SET user = 'someone_else' WHERE seq = 2")
    con.commit()
    con.close()
    run = habeas("--data-dir", data, "audit", "verify", cwd=tmp_path)
    assert run.returncode == 4 and "FAILED at entry 2" in run.stdout


def test_settings_and_stores_fail_with_one_line_naming_the_fix(tmp_path: Path) -> None:
    run = habeas("--threads", "0", "--data-dir", str(tmp_path), "whoami", cwd=tmp_path)
    assert run.returncode == 2 and "threads" in run.stderr and "Traceback" not in run.stderr
    run = habeas("--data-dir", str(tmp_path), "whoami", cwd=tmp_path, env={"HABEAS_THREADS": "abc"})
    assert run.returncode == 2 and "HABEAS_THREADS" in run.stderr
    run = habeas(
        "--data-dir",
        str(tmp_path),
        "whoami",
        "--as",
        "x",
        cwd=tmp_path,
        env={"HABEAS_DATABASE_URL": "postgresql+psycopg://u:secret@127.0.0.1:1/db"},
    )
    assert run.returncode == 2 and "cannot reach the operational store" in run.stderr
    assert "secret" not in run.stderr and "Traceback" not in run.stderr
    run = habeas("whoami", "--as", "x", cwd=tmp_path)  # the wrong folder: nothing created
    assert run.returncode == 2 and "no operational store at" in run.stderr
    assert not (tmp_path / "habeas-data").exists()


def test_accounts_tokens_whoami_and_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    data = str(tmp_path / "d")
    _accounts(tmp_path / "d")
    run = habeas("--version", cwd=tmp_path)
    assert run.returncode == 0 and version("habeas") in run.stdout
    run = habeas("--data-dir", data, "whoami", "--as", "officer1", cwd=tmp_path)
    assert run.returncode == 0 and "officer1 (case_officer)" in run.stdout
    run = habeas("--data-dir", data, "users", "list", "--as", "root", "--json", cwd=tmp_path)
    assert run.returncode == 0 and '"officer1"' in run.stdout and "argon2" not in run.stdout
    run = habeas("--data-dir", data, "users", "list", "--as", "officer1", cwd=tmp_path)
    assert run.returncode == 3
    run = habeas(
        "--data-dir", data, "users", "add", "x1", "--role", "wizard", "--as", "root", cwd=tmp_path
    )
    assert run.returncode == 2 and "'wizard' is not one of" in run.stderr
    run = habeas(
        "--data-dir",
        data,
        "tokens",
        "create",
        "officer1",
        "--days",
        "7",
        "--as",
        "root",
        cwd=tmp_path,
    )
    assert run.returncode == 0 and "hab_" in run.stdout
    token_id = run.stdout.split()[1]
    run = habeas("--data-dir", data, "tokens", "revoke", token_id, "--as", "root", cwd=tmp_path)
    assert run.returncode == 0 and "revoked" in run.stdout
    run = habeas(
        "--data-dir", data, "cases", "list", "--as", "officer1", "--purpose", "gossip", cwd=tmp_path
    )
    assert run.returncode == 2 and "'gossip' is not one of" in run.stderr
