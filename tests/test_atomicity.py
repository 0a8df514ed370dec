"""A crash at any moment leaves the store as before the batch or after it, never half."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest

from habeas.sources.ingest import ingest
from habeas.sources.registry import register
from habeas.store.staging import StagingStore
from habeas.synth.world import generate_world

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date
    from pathlib import Path
    from habeas.sources.ingest import ingest
    from habeas.store.staging import StagingStore

    store_path, source, data, kill_at = sys.argv[1:5]
    def progress(stage, share):
        if stage == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    store = StagingStore(Path(store_path))
    ingest(store, source, Path(data), date.fromisoformat(sys.argv[5]), progress=progress)
    """
)


@pytest.fixture(scope="module")
def big_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("big")
    generate_world(out, 12_000, seed=5)
    return out


def _prepare(tmp_path: Path, world: Path, today: date) -> Path:
    store_path = tmp_path / "staging.duckdb"
    with StagingStore(store_path) as store:
        assert register(store, world / "clear_broker.toml", today).accepted
    return store_path


def _state(store_path: Path) -> tuple[int, int, int, int]:
    with StagingStore(store_path) as store:
        batches = store.rows(
            "SELECT coalesce(sum(rows_accepted), 0), coalesce(sum(rows_quarantined), 0), "
            "coalesce(sum(values_set_aside), 0), count(*) FROM batches"
        )
        records = store.scalar("SELECT count(*) FROM records")
        quarantined_rows, set_aside_values = store.rows(
            "SELECT count(DISTINCT row_number) FILTER (WHERE disposition = 'row refused'), "
            "count(*) FILTER (WHERE disposition <> 'row refused') FROM quarantine"
        )[0]
    accepted, quarantined, set_aside, n = batches[0]
    assert records == accepted, "records without their batch, or a batch without its records"
    assert quarantined_rows == quarantined
    assert set_aside_values == set_aside, "values set aside without their batch, or lost"
    return int(n), int(records), int(quarantined_rows), int(accepted)


def _run(store_path: Path, world: Path, kill_at: str, today: date) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(store_path),
            "clear_broker",
            str(world / "clear_broker.csv"),
            kill_at,
            today.isoformat(),
        ]
    )


def test_kill_just_before_commit_leaves_store_as_before(
    tmp_path: Path, big_world: Path, today: date
) -> None:
    store_path = _prepare(tmp_path, big_world, today)
    proc = _run(store_path, big_world, "commit", today)
    assert proc.wait(timeout=120) == -signal.SIGKILL
    assert _state(store_path) == (0, 0, 0, 0)
    # and the batch can simply be run again, completely
    with StagingStore(store_path) as store:
        result = ingest(store, "clear_broker", big_world / "clear_broker.csv", today)
    assert not result.already_ingested and result.rows_accepted > 10_000
    assert _state(store_path)[0] == 1


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.3, 1.8, 2.5])
def test_kill_at_any_moment_leaves_all_or_nothing(
    tmp_path: Path, big_world: Path, today: date, delay: float
) -> None:
    store_path = _prepare(tmp_path, big_world, today)
    proc = _run(store_path, big_world, "never", today)
    time.sleep(delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=120)
    batches, records, _, _ = _state(store_path)
    assert batches in (0, 1)
    assert (records == 0) == (batches == 0)
