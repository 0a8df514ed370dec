"""Benchmark: generate ~1M records, ingest them with validation and lineage; print rows/s.

Baseline in the same run: DuckDB loading the same files with no validation, no
minimization, no lineage and no quarantine (the floor any ingest has to stand on).
Targets (issue 2): generate 1M records < 60 s; ingest 1M rows <= 15 s on 2 cores.
Usage: python bench/ingest.py [--people N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from habeas.pipeline import intake_directory
from habeas.store.staging import StagingStore
from habeas.synth.world import WORLD_DATE, generate_world


def baseline(world: Path, names: list[str]) -> tuple[int, float]:
    """Plain DuckDB loads of the same files: rows and seconds."""
    con = duckdb.connect(config={"threads": 2})
    rows = 0
    started = time.perf_counter()
    for name in names:
        path = next(p for p in world.glob(f"{name}.*") if p.suffix != ".toml")
        reader = {
            ".csv": f"read_csv('{path}', all_varchar=true, ignore_errors=true"
            + (", delim='|'" if name == "fbi_criminal" else "")
            + ")",
            ".parquet": f"read_parquet('{path}')",
            ".jsonl": f"read_json('{path}', format='newline_delimited', ignore_errors=true)",
        }[path.suffix]
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {reader}")
        rows += con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # type: ignore[index]
    return rows, time.perf_counter() - started


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=166_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="habeas-bench-"))
    world_dir = root / "world"

    started = time.perf_counter()
    summary = generate_world(world_dir, args.people, args.seed)
    generated = time.perf_counter() - started
    total = sum(summary.records.values())
    print(
        f"synth     {args.people:,} people -> {total:,} records in {generated:.1f} s "
        f"({total / generated:,.0f} records/s; target: 1M records < 60 s)"
    )

    today = WORLD_DATE + timedelta(days=30)
    store = StagingStore(root / "staging.duckdb", threads=2)
    started = time.perf_counter()
    report = intake_directory(store, world_dir, today)
    elapsed = time.perf_counter() - started
    rows = sum(r.rows_read for r in report.results)
    accepted = sum(r.rows_accepted for r in report.results)
    print(
        f"ingest    {rows:,} rows ({accepted:,} staged, {rows - accepted:,} quarantined) "
        f"in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s "
        f"(target: 1M rows <= 15 s = 66,667 rows/s)"
    )
    for r in sorted(report.results, key=lambda r: -r.rows_read):
        print(
            f"          {r.source:<16} {r.rows_read:>9,} rows {r.seconds:6.2f} s "
            f"{r.rows_read / max(r.seconds, 1e-9):>10,.0f} rows/s"
        )
    store.close()

    names = [r.source for r in report.results]
    base_rows, base_s = baseline(world_dir, names)
    print(
        f"baseline  plain DuckDB load of the same files, no checks: {base_rows:,} rows "
        f"in {base_s:.1f} s = {base_rows / base_s:,.0f} rows/s"
    )
    print(f"ratio     habeas ingest / plain load = {elapsed / base_s:.2f}x")


if __name__ == "__main__":
    main()
