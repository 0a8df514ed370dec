"""Settings come from arguments and HABEAS_* variables; importing habeas does nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from habeas.settings import Settings


def test_defaults() -> None:
    s = Settings()
    assert s.data_dir == Path("habeas-data")
    assert s.operational_url == "sqlite:///habeas-data/habeas.db"
    assert s.staging_path == Path("habeas-data/staging.duckdb")


def test_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HABEAS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HABEAS_THREADS", "1")
    monkeypatch.setenv("HABEAS_DATABASE_URL", "postgresql+psycopg://h@localhost/habeas")
    s = Settings()
    assert (s.data_dir, s.threads) == (tmp_path, 1)
    assert s.operational_url.startswith("postgresql+psycopg://")


def test_bad_thread_count_is_refused() -> None:
    with pytest.raises(ValueError, match="threads"):
        Settings(threads=0)


def test_importing_every_module_has_no_side_effects(tmp_path: Path) -> None:
    code = (
        "import pkgutil, importlib, habeas\n"
        "for m in pkgutil.walk_packages(habeas.__path__, 'habeas.'):\n"
        "    importlib.import_module(m.name)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_store_held_by_another_process_is_a_clear_error(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from habeas.store.staging import StagingStore; "
            f"s = StagingStore({str(tmp_path / 'st.duckdb')!r}); print('open', flush=True); "
            "time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        from habeas.errors import HabeasError
        from habeas.store.staging import StagingStore

        with pytest.raises(HabeasError, match="cannot open the staging store"):
            StagingStore(tmp_path / "st.duckdb")
    finally:
        holder.kill()
        holder.wait()
