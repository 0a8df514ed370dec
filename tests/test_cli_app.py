"""The terminal's choices are the library's lists, and `habeas serve` answers over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import get_args

import httpx
import pytest

from habeas.app import choices
from habeas.app.cases.schemas import STATES, STEP_KINDS, step_fields
from habeas.governance.authz import PURPOSES, ROLES


def test_the_cli_choices_are_the_librarys_lists() -> None:
    assert get_args(choices.PurposeName) == PURPOSES
    assert get_args(choices.RoleName) == ROLES
    assert get_args(choices.StateName) == STATES
    assert get_args(choices.StepKind) == STEP_KINDS
    assert get_args(choices.EngineName) == ("duckdb", "spark")


def test_each_step_lists_the_fields_it_takes_and_never_who_or_when() -> None:
    assert "reference" in step_fields("issue_warrant")
    assert "outcome" in step_fields("record_encounter")
    for kind in STEP_KINDS:
        assert not {"actor", "role", "on", "recorded"} & set(step_fields(kind)), kind


@pytest.mark.slow
@pytest.mark.slow  # starts `habeas serve`: not in the fast lane
def test_habeas_serve_answers_over_http_and_refuses_without_credentials(tmp_path: Path) -> None:
    from conftest import make_app

    app = make_app(tmp_path / "d", users={"officer1": "case_officer"})
    token = app.users.create_token(app.users.local("root", "t"), "officer1", "t").secret
    app.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from habeas.cli.main import run; run()",
            "--data-dir",
            str(tmp_path / "d"),
            "serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        r = httpx.get(f"{base}/whoami")
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        r = httpx.get(f"{base}/whoami", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["role"] == "case_officer"
        assert "server-timing" in r.headers and r.headers["cache-control"] == "no-store"
        # X-Forwarded-For is believed from no proxy unless configured: a client naming a
        # new address on every try is still one address, held after 20 failures
        codes = []
        for i in range(21):
            r = httpx.post(
                f"{base}/auth/login",
                json={"username": f"spray{i}", "password": "wrong", "purpose": "case_review"},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            )
            codes.append(r.status_code)
        assert codes[:20] == [401] * 20 and codes[20] == 429, codes
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_store_at_an_older_revision_is_refused_with_the_fix(tmp_path: Path) -> None:
    from habeas.app import Habeas
    from habeas.errors import HabeasError
    from habeas.settings import Settings
    from habeas.store.operational import make_engine, revisions, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'habeas.db'}")
    upgrade(engine, "0003")
    engine.dispose()
    app = Habeas(Settings(data_dir=tmp_path))
    head = revisions()[-1]
    with pytest.raises(HabeasError, match=f"revision 0003 and this habeas needs {head}"):
        app.users.whoami(app.users.local("anyone", "t"))
    app.create_store()
    app.close()
    fresh = Habeas(Settings(data_dir=tmp_path))
    with pytest.raises(HabeasError, match="no active account"):
        fresh.users.whoami(fresh.users.local("anyone", "t"))
    fresh.close()


def test_failed_sign_ins_are_counted_in_the_store_across_processes(tmp_path: Path) -> None:
    """Five wrong passwords through one application lock the account for another (as
    another server process would be) and after a restart; twenty from one address lock
    the address, whatever names it tries."""
    from conftest import make_app

    from habeas.app import Habeas
    from habeas.settings import Settings

    MAX_FAILURES_ACCOUNT = Settings.model_fields["max_failures_account"].default
    MAX_FAILURES_ADDRESS = Settings.model_fields["max_failures_address"].default
    from habeas.errors import HabeasError, TooManyAttempts
    from habeas.settings import Settings

    first = make_app(tmp_path / "d", users={"officer1": "case_officer"})
    for _ in range(MAX_FAILURES_ACCOUNT):
        with pytest.raises(HabeasError):
            first.users.login("officer1", "wrong", "case_review", "10.1.1.1")
    second = Habeas(Settings(data_dir=tmp_path / "d"))  # another process, or a restart
    with pytest.raises(TooManyAttempts):
        second.users.login("officer1", "wrong", "case_review", "10.9.9.9")
    for i in range(MAX_FAILURES_ADDRESS):  # a spray of names from one address
        with pytest.raises(HabeasError):
            second.users.login(f"u{i}", "wrong", "case_review", "10.0.0.7")
    with pytest.raises(TooManyAttempts):
        first.users.login("someone-new", "x", "case_review", "10.0.0.7")
    first.close()
    second.close()
