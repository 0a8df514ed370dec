"""The Spark engine (Splink's Spark backend, local mode) gives the DuckDB engine's clusters."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from habeas.pipeline import intake_directory
from habeas.resolve.run import resolve
from habeas.store.staging import StagingStore
from habeas.synth.world import generate_world

pytestmark = [pytest.mark.slow, pytest.mark.spark]


def test_spark_and_duckdb_give_the_same_clusters(
    tmp_path: Path, today: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    from habeas.resolve import engine as eng

    written: list[Path] = []
    to_parquet = eng._to_parquet

    def spy(con, table):  # type: ignore[no-untyped-def]
        path = to_parquet(con, table)
        written.append(path)
        return path

    def no_driver_copy(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("records copied through the Spark driver")

    monkeypatch.setattr(eng, "_to_parquet", spy)
    real_create = SparkSession.createDataFrame

    def create(self, data, *args, **kwargs):  # type: ignore[no-untyped-def]
        if hasattr(data, "columns") and "unique_id" in getattr(data, "columns", []):
            no_driver_copy()
        return real_create(self, data, *args, **kwargs)

    monkeypatch.setattr(SparkSession, "createDataFrame", create)
    if shutil.which("java") is None:
        pytest.fail("no Java runtime: `bash scripts/ensure-system.sh spark` installs one")
    world = generate_world(tmp_path / "world", 300, seed=3)
    base = tmp_path / "base.duckdb"
    with StagingStore(base) as st:
        intake_directory(st, world.out, today)
    shutil.copy(base, tmp_path / "spark.duckdb")
    now = datetime(2026, 11, 1)
    mappings = {}
    for engine, path in (("duckdb", base), ("spark", tmp_path / "spark.duckdb")):
        with StagingStore(path) as st:
            result = resolve(st, now, engine=engine)  # type: ignore[arg-type]
            assert result.engine == engine
            mappings[engine] = dict(st.rows("SELECT record_id, person_id FROM person_records"))
            runs = st.rows("SELECT engine FROM resolution_runs")
            assert runs == [(engine,)]
    assert len(mappings["duckdb"]) > 1500  # the 300-person world stages ~1,800 records
    assert mappings["spark"] == mappings["duckdb"]
    # the Spark path read the prepared records (training sample and full input) as Parquet
    assert [p.name.split("_")[0] for p in written] == ["train", "resolve"]


def test_spark_without_java_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from habeas.errors import HabeasError
    from habeas.resolve import engine

    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(HabeasError, match="needs a Java runtime"):
        engine._spark_session()
