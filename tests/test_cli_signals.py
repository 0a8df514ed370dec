"""A long job stops cleanly on SIGTERM: within seconds, with one line saying so, and the
stores as they were before it (the old index still the one published)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from habeas.store.staging import StagingStore
from habeas.synth.world import generate_world

pytestmark = pytest.mark.slow


def test_sigterm_stops_a_resolution_within_seconds_leaving_the_old_index(
    tmp_path: Path,
) -> None:
    from conftest import RESOLVE_NOW, ROLES, TODAY, make_app

    from habeas.pipeline import intake_directory
    from habeas.resolve.run import resolve

    world = generate_world(tmp_path / "world", 12_000, seed=5)
    app = make_app(tmp_path / "data", users=ROLES)
    app.close()
    with StagingStore(tmp_path / "data" / "staging.duckdb") as st:
        intake_directory(st, world.out, TODAY)
        resolve(st, RESOLVE_NOW)
        before = st.rows("SELECT run_id FROM resolution_runs ORDER BY ALL")
        linked = st.scalar("SELECT count(*) FROM person_records")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from habeas.cli.main import run; run()",
            "--data-dir",
            str(tmp_path / "data"),
            "resolve",
            "--as",
            "eng1",
            "--purpose",
            "identity_resolution",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # the progress lines
        if "train" in line:
            break
    time.sleep(0.5)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    waited = time.monotonic() - sent
    assert proc.returncode == 143, rest
    assert waited < 10 and "stopped by SIGTERM" in rest
    with StagingStore(tmp_path / "data" / "staging.duckdb") as st:
        assert st.rows("SELECT run_id FROM resolution_runs ORDER BY ALL") == before
        assert st.scalar("SELECT count(*) FROM person_records") == linked
