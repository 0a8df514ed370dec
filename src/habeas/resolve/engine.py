"""Run Splink on the resolver's input: train, predict, and score pairs on request.

DuckDB is the default engine; Spark (local mode here, a cluster in production) runs the
same model through Splink's Spark backend. Both read the input table prepared by
``normalize.prepare`` and hand back Arrow tables, so the rest of habeas never sees which.
Spark reads that table as a Parquet file and writes the scored pairs back as Parquet
files: no record is copied through the driver.
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from habeas.errors import HabeasError
from habeas.resolve import model

Engine = Literal["duckdb", "spark"]

U_SAMPLE_PAIRS = 2_000_000
TRAIN_SAMPLE = 250_000
"""Records the model is trained on; a sample keeps the share of matching pairs (both
scale with its square) and training time flat beyond it. Scoring uses every record."""
DETERMINISTIC_RECALL = 0.7
SEED = 7

PAIR_COLUMNS = "unique_id_l, unique_id_r, match_weight, match_probability"


@dataclass
class Scored:
    """What one engine run gives back: the scored pairs and the trained model."""

    pairs: pa.Table
    model_json: str


def quiet_splink() -> None:
    """Keep Splink's progress chatter out of habeas's output (errors still show)."""
    logging.getLogger("splink").setLevel(logging.ERROR)


def _spark_session() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise HabeasError(
            "the Spark engine needs the spark extra: pip install 'habeas[spark]' (or "
            "`make test`, which installs it), and a Java runtime "
            "(`bash scripts/ensure-system.sh spark`)"
        ) from None
    from splink.backends.spark import similarity_jar_location

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise HabeasError(
            "the Spark engine needs a Java runtime and none was found: run "
            "`bash scripts/ensure-system.sh spark` (it installs one) or set JAVA_HOME"
        )
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("habeas-resolve")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="habeas-spark-"))
    return spark


_TABLES = itertools.count(1)
_SPARK_IO: list[Path] = []


def _spark_io() -> Path:
    """A folder for the Parquet files Spark reads and writes, removed at exit."""
    if not _SPARK_IO:
        folder = Path(tempfile.mkdtemp(prefix="habeas-spark-io-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _SPARK_IO.append(folder)
    return _SPARK_IO[0]


def _to_parquet(con: duckdb.DuckDBPyConnection, table: str) -> Path:
    """Write ``table`` as a Parquet file for Spark to read (DuckDB's own writer)."""
    path = _spark_io() / f"{table}_{next(_TABLES)}.parquet"
    con.execute(f"COPY {table} TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    return path


def _linker(
    con: duckdb.DuckDBPyConnection, settings: Any, engine: Engine, table: str = "resolve_input"
) -> Any:
    from splink import DuckDBAPI, Linker

    quiet_splink()
    if engine == "duckdb":
        db_api = DuckDBAPI(connection=con)
        frame = db_api.register(table, table_name=f"records_in_{next(_TABLES)}")
        return Linker(frame, settings, log_level=None)
    spark = _spark_session()  # says what to install when pyspark is missing
    from splink import SparkAPI

    sdf = spark.read.parquet(str(_to_parquet(con, table)))  # no copy through the driver
    spark_api = SparkAPI(spark_session=spark, num_partitions_on_repartition=4)  # type: ignore[no-untyped-call]
    frame = spark_api.register(sdf, table_name=f"records_in_{next(_TABLES)}")
    return Linker(frame, settings, log_level=None)


def _pairs(linker: Any, floor: float, engine: Engine) -> pa.Table:
    predictions = linker.inference.predict(threshold_match_probability=floor)
    if engine == "duckdb":
        table = predictions.as_duckdbpyrelation().select(PAIR_COLUMNS).to_arrow_table()
    else:  # Spark writes the pairs as Parquet files; they are read back in one piece
        import pyarrow.parquet as pq

        out = _spark_io() / f"pairs_{next(_TABLES)}"
        predictions.as_spark_dataframe().select(*PAIR_COLUMNS.split(", ")).write.parquet(str(out))
        table = pq.read_table(out)
        shutil.rmtree(out, ignore_errors=True)
    predictions.drop_table_from_database_and_remove_from_cache()
    return table


def column_shares(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Share of input records with a value, per input column."""
    cols = sorted({c for f in model.FEATURES for c in f.columns})
    exprs = ", ".join(f"avg(({c} IS NOT NULL)::INT) AS {c}" for c in cols)
    row = con.execute(f"SELECT {exprs} FROM resolve_input").fetchall()[0]
    return {c: float(v or 0.0) for c, v in zip(cols, row, strict=True)}


def train_and_score(con: duckdb.DuckDBPyConnection, floor: float, engine: Engine) -> Scored:
    """Train the model on ``resolve_input`` (u by sampling, EM by blocks, prior by rules)."""
    features = model.present_features(column_shares(con))
    if not any(f.name in ("given", "family") for f in features):
        raise HabeasError("no names in the staged records: nothing to resolve on")
    n = int(con.execute("SELECT count(*) FROM resolve_input").fetchall()[0][0])
    every = max(1, round(n / TRAIN_SAMPLE))  # a fixed share of records, chosen by id hash
    con.execute(
        f"""CREATE OR REPLACE TABLE train_input AS SELECT * FROM resolve_input
            WHERE {every} = 1 OR hash(unique_id) % {every} = 0"""
    )
    linker = _linker(con, model.settings(features), engine, "train_input")
    train = linker.training
    train.estimate_probability_two_random_records_match(
        model.deterministic_rules(features), recall=DETERMINISTIC_RECALL
    )
    train.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=SEED)
    for block in model.training_blocks(features):
        train.estimate_parameters_using_expectation_maximisation(
            block, fix_probability_two_random_records_match=False
        )
    trained = bounded(identifiers_grounded(con, linker.misc.save_model_to_json()))
    con.execute("DROP TABLE train_input")
    model_json = json.dumps(trained, sort_keys=True)
    linker = _linker(con, trained, engine)
    return Scored(_pairs(linker, floor, engine), model_json)


M_FLOOR = 0.005
"""No level is taken as impossible for a true match: typos, moves and data entry happen."""


def bounded(trained: dict[str, Any]) -> dict[str, Any]:
    """The trained model with every m probability at least ``M_FLOOR``.

    EM can drive a level's m to ~0 when few true matches reach it in the training
    blocks, giving a weight of -300 that no other evidence can outweigh.
    """
    for comp in trained["comparisons"]:
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m = level.get("m_probability")
            if m is None or m < M_FLOOR:
                level["m_probability"] = M_FLOOR
    return trained


IDENTIFIER_PRIOR_M = (0.95, 0.03, 0.02)
"""m for exact / near / other when EM could not learn an identifier (exact, near, else)."""


def identifiers_grounded(con: duckdb.DuckDBPyConnection, trained: dict[str, Any]) -> dict[str, Any]:
    """Identifier levels with u computed from the data and m kept sane.

    Random sampling almost never draws two records sharing an A-number at a million
    records, so u for "exact" stays untrained; it is exactly the chance that two random
    records with the identifier share it: sum of squared value shares. Where EM saw too
    few pairs carrying the identifier on both sides (m of "exact" under one half, or of
    "other" over one half), the identifier's m falls back to ``IDENTIFIER_PRIOR_M``.
    """
    names = {i for i in model.STRONG_IDENTIFIERS} | {"phone"}
    for comp in trained["comparisons"]:
        col = comp["output_column_name"]
        if col not in names:
            continue
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        u_exact = con.execute(
            f"""SELECT coalesce(sum(n * n) / (sum(n) * sum(n)), 0) FROM
                (SELECT count(*)::DOUBLE AS n FROM resolve_input WHERE {col} IS NOT NULL
                 GROUP BY {col})"""
        ).fetchall()[0][0]
        u_exact = max(float(u_exact or 0.0), 1e-9)
        exact, others = levels[0], levels[1:]
        near = others[:-1]
        exact["u_probability"] = u_exact
        for lv in near:
            if not lv.get("u_probability"):
                lv["u_probability"] = min(30 * u_exact, 0.01)
        others[-1]["u_probability"] = max(
            1.0 - u_exact - sum(lv["u_probability"] for lv in near), 0.5
        )
        m_exact = exact.get("m_probability") or 0.0
        m_else = others[-1].get("m_probability") or 1.0
        if m_exact < 0.5 or m_else > 0.5:
            prior = IDENTIFIER_PRIOR_M
            exact["m_probability"] = prior[0]
            for lv in near:
                lv["m_probability"] = prior[1]
            others[-1]["m_probability"] = prior[2] if near else prior[1] + prior[2]
    return trained


def score(con: duckdb.DuckDBPyConnection, model_json: str, floor: float, engine: Engine) -> Scored:
    """Score ``resolve_input`` with an already trained model (no training)."""
    linker = _linker(con, json.loads(model_json), engine)
    return Scored(_pairs(linker, floor, engine), model_json)


LABEL_PRIOR_PAIRS = 100
"""The trained model weighs as much as this many labelled pairs when reviewers' labels
re-estimate m: a few decisions nudge the model, many move it."""


@dataclass
class Learned:
    """A model re-estimated from reviewers' decisions, and what changed in it."""

    model_json: str
    labels: int
    changes: list[str]


def learn_from_labels(
    con: duckdb.DuckDBPyConnection, model_json: str, same: list[tuple[str, str]]
) -> Learned:
    """Re-estimate each comparison level's m from pairs reviewers decided are one person.

    Splink estimates m from the labelled pairs (``estimate_m_from_pairwise_labels``);
    each level's new m is that estimate blended with the trained one, the model counting
    as ``LABEL_PRIOR_PAIRS`` labels, then renormalised over the comparison's levels and
    kept at least ``M_FLOOR``. u is not touched: labels say how true matches look, not
    how random pairs do. ``changes`` lists every level whose m moved by 0.01 or more.
    """
    trained = json.loads(model_json)
    labels = pa.table(  # noqa: F841 - read by DuckDB
        {"unique_id_l": [a for a, _ in same], "unique_id_r": [b for _, b in same]},
        schema=pa.schema([("unique_id_l", pa.string()), ("unique_id_r", pa.string())]),
    )
    con.execute("CREATE OR REPLACE TABLE review_labels AS SELECT * FROM labels")
    linker = _linker(con, trained, "duckdb")
    linker.training.estimate_m_from_pairwise_labels("review_labels")
    estimated = linker.misc.save_model_to_json()
    con.execute("DROP TABLE review_labels")
    n, k = len(same), LABEL_PRIOR_PAIRS
    changes: list[str] = []
    for old_c, new_c in zip(trained["comparisons"], estimated["comparisons"], strict=True):
        pairs = [
            (lo, ln)
            for lo, ln in zip(old_c["comparison_levels"], new_c["comparison_levels"], strict=True)
            if not lo.get("is_null_level")
        ]
        before = [float(lo.get("m_probability") or M_FLOOR) for lo, _ in pairs]
        mixed = [
            (n * float(ln.get("m_probability") or 0.0) + k * m) / (n + k)
            for (_, ln), m in zip(pairs, before, strict=True)
        ]
        total = sum(mixed) or 1.0
        for (lo, _), m_old, m in zip(pairs, before, mixed, strict=True):
            m_new = max(m / total, M_FLOOR)
            lo["m_probability"] = m_new
            if abs(m_new - m_old) >= 0.01:
                changes.append(
                    f"{old_c['output_column_name']}: {lo.get('label_for_charts', '?')} "
                    f"m {m_old:.3f} → {m_new:.3f}"
                )
    return Learned(json.dumps(trained, sort_keys=True), n, changes)


def _tf_columns(settings: dict[str, Any]) -> list[str]:
    return sorted(
        {
            level["tf_adjustment_column"]
            for comp in settings["comparisons"]
            for level in comp["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
    )


def score_new(
    con: duckdb.DuckDBPyConnection, model_json: str, new_table: str, floor: float
) -> pa.Table:
    """Pairs between records of ``new_table`` and all of ``resolve_input`` (DuckDB engine).

    ``resolve_input`` must already hold the new records too. Candidate pairs come from
    the model's own blocking rules, each joined with the small new table on one side
    (a hash join, never a pass over all pairs of the index); Splink then scores exactly
    those pairs, with term frequencies taken from the whole index.
    """
    from splink import DuckDBAPI
    from splink.internals.realtime import compare_records

    quiet_splink()
    settings = json.loads(model_json)
    rules = [
        br["blocking_rule"] if isinstance(br, dict) else str(br)
        for br in settings["blocking_rules_to_generate_predictions"]
    ]
    candidates = " UNION ".join(
        f"""SELECT least(l.unique_id, r.unique_id) AS a, greatest(l.unique_id, r.unique_id) AS b
            FROM {new_table} l JOIN resolve_input r ON ({rule})
            WHERE l.unique_id <> r.unique_id"""
        for rule in rules
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE new_pairs AS
            SELECT row_number() OVER (ORDER BY a, b) AS pair_id, a, b FROM ({candidates})"""
    )
    tf_cols = _tf_columns(settings)
    tf_joins = " ".join(
        f"""LEFT JOIN (SELECT {c} AS v, count(*) / sum(count(*)) OVER () AS tf_{c}
                       FROM resolve_input WHERE {c} IS NOT NULL GROUP BY {c}) t_{c}
              ON t_{c}.v = i.{c}"""
        for c in tf_cols
    )
    tf_select = "".join(f", t_{c}.tf_{c}" for c in tf_cols)
    for side in ("a", "b"):
        con.execute(
            f"""CREATE OR REPLACE TABLE new_side_{side} AS
                SELECT p.pair_id, i.*{tf_select} FROM new_pairs p
                JOIN resolve_input i ON i.unique_id = p.{side} {tf_joins}"""
        )
    db_api = DuckDBAPI(connection=con)
    scored = compare_records(
        con.table("new_side_a"),
        con.table("new_side_b"),
        settings,
        db_api,
        join_condition="l.pair_id = r.pair_id",
    )
    table = (
        scored.as_duckdbpyrelation()
        .filter(f"match_probability >= {float(floor)}")
        .select(PAIR_COLUMNS)
        .to_arrow_table()
    )
    for t in ("new_pairs", "new_side_a", "new_side_b"):
        con.execute(f"DROP TABLE {t}")
    return table


def compare_tables(con: duckdb.DuckDBPyConnection, model_json: str, table: str) -> dict[str, Any]:
    """Every column Splink computes for the two rows of ``table`` (already in the scored
    schema, with their ``tf_*`` columns)."""
    from splink import DuckDBAPI
    from splink.internals.realtime import compare_records

    quiet_splink()
    rows = con.sql(f"SELECT * FROM {table}").to_arrow_table()
    out = compare_records(rows.slice(0, 1), rows.slice(1, 1), json.loads(model_json), DuckDBAPI())
    result: dict[str, Any] = out.as_duckdbpyrelation().to_arrow_table().to_pylist()[0]
    return result


def compare_two(
    con: duckdb.DuckDBPyConnection, model_json: str, left: str, right: str
) -> dict[str, Any]:
    """Every column Splink computes for one pair: levels, Bayes factors, total weight.

    Term frequencies are read from all of ``resolve_input`` in ``con``, as at scoring.
    """
    from splink import DuckDBAPI
    from splink.internals.realtime import compare_records

    quiet_splink()
    settings = json.loads(model_json)
    tf_columns = sorted(
        {
            level["tf_adjustment_column"]
            for comp in settings["comparisons"]
            for level in comp["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
    )
    rows = {
        r["unique_id"]: r
        for r in con.sql(  # bound parameters: record ids come from the user
            "SELECT * FROM resolve_input WHERE unique_id IN ($left, $right)",
            params={"left": left, "right": right},
        )
        .to_arrow_table()
        .to_pylist()
    }
    missing = [x for x in (left, right) if x not in rows]
    if missing:
        raise HabeasError(f"no resolved record with id {missing[0]}")
    for rec in rows.values():
        for col in tf_columns:
            value = rec.get(col)
            tf = None
            if value is not None:
                tf = con.execute(
                    f"SELECT count(*) FILTER (WHERE {col} = ?) / count({col}) FROM resolve_input",
                    [value],
                ).fetchall()[0][0]
            rec[f"tf_{col}"] = tf
    schema = con.sql("SELECT * FROM resolve_input LIMIT 0").to_arrow_table().schema
    for col in tf_columns:
        schema = schema.append(pa.field(f"tf_{col}", pa.float64()))
    tables = [pa.Table.from_pylist([rows[x]], schema=schema) for x in (left, right)]
    out = compare_records(tables[0], tables[1], settings, DuckDBAPI())
    result: dict[str, Any] = out.as_duckdbpyrelation().to_arrow_table().to_pylist()[0]
    return result
