"""The master person index on a small synthetic world: accuracy, stable ids, review,
unmerge, incremental linking and explanations that add up."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from habeas.app import Habeas
from habeas.app.audit_log import verify_store
from habeas.errors import HabeasError
from habeas.resolve.explain import explain_pair
from habeas.resolve.export import export_clusters
from habeas.resolve.quality import evaluate_index
from habeas.resolve.review import decide, undo_unmerge, unmerge
from habeas.resolve.run import MATCH_THRESHOLD, resolve, resolve_incremental
from habeas.store.staging import StagingStore
from habeas.synth.world import WorldSummary

NOW = datetime(2026, 11, 2, 10, 0)


def _mapping(st: StagingStore) -> dict[str, str]:
    return dict(st.rows("SELECT record_id, person_id FROM person_records"))


def test_index_is_accurate_against_the_worlds_truth(
    index: StagingStore, world: WorldSummary
) -> None:
    ev = evaluate_index(index, world.out / "truth.parquet")
    staged = index.scalar("SELECT count(*) FROM records")
    assert ev.scores.records == staged  # every staged record is in the index
    assert ev.scores.pair_precision > 0.98
    assert ev.scores.pair_recall > 0.93
    assert ev.scores.bcubed_f1 > 0.96
    assert ev.blocking_recall > 0.9


def test_rerun_on_the_same_data_gives_the_same_ids(index: StagingStore) -> None:
    before = _mapping(index)
    resolve(index, NOW)  # retrains from scratch
    assert _mapping(index) == before
    resolve(index, NOW, reuse_model=True)
    assert _mapping(index) == before


def test_ids_survive_new_data(tmp_path: Path, world: WorldSummary, today: date) -> None:
    from habeas.pipeline import intake_directory
    from habeas.sources.ingest import ingest

    held_back = world.out / "dmv_licenses.toml"
    partial = tmp_path / "partial"
    partial.mkdir()
    for f in world.out.iterdir():
        if f.stem != "dmv_licenses" and f.suffix in (".toml", ".csv", ".jsonl", ".parquet"):
            (partial / f.name).write_bytes(f.read_bytes())
    with StagingStore(tmp_path / "s.duckdb") as st:
        intake_directory(st, partial, today)
        resolve(st, NOW)
        before = _mapping(st)
        persons_before = set(before.values())
        from habeas.sources.registry import register

        register(st, held_back, today)
        ingest(st, "dmv_licenses", world.out / "dmv_licenses.parquet", today)
        resolve(st, NOW)
        after = _mapping(st)
    kept = sum(1 for r, p in before.items() if after[r] == p)
    assert kept / len(before) > 0.97  # most persons keep their id
    assert len(set(after.values()) & persons_before) / len(persons_before) > 0.97
    assert len(after) > len(before)


def test_incremental_links_new_records_without_touching_old_links(
    tmp_path: Path, world: WorldSummary, today: date
) -> None:
    from habeas.pipeline import intake_directory
    from habeas.resolve.quality import load_truth
    from habeas.sources.ingest import ingest
    from habeas.sources.registry import register

    partial = tmp_path / "partial"
    partial.mkdir()
    for f in world.out.iterdir():
        if f.stem != "dmv_licenses":
            (partial / f.name).write_bytes(f.read_bytes())
    with StagingStore(tmp_path / "s.duckdb") as st:
        intake_directory(st, partial, today)
        resolve(st, NOW)
        before = _mapping(st)
        register(st, world.out / "dmv_licenses.toml", today)
        ingest(st, "dmv_licenses", world.out / "dmv_licenses.parquet", today)
        result = resolve_incremental(st, NOW)
        after = _mapping(st)
        load_truth(st.con, world.out / "truth.parquet")
        truth = dict(st.rows("SELECT record_id, true_id FROM truth"))
        again = resolve_incremental(st, NOW)
    new = [r for r in after if r not in before]
    assert result.new_records == len(new) > 0
    assert all(after[r] == p for r, p in before.items())  # old links untouched
    # a new record is placed right when its person holds the record's true mates
    members: dict[str, set[str]] = {}
    for r, p in after.items():
        members.setdefault(p, set()).add(r)
    right = 0
    for r in new:
        mates = {x for x in members[after[r]] if x != r}
        true_mates = {x for x in truth if truth[x] == truth[r] and x != r and x in after}
        if (mates and mates <= true_mates) or (not mates and not (true_mates & set(before))):
            right += 1
    assert right / len(new) > 0.9
    assert again.new_records == 0


def _linked_pair(st: StagingStore) -> tuple[str, str]:
    a, b = st.rows(
        f"""SELECT m.record_id_l, m.record_id_r FROM match_pairs m
            JOIN person_records l ON l.record_id = m.record_id_l
            JOIN person_records r ON r.record_id = m.record_id_r
            WHERE l.person_id = r.person_id AND m.match_probability >= {MATCH_THRESHOLD}
            ORDER BY m.match_probability DESC, 1, 2 LIMIT 1"""
    )[0]
    return a, b


def test_different_decision_overrides_the_model_and_a_later_same_warns(
    index: StagingStore,
) -> None:
    a, b = _linked_pair(index)
    decide(index.con, a, b, "different", "rev1", "documents show two siblings", NOW)
    resolve(index, NOW, reuse_model=True)
    m = _mapping(index)
    assert m[a] != m[b]
    rec = decide(index.con, a, b, "same", "rev2", "siblings claim was a clerical error", NOW)
    assert rec.warnings and "conflicts with an earlier decision" in rec.warnings[0]
    resolve(index, NOW, reuse_model=True)
    m = _mapping(index)
    assert m[a] == m[b]


def test_same_decision_joins_a_review_pair(index: StagingStore) -> None:
    rows = index.rows(
        "SELECT record_id_l, record_id_r FROM review_queue ORDER BY match_probability DESC LIMIT 1"
    )
    assert rows, "the small world should leave something to review"
    a, b = rows[0]
    assert _mapping(index)[a] != _mapping(index)[b]
    decide(index.con, a, b, "same", "rev1", "same A-number on the paper file", NOW)
    resolve(index, NOW, reuse_model=True)
    m = _mapping(index)
    assert m[a] == m[b]
    assert (
        index.scalar(
            "SELECT count(*) FROM review_queue WHERE record_id_l = ? AND record_id_r = ?", [a, b]
        )
        == 0
    )
    how = index.scalar("SELECT how FROM person_records WHERE record_id = ?", [a])
    assert how in ("reviewer", "model")


def test_unmerge_and_its_undo_are_recorded_and_applied(index: StagingStore) -> None:
    (person,) = index.rows(
        "SELECT person_id FROM persons WHERE records >= 4 ORDER BY person_id LIMIT 1"
    )[0]
    members = sorted(
        r
        for (r,) in index.rows("SELECT record_id FROM person_records WHERE person_id = ?", [person])
    )
    split_off = members[:1]
    rec = unmerge(index.con, person, split_off, "rev1", "different father's name on file", NOW)
    resolve(index, NOW, reuse_model=True)
    m = _mapping(index)
    assert all(m[split_off[0]] != m[r] for r in members[1:])
    assert m[members[1]] == person  # the larger part keeps the id
    undo = undo_unmerge(index.con, rec.decision_id, "rev2", "father's name was misread", NOW)
    resolve(index, NOW, reuse_model=True)
    m = _mapping(index)
    assert len({m[r] for r in members}) == 1
    kinds = index.rows("SELECT kind, undone_by FROM review_decisions ORDER BY decision_id")
    assert kinds == [("unmerge", undo.decision_id), ("undo", None)]
    with pytest.raises(HabeasError, match="already undone"):
        undo_unmerge(index.con, rec.decision_id, "rev2", "twice over again", NOW)


def test_review_input_is_checked(index: StagingStore) -> None:
    a, b = _linked_pair(index)
    with pytest.raises(HabeasError, match="decision must be one of"):
        decide(index.con, a, b, "maybe", "rev", "no idea at all", NOW)
    with pytest.raises(HabeasError, match="needs a reason"):
        decide(index.con, a, b, "same", "rev", "", NOW)
    with pytest.raises(HabeasError, match="no staged record"):
        decide(index.con, a, "rNOPE", "same", "rev", "a good reason", NOW)
    with pytest.raises(HabeasError, match="both sides"):
        person = index.scalar("SELECT person_id FROM person_records WHERE record_id = ?", [a])
        everyone = [
            r
            for (r,) in index.rows(
                "SELECT record_id FROM person_records WHERE person_id = ?", [person]
            )
        ]
        unmerge(index.con, person, everyone, "rev", "split it all off", NOW)


def test_explanation_adds_up_to_the_scored_weight(index: StagingStore) -> None:
    pairs = index.rows(
        """SELECT record_id_l, record_id_r, match_weight FROM match_pairs
           ORDER BY hash(record_id_l || record_id_r) LIMIT 5"""
    )
    assert len(pairs) == 5
    for a, b, weight in pairs:
        e = explain_pair(index, a, b)
        assert e.match_weight == pytest.approx(weight, abs=1e-6)
        assert e.total == pytest.approx(weight, abs=1e-6)
        assert any(s.weight != 0 for s in e.steps)
    with pytest.raises(HabeasError, match="not in the index"):
        explain_pair(index, pairs[0][0], "rNOPE")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_clusters(index: StagingStore, tmp_path: Path, suffix: str) -> None:
    import duckdb

    out = tmp_path / f"clusters{suffix}"
    n = export_clusters(index, out)
    rows = duckdb.sql(f"SELECT * FROM '{out}'").fetchall()
    assert len(rows) == n == index.scalar("SELECT count(*) FROM records")
    mapping = _mapping(index)
    assert all(mapping[r[2]] == r[3] for r in rows)
    with pytest.raises(HabeasError, match=r"\.csv or \.parquet"):
        export_clusters(index, tmp_path / "clusters.xlsx")


def test_truth_file_errors_name_the_problem(index: StagingStore, tmp_path: Path) -> None:
    bad = tmp_path / "truth.csv"
    bad.write_text("id,who\n1,2\n")
    with pytest.raises(HabeasError, match="person_id"):
        evaluate_index(index, bad)
    with pytest.raises(HabeasError, match="no such truth file"):
        evaluate_index(index, tmp_path / "missing.csv")


def test_person_view_shows_records_links_flags_and_decisions(indexed_app: Habeas) -> None:
    from sqlalchemy import func, select

    from habeas.errors import NotFound
    from habeas.store.models import IndexFlag, IndexRecord

    app = indexed_app
    with app.sessions() as s:
        person = (
            s.execute(
                select(IndexFlag.person_id)
                .where(IndexFlag.flag == "citizenship")
                .order_by(IndexFlag.person_id)
            )
            .scalars()
            .first()
        )
        n = s.execute(
            select(func.count()).select_from(IndexRecord).where(IndexRecord.person_id == person)
        ).scalar_one()
    engineer = app.users.local("eng1", "test")
    officer = app.users.local("officer1", "test")
    view = app.index.person(officer, "case_review", person)
    assert len(view.records) + view.withheld == n
    flagged = next(f for f in view.flags if f.flag == "citizenship")
    assert set(flagged.record_ids) <= {r.record_id for r in view.records}
    a, b = (r.record_id for r in view.records[:2])
    app.index.decide(engineer, "identity_resolution", a, b, "same", "checked the paper file")
    assert [d.reason for d in app.index.person(officer, "case_review", person).decisions] == [
        "checked the paper file"
    ]
    with pytest.raises(NotFound, match="no person"):
        app.index.person(officer, "case_review", "PNOPE")
    # the pair's explanation from the published index adds up to its match weight
    e = app.index.explain(engineer, "identity_resolution", a, b)
    assert (
        abs(e.prior_weight + sum(x.weight + x.tf_adjustment for x in e.steps) - e.match_weight)
        < 1e-6
    )
    assert e.decision is not None and "checked the paper file" in e.decision
    # the same waterfall as the batch engine computes from its own tables
    from habeas.resolve.explain import explain_pair

    with app.staging() as st:
        batch = explain_pair(st, a, b)
    assert [
        (x.comparison, x.level, round(x.weight, 9), round(x.tf_adjustment, 9)) for x in e.steps
    ] == [
        (x.comparison, x.level, round(x.weight, 9), round(x.tf_adjustment, 9)) for x in batch.steps
    ]
    assert abs(e.match_weight - batch.match_weight) < 1e-9


def test_incremental_respects_an_unmerge(index: StagingStore) -> None:
    person = index.scalar(
        "SELECT person_id FROM persons WHERE records >= 3 ORDER BY person_id LIMIT 1"
    )
    members = sorted(
        r
        for (r,) in index.rows("SELECT record_id FROM person_records WHERE person_id = ?", [person])
    )
    split_off = members[-1]
    unmerge(index.con, person, [split_off], "rev1", "a different person, same name", NOW)
    # the record arrives again as if new: incremental must not attach it to the person
    index.con.execute("DELETE FROM resolve_input WHERE unique_id = ?", [split_off])
    index.con.execute("DELETE FROM person_records WHERE record_id = ?", [split_off])
    result = resolve_incremental(index, NOW)
    assert result.new_records == 1
    assert _mapping(index)[split_off] != person


def test_reading_a_person_withholds_records_whose_source_does_not_declare_the_purpose(
    indexed_app: Habeas,
) -> None:
    from sqlalchemy import select

    from habeas.errors import AccessDenied, Unauthenticated
    from habeas.store.models import IndexRecord

    app = indexed_app
    with app.sessions() as s:
        rows = s.execute(select(IndexRecord.person_id, IndexRecord.source)).all()
    by_person: dict[str, set[str]] = {}
    for pid, src in rows:
        by_person.setdefault(pid, set()).add(src)
    person = min(p for p, srcs in by_person.items() if "dmv_licenses" in srcs and len(srcs) >= 3)
    custody1, officer1 = app.users.local("custody1", "t"), app.users.local("officer1", "t")
    # the synthetic DMV declaration does not permit the custody purpose
    custody = app.index.person(custody1, "custody", person)
    assert custody.withheld >= 1
    assert all(r.source != "dmv_licenses" for r in custody.records)
    review = app.index.person(officer1, "case_review", person)
    assert review.withheld == 0 and any(r.source == "dmv_licenses" for r in review.records)
    with pytest.raises(AccessDenied):
        app.index.person(officer1, "custody", person)
    with pytest.raises(Unauthenticated):
        app.index.person(None, "custody", person)
    assert app.audit.verify()[0].ok


def test_listing_commands_keep_only_sources_the_purpose_allows(
    index: StagingStore, tmp_path: Path
) -> None:
    import duckdb

    from habeas.errors import AccessDenied
    from habeas.governance.authz import AccessContext
    from habeas.resolve.review import queue
    from habeas.sources.access import allowed_source_list, readable_sources
    from habeas.store.keys import register as register_key
    from habeas.store.operational import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'op.db'}")
    upgrade(engine)
    register_key(engine, b"test-history-key-of-32-bytes-xx!")
    custody = AccessContext("c1", "custody_officer", "custody")
    why = readable_sources(index, custody)
    assert why["dmv_licenses"] == "forbidden by source-purpose-binds"
    sources = allowed_source_list(engine, index, custody, "export_clusters", "out.csv")
    assert "dmv_licenses" not in sources and sources
    out = tmp_path / "c.csv"
    n = export_clusters(index, out, sources)
    got = duckdb.sql(f"SELECT DISTINCT source FROM '{out}'").fetchall()
    assert n > 0 and ("dmv_licenses",) not in got
    total, rows = queue(index.con, 1000, sources)
    assert all(r["source_l"] in sources and r["source_r"] in sources for r in rows)
    assert total <= index.scalar("SELECT count(*) FROM review_queue")
    with pytest.raises(AccessDenied, match="no source"):
        allowed_source_list(engine, index, AccessContext("r", "admin", "oversight"), "x", "y")


def test_resolution_leaves_out_a_source_that_does_not_declare_identity_resolution(
    index: StagingStore, tmp_path: Path
) -> None:
    """The registry binds resolution too: a source whose declaration drops the purpose is
    left out of the index, the audit entry names it, and a case officer may not resolve."""
    import json

    from habeas.errors import AccessDenied
    from habeas.governance.authz import AccessContext
    from habeas.resolve.access import resolve_as
    from habeas.store.keys import register as register_key
    from habeas.store.models import AuditEntry
    from habeas.store.operational import make_engine, session_factory, upgrade

    decl = json.loads(index.scalar("SELECT declaration FROM sources WHERE name = 'dmv_licenses'"))
    decl["purposes"] = [p for p in decl["purposes"] if p != "identity_resolution"]
    index.con.execute(
        "UPDATE sources SET declaration = ? WHERE name = 'dmv_licenses'", [json.dumps(decl)]
    )
    index.reseal_source("dmv_licenses")  # as a narrowing registered through habeas is
    engine = make_engine(f"sqlite:///{tmp_path / 'op.db'}")
    upgrade(engine)
    register_key(engine, b"test-history-key-of-32-bytes-xx!")
    with pytest.raises(AccessDenied, match="may not resolve"):
        resolve_as(
            engine, index, AccessContext("o1", "case_officer", "case_review"), NOW, reuse_model=True
        )
    engineer = AccessContext("e1", "integration_engineer", "identity_resolution")
    result = resolve_as(engine, index, engineer, NOW, reuse_model=True)
    assert result.records == index.scalar(
        "SELECT count(*) FROM records WHERE source <> 'dmv_licenses'"
    )
    assert not index.scalar(
        "SELECT count(*) FROM person_records p JOIN records r USING (record_id) "
        "WHERE r.source = 'dmv_licenses'"
    )
    with session_factory(engine)() as s:
        entries = list(s.query(AuditEntry).order_by(AuditEntry.seq))
    assert [(e.user, e.action, e.decision) for e in entries] == [
        ("o1", "resolve", "deny"),
        ("e1", "resolve", "allow"),
        ("e1", "resolve_done", "allow"),
    ]
    assert "left out: dmv_licenses" in entries[1].detail
    assert verify_store(engine).ok
