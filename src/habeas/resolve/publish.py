"""Publish the person index into the operational store at the end of a resolution run.

DuckDB stays the batch engine; what people read while they work (persons, record links,
flags, the review queue, reviewers' decisions and the prepared values explanations need)
is copied into the operational store in one transaction, with the run id. Readers never
wait on a resolution, and a gate reads the flags that are current at the moment of a step.

A flag resolved in the operational store stays resolved while the records behind it are
the same; new evidence (other records) raises it again.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, inspect, select, text, update
from sqlalchemy.orm import Session
from unidecode import unidecode

from habeas.cases.court_basis import COURT_CATEGORIES, COURT_FACT_COLUMNS
from habeas.follow_ups import FollowUps
from habeas.governance.disclosure import natural_key_kinds
from habeas.resolve.history import record_after_publish, record_changes
from habeas.resolve.review import prioritized_sql
from habeas.sources.dates import date_text_sql
from habeas.sources.registry import shared_purposes, version_purposes
from habeas.store.keys import key_for, seal
from habeas.store.models import (
    Case,
    IndexDecision,
    IndexFlag,
    IndexPerson,
    IndexRecord,
    IndexReview,
    IndexRun,
    IndexSource,
)
from habeas.store.operational import is_sqlite, reading
from habeas.store.staging import StagingStore

DOB_TEXT = date_text_sql("r.dob", "coalesce(r.dob_precision, 'day')")
"""A birth date as published: at its precision (1950, 1950-05 or 1950-05-03)."""
ADDRESS_DATE_TEXT = date_text_sql("r.address_date", "coalesce(r.address_date_precision, 'day')")
"""The day an address was last known good, at its precision."""

CHUNK = 5_000
TF_COLUMNS_KEY = "tf_adjustment_column"

_log = logging.getLogger(__name__)


def name_key(text: str | None) -> str:
    """A name as search compares it: ASCII, lower case, single spaces, no punctuation."""
    if not text:
        return ""
    plain = "".join(c if c.isalnum() else " " for c in unidecode(text).lower())
    return " ".join(plain.split())


def _tf_columns(model_json: str) -> list[str]:
    model = json.loads(model_json)
    return sorted(
        {
            level[TF_COLUMNS_KEY]
            for comp in model["comparisons"]
            for level in comp["comparison_levels"]
            if level.get(TF_COLUMNS_KEY)
        }
    )


def compared_columns(model_json: str, available: list[str]) -> list[str]:
    """The prepared columns the model names anywhere (comparisons, blocking rules, term
    frequencies) and the record id: all an explanation needs of a record."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", model_json))
    named = {w[:-2] for w in words if w.endswith(("_l", "_r"))} | words
    return [c for c in available if c == "unique_id" or c in named]


def _features_sql(columns: list[str], tf: list[str], only: str = "") -> str:
    """Each prepared record's compared values as JSON, with the term frequency of each
    adjusted column (as Splink computes it at scoring: the share of the non-null values
    equal to this one); ``only``: a query of the record ids wanted (all when empty)."""
    extra = "".join(
        f", CASE WHEN {c} IS NULL THEN NULL ELSE (count(*) OVER (PARTITION BY {c}))::DOUBLE "
        f"/ (count({c}) OVER ()) END AS tf_{c}"
        for c in tf
    )
    cols = ", ".join(columns)
    keep = f" WHERE x.unique_id IN ({only})" if only else ""
    return (
        f"SELECT unique_id, to_json(x)::VARCHAR FROM (SELECT {cols}{extra} FROM resolve_input) x"
        + keep
    )


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk insert through the driver's ``executemany`` (a million rows is the common case
    here; SQLAlchemy's per-row parameter handling would be most of the time)."""
    if not rows:
        return
    names = list(rows[0])
    mark = "?" if is_sqlite(conn) else "%s"
    cols = ", ".join(f'"{n}"' for n in names)
    sql = f"INSERT INTO {table.__tablename__} ({cols}) VALUES ({', '.join(mark for _ in names)})"
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for part in _chunks(rows):
            cur.executemany(sql, [tuple(r[n] for n in names) for r in part])
    finally:
        cur.close()


def _court_facts(con: Any) -> dict[str, str]:
    """Per record of a court's source (by its declared category), the court facts a case
    step citing it is checked against, as JSON."""
    courts = [
        name
        for name, decl in con.execute("SELECT name, declaration FROM sources").fetchall()
        if json.loads(decl).get("category") in COURT_CATEGORIES
    ]
    if not courts:
        return {}
    have = {r[0] for r in con.execute("DESCRIBE records").fetchall()}
    cols = [c for c in COURT_FACT_COLUMNS if c in have]
    if not cols:
        return {}
    out = {}
    for rid, *values in con.execute(
        f"SELECT record_id, {', '.join(cols)} FROM records WHERE source IN (SELECT unnest(?))",
        [courts],
    ).fetchall():
        out[rid] = json.dumps(
            {c: str(v) for c, v in zip(cols, values, strict=True) if v is not None},
            sort_keys=True,
        )
    return out


def source_seal(
    key: bytes, name: str, agency: str, authority: str, purposes: str, versions: str | None
) -> str:
    """The seal of a published source row: a purpose widened by hand in the store does
    not carry it, and the source is then read for nothing (fail closed)."""
    return seal(key, "index_source", name, agency, authority, purposes, versions or "")


def source_sealed(key: bytes, row: Any) -> bool:
    """Whether a published source row (name, agency, legal_authority, purposes,
    version_purposes, seal) carries its seal."""
    import hmac

    expected = source_seal(
        key, row.name, row.agency, row.legal_authority, row.purposes, row.version_purposes
    )
    return row.seal is not None and hmac.compare_digest(expected, row.seal)


def refresh_index_purposes(engine: Engine, store: StagingStore) -> None:
    """Give the published index's sources the purposes the registry now holds for their
    records (run whenever a declaration version takes effect or is retired)."""

    versions = version_purposes(store)
    purposes = shared_purposes(versions)
    with engine.begin() as conn:
        for name, old, old_versions in conn.execute(
            select(IndexSource.name, IndexSource.purposes, IndexSource.version_purposes)
        ).all():
            new = json.dumps(purposes.get(name, []))
            new_versions = json.dumps(versions.get(name, {}))
            if (old, old_versions) != (new, new_versions):
                row = conn.execute(
                    select(IndexSource.agency, IndexSource.legal_authority).where(
                        IndexSource.name == name
                    )
                ).one()
                conn.execute(
                    update(IndexSource)
                    .where(IndexSource.name == name)
                    .values(
                        purposes=new,
                        version_purposes=new_versions,
                        seal=source_seal(
                            key_for(conn), name, row.agency, row.legal_authority, new, new_versions
                        ),
                    )
                )


@dataclass(frozen=True)
class Published:
    """A run just published, in the publishing transaction: of every person, or of
    ``persons`` only (a re-link after a correction or a split), and what caused it."""

    conn: Connection
    run_id: str
    store: StagingStore | None = None
    persons: tuple[str, ...] | None = None
    """The persons re-published (None: the whole index)."""
    now: datetime | None = None
    """The moment of the publish (the application's clock)."""
    cause: str = ""
    """What made the index change, cited by everything it sets in motion
    (``correction 3 (dispute 5)``); empty for a resolution run."""


AFTER_PUBLISH: FollowUps[Published] = FollowUps("a publish")
"""Run in the publishing transaction once the new index is written (the field cancels
the open assignments of people a new citizenship or lawful-status flag now covers)."""


def _record_rows(
    store: StagingStore, run_id: str, columns: list[str], tf: list[str], persons: list[str] | None
) -> list[dict[str, Any]]:
    """The index records to publish (of ``persons``, every record when None)."""
    con = store.con
    where, params, ids = "", [], ""
    if persons is not None:
        where = " WHERE p.person_id IN (SELECT unnest(?))"
        params = [persons]
        ids = "SELECT record_id FROM person_records WHERE person_id IN (SELECT unnest(?))"
    records = con.execute(
        """SELECT p.record_id, p.person_id, r.source, r.source_key,
                  coalesce(nullif(concat_ws(' ', r.given_name, r.middle_name, r.family_name),
                                  ''), r.full_name, '') AS name,
                  coalesce(r.family_name, '') AS family, """
        + DOB_TEXT
        + """, r.a_number,
                  r.ssn, r.passport_number, r.zip, p.linked_via, p.match_probability,
                  p.match_weight, p.how, coalesce(r.source_version, 1),
                  r.street, r.city, r.state, r.lat, r.lon, """
        + ADDRESS_DATE_TEXT
        + """, r.batch_id, r.file_sha256, r.row_number
           FROM person_records p JOIN records r USING (record_id)"""
        + where,
        params,
    ).fetchall()
    features = dict(con.execute(_features_sql(columns, tf, ids), params).fetchall())
    facts = _court_facts(con)
    key_kinds = {
        name: natural_key_kinds(json.loads(decl))
        for name, decl in con.execute("SELECT name, declaration FROM sources").fetchall()
    }
    record_rows = []
    for (
        rid,
        pid,
        src,
        key,
        name,
        family,
        dob,
        a_num,
        ssn,
        passport,
        zip_,
        via,
        prob,
        weight,
        how,
        version,
        street,
        city,
        state,
        lat,
        lon,
        address_date,
        batch_id,
        file_sha256,
        row_number,
    ) in records:
        nk = name_key(name)
        record_rows.append(
            {
                "record_id": rid,
                "person_id": pid,
                "source": src,
                "source_version": int(version),
                "source_key": str(key),
                "name": name,
                "name_key": nk,
                "family_key": name_key(family) or (nk.split()[-1] if nk else ""),
                "dob": dob,
                "a_number": a_num,
                "ssn": ssn,
                "passport_number": passport,
                "zip": zip_,
                "linked_via": via,
                "match_probability": prob,
                "match_weight": weight,
                "how": how,
                "features": features.get(rid, "{}"),
                "run_id": run_id,
                "court_facts": facts.get(rid),
                "street": street,
                "city": city,
                "state": state,
                "lat": lat,
                "lon": lon,
                "address_date": address_date,
                "batch_id": batch_id,
                "file_sha256": file_sha256,
                "row_number": None if row_number is None else int(row_number),
                "key_kinds": key_kinds.get(src, ""),
            }
        )
    return record_rows


def _flag_rows(
    conn: Connection, fresh: list[tuple[Any, ...]], run_id: str, now: datetime
) -> list[dict[str, Any]]:
    """Flags to publish: a flag resolved in the operational store stays resolved while
    the records behind it are the same."""
    resolved = {
        (r.person_id, r.flag, r.record_ids): r
        for r in conn.execute(select(IndexFlag).where(IndexFlag.status == "resolved"))
    }
    flags = []
    for pid, flag, detail, ids, raised in fresh:
        key = json.dumps(sorted(ids))
        old = resolved.get((pid, flag, key))
        flags.append(
            {
                "person_id": pid,
                "flag": flag,
                "detail": detail,
                "record_ids": key,
                "status": "resolved" if old else "open",
                "raised_at": raised or now,
                "resolved_by": old.resolved_by if old else None,
                "resolution": old.resolution if old else None,
                "resolved_at": old.resolved_at if old else None,
                "run_id": run_id,
            }
        )
    return flags


def publish_persons(
    conn: Connection,
    store: StagingStore,
    run_id: str,
    persons: list[str],
    records: list[str],
    cause: str,
    now: datetime,
) -> int:
    """Publish the index of ``persons`` only (a re-link), in the caller's transaction:
    their records (and ``records``, wherever they went), flags, queue pairs; then the
    follow-ups of a publish, told which persons and what caused it. Returns the number
    of records published."""
    con = store.con
    [(model_json,)] = con.execute(
        "SELECT model_json FROM resolution_runs WHERE run_id = ?", [run_id]
    ).fetchall()
    described = [r[0] for r in con.execute("DESCRIBE resolve_input").fetchall()]
    columns = compared_columns(model_json, described)
    tf = _tf_columns(model_json)
    rows = _record_rows(store, run_id, columns, tf, persons)
    person_rows = [
        {"person_id": p, "records": int(n), "sources": json.dumps(list(s)), "run_id": run_id}
        for p, n, s in con.execute(
            "SELECT person_id, records, sources FROM persons WHERE person_id IN (SELECT unnest(?))",
            [persons],
        ).fetchall()
    ]
    fresh = con.execute(
        "SELECT person_id, flag, detail, record_ids, raised_at FROM person_flags "
        "WHERE person_id IN (SELECT unnest(?))",
        [persons],
    ).fetchall()
    threshold = float(
        con.execute(
            "SELECT match_threshold FROM resolution_runs WHERE run_id = ?", [run_id]
        ).fetchall()[0][0]
    )
    review = con.execute(
        "SELECT record_id_l, record_id_r, person_l, person_r, match_probability, "
        f"match_weight, priority, why FROM ({prioritized_sql(threshold)}) "
        "WHERE person_l IN (SELECT unnest(?)) OR person_r IN (SELECT unnest(?))",
        [persons, persons],
    ).fetchall()
    flags = _flag_rows(conn, fresh, run_id, now)
    conn.execute(delete(IndexRecord).where(IndexRecord.person_id.in_(persons)))
    conn.execute(delete(IndexRecord).where(IndexRecord.record_id.in_(records)))
    conn.execute(delete(IndexPerson).where(IndexPerson.person_id.in_(persons)))
    conn.execute(delete(IndexFlag).where(IndexFlag.person_id.in_(persons)))
    conn.execute(
        delete(IndexReview).where(
            IndexReview.person_l.in_(persons) | IndexReview.person_r.in_(persons)
        )
    )
    _insert(conn, IndexPerson, person_rows)
    _insert(conn, IndexRecord, rows)
    _insert(conn, IndexFlag, flags)
    _insert(
        conn,
        IndexReview,
        [
            {
                "record_id_l": a,
                "record_id_r": b,
                "person_l": pl,
                "person_r": pr,
                "match_probability": p,
                "match_weight": w,
                "priority": prio,
                "why": why,
                "run_id": run_id,
            }
            for a, b, pl, pr, p, w, prio, why in review
        ],
    )
    AFTER_PUBLISH.run(Published(conn, run_id, store, tuple(persons), now, cause))
    with_cases = set(
        conn.execute(select(Case.person_id).where(Case.person_id.in_(persons))).scalars().all()
    )
    record_changes(conn, sorted(with_cases), now, "correction" if cause else "relink")
    return len(rows)


def publish(engine: Engine, store: StagingStore, run_id: str) -> int:
    """Copy the index of run ``run_id`` into the operational store (one transaction,
    replacing the previous one); returns the number of records published."""
    con = store.con
    run = con.execute(
        """SELECT run_id, mode, engine, records, persons, match_threshold, model_json
           FROM resolution_runs WHERE run_id = ?""",
        [run_id],
    ).fetchall()
    if not run:
        raise ValueError(f"no resolution run {run_id}")
    _, mode, eng, n_records, n_persons, threshold, model_json = run[0]
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE resolve_input").fetchall()]
    tf = _tf_columns(model_json)
    columns = compared_columns(model_json, [n for n, _ in described])
    schema = [[n, t] for n, t in described if n in columns]
    schema += [[f"tf_{c}", "DOUBLE"] for c in tf]
    record_rows = _record_rows(store, run_id, columns, tf, None)
    persons = [
        {"person_id": p, "records": int(n), "sources": json.dumps(list(s)), "run_id": run_id}
        for p, n, s in con.execute("SELECT person_id, records, sources FROM persons").fetchall()
    ]
    sources = []

    versions = version_purposes(store)
    purposes = shared_purposes(versions)
    for name, status, decl, version, sealed in con.execute(
        "SELECT name, status, declaration, version, seal FROM sources"
    ).fetchall():
        if not store.source_sealed(name, status, decl, version, sealed):
            continue  # a registry row edited outside habeas is not published
        d = json.loads(decl)
        sources.append(
            {
                "name": name,
                "agency": str(d.get("agency", "")),
                "legal_authority": str(d.get("legal_authority", d.get("authority", ""))),
                "purposes": json.dumps(purposes.get(name, [])),
                "version_purposes": json.dumps(versions.get(name, {})),
                "run_id": run_id,
            }
        )
    fresh = con.execute(
        "SELECT person_id, flag, detail, record_ids, raised_at FROM person_flags"
    ).fetchall()
    review = [
        {
            "record_id_l": a,
            "record_id_r": b,
            "person_l": pl,
            "person_r": pr,
            "match_probability": p,
            "match_weight": w,
            "priority": prio,
            "why": why,
            "run_id": run_id,
        }
        for a, b, pl, pr, p, w, prio, why in con.execute(
            "SELECT record_id_l, record_id_r, person_l, person_r, match_probability, "
            f"match_weight, priority, why FROM ({prioritized_sql(float(threshold))})"
        ).fetchall()
    ]
    decisions = [
        {
            "decision_id": int(i),
            "kind": k,
            "decision": dec,
            "record_ids": json.dumps(
                sorted({x for x in [left, right, *(a or []), *(b or [])] if x})
            ),
            "reviewer": who,
            "reason": why,
            "decided_at": at,
            "undone_by": undone,
        }
        for i, k, dec, left, right, a, b, who, why, at, undone in con.execute(
            """SELECT decision_id, kind, decision, record_id_l, record_id_r, side_a, side_b,
                      reviewer, reason, decided_at, undone_by FROM review_decisions"""
        ).fetchall()
    ]
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        flags = _flag_rows(conn, fresh, run_id, now)
        for table in (IndexRecord, IndexPerson, IndexFlag, IndexReview, IndexDecision, IndexSource):
            conn.execute(delete(table))
        conn.execute(delete(IndexRun).where(IndexRun.run_id == run_id))  # a run published again
        conn.execute(
            insert(IndexRun),
            [
                {
                    "run_id": run_id,
                    "mode": mode,
                    "engine": eng,
                    "published_at": now,
                    "records": int(n_records),
                    "persons": int(n_persons),
                    "match_threshold": float(threshold),
                    "model_json": model_json,
                    "input_schema": json.dumps(schema),
                }
            ],
        )
        key = key_for(conn)
        for src in sources:
            src["seal"] = source_seal(
                key,
                src["name"],
                src["agency"],
                src["legal_authority"],
                src["purposes"],
                src["version_purposes"],
            )
        _insert(conn, IndexSource, sources)
        _insert(conn, IndexPerson, persons)
        _insert(conn, IndexRecord, record_rows)
        _insert(conn, IndexFlag, flags)
        _insert(conn, IndexReview, review)
        _insert(conn, IndexDecision, decisions)
        AFTER_PUBLISH.run(Published(conn, run_id, store, None, now))
        record_after_publish(conn, now)
    return len(record_rows)


def sources_problem(engine: Engine) -> str | None:
    """The first published source row that does not carry its seal (edited outside
    habeas: a purpose widened, an authority rewritten)."""
    with reading(engine).connect() as conn:
        if not inspect(conn).has_table("index_sources"):
            return None
        columns = {c["name"] for c in inspect(conn).get_columns("index_sources")}
        if "seal" not in columns:
            return None
        for row in conn.execute(
            text(
                "SELECT name, agency, legal_authority, purposes, version_purposes, seal "
                "FROM index_sources ORDER BY name"
            )
        ):
            if not source_sealed(key_for(engine), row):
                return (
                    f"published source {row.name} does not carry its seal (its row was "
                    "edited outside habeas): its records are withheld until the next "
                    "publish"
                )
    return None


def sealed_sources(session: Session) -> dict[str, IndexSource]:
    """The published sources whose rows carry their seal; a row changed outside habeas
    (a purpose widened by hand) is left out, so its records are read for nothing."""
    key = key_for(session.connection())
    out = {}
    for s in session.execute(select(IndexSource)).scalars():
        if source_sealed(key, s):
            out[s.name] = s
        else:
            _log.error(
                "published source %s does not carry its seal: its records are withheld", s.name
            )
    return out


def publish_decisions(session: Session, store: Any, ids: list[int]) -> None:
    """Show new reviewers' decisions in the published index at once (the next run applies
    them to the links); the persons with cases it touches get a row of index history."""
    touched: set[str] = set()
    for i, k, dec, left, right, a, b, who, why, at, undone in store.con.execute(
        """SELECT decision_id, kind, decision, record_id_l, record_id_r, side_a, side_b,
                  reviewer, reason, decided_at, undone_by FROM review_decisions
           WHERE decision_id IN (SELECT unnest(?))""",
        [ids],
    ).fetchall():
        rec_ids = sorted({x for x in [left, right, *(a or []), *(b or [])] if x})
        touched.update(rec_ids)
        session.merge(
            IndexDecision(
                decision_id=int(i),
                kind=k,
                decision=dec,
                record_ids=json.dumps(rec_ids),
                reviewer=who,
                reason=why,
                decided_at=at,
                undone_by=undone,
            )
        )
    if touched:
        session.flush()
        conn = session.connection()
        persons = set(
            conn.execute(
                select(IndexRecord.person_id).where(IndexRecord.record_id.in_(sorted(touched)))
            ).scalars()
        )
        with_cases = set(
            conn.execute(select(Case.person_id).where(Case.person_id.in_(sorted(persons))))
            .scalars()
            .all()
        )
        record_changes(conn, with_cases, datetime.now(UTC).replace(tzinfo=None), "review")
