"""Events linked to persons with the trained model, one batch at a time.

The model is the one the last resolution run published (its comparisons and trained
parameters), and the records compared against are the published index's, with the
prepared values and term frequencies it keeps for explanations: so an event is scored
exactly as a new record of an incremental run would be, without the batch store. Each
event is prepared like a staged record (``resolve.normalize.prepare``), candidates come
from the index by identifier, date of birth and surname, and Splink compares every
pair of the batch in one call (its SQL built once per model).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from habeas.errors import HabeasError
from habeas.ids import record_id
from habeas.monitor.intake import Checked
from habeas.monitor.rules import Candidate
from habeas.resolve.engine import quiet_splink
from habeas.resolve.normalize import prepare
from habeas.resolve.publish import name_key

STAGED = (
    ("record_id", "VARCHAR"),
    ("source", "VARCHAR"),
    ("given_name", "VARCHAR"),
    ("middle_name", "VARCHAR"),
    ("family_name", "VARCHAR"),
    ("full_name", "VARCHAR"),
    ("dob", "DATE"),
    ("dob_precision", "VARCHAR"),
    ("a_number", "VARCHAR"),
    ("ssn", "VARCHAR"),
    ("tin", "VARCHAR"),
    ("itin", "VARCHAR"),
    ("passport_number", "VARCHAR"),
    ("fbi_number", "VARCHAR"),
    ("license_number", "VARCHAR"),
    ("license_state", "VARCHAR"),
    ("phone", "VARCHAR"),
    ("national_id", "VARCHAR"),
    ("zip", "VARCHAR"),
    ("lat", "DOUBLE"),
    ("lon", "DOUBLE"),
    ("postal_code", "VARCHAR"),
    ("state", "VARCHAR"),
    ("region", "VARCHAR"),
    ("city", "VARCHAR"),
    ("place_of_birth", "VARCHAR"),
    ("occupation", "VARCHAR"),
    ("sex", "VARCHAR"),
)
"""The staged-record columns ``prepare`` reads."""
MAX_CANDIDATES = 400
"""Records compared per event at most (the strongest blocks first)."""


@dataclass(frozen=True)
class Model:
    """The published model: its run, settings, the prepared schema and the threshold."""

    run_id: str
    model_json: str
    schema: list[list[str]]
    threshold: float

    @property
    def key(self) -> str:
        """A key for Splink's SQL cache: the model's text."""
        return "habeas-monitor-" + hashlib.sha256(self.model_json.encode()).hexdigest()[:24]


def published_model(conn: Connection) -> Model:
    """The model of the index run published last."""
    row = conn.execute(
        text("""SELECT run_id, model_json, input_schema, match_threshold FROM index_runs
                ORDER BY published_at DESC, run_id DESC LIMIT 1""")
    ).one_or_none()
    if row is None:
        raise HabeasError(
            "no person index is published yet: run `habeas resolve` first; "
            "events cannot be matched to anyone before it"
        )
    return Model(
        row.run_id, row.model_json, json.loads(row.input_schema), float(row.match_threshold)
    )


def record_id_of(source: str, event_id: str) -> str:
    """The event's own record id (as a staged record of its feed would have)."""

    return record_id(source, event_id)


def identifiers(record: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """The (kind, value) identifiers an event carries, normalized as the index's."""
    out = set()
    if record.get("a_number"):
        out.add(("a_number", str(record["a_number"])))
    if record.get("passport_number"):
        clean = "".join(ch for ch in str(record["passport_number"]).upper() if ch.isalnum())
        if clean:
            out.add(("passport", clean))
    return frozenset(out)


_COLUMNS = "record_id, person_id, features, a_number, passport_number"
_CANDIDATES = text(
    f"""SELECT {_COLUMNS} FROM index_records WHERE a_number IN :numbers
        UNION SELECT {_COLUMNS} FROM index_records WHERE passport_number IN :passports
        UNION SELECT {_COLUMNS} FROM index_records WHERE dob IN :dobs
        UNION SELECT {_COLUMNS} FROM index_records
          WHERE family_key IN :families AND family_key || '|' || substr(dob, 1, 4) IN :years"""
).bindparams(
    bindparam("numbers", expanding=True),
    bindparam("passports", expanding=True),
    bindparam("dobs", expanding=True),
    bindparam("families", expanding=True),
    bindparam("years", expanding=True),
)
"""Each block on its own index (one OR across them would read the whole table)."""
_HELD = text(
    "SELECT person_id, a_number, passport_number FROM index_records WHERE person_id IN :persons"
).bindparams(bindparam("persons", expanding=True))


def _keys(events: list[Checked]) -> dict[str, list[str]]:
    keys: dict[str, set[str]] = {
        k: set() for k in ("numbers", "passports", "dobs", "families", "years")
    }
    for e in events:
        r = e.record
        if r.get("a_number"):
            keys["numbers"].add(str(r["a_number"]))
        if r.get("passport_number"):
            keys["passports"].add(str(r["passport_number"]))
        dob = str(r.get("dob") or "")
        if len(dob) >= 10 and r.get("dob_precision", "day") == "day":
            keys["dobs"].add(dob[:10])
        years = [str(int(dob[:4]) + d) for d in (-1, 0, 1)] if dob[:4].isdigit() else []
        for name in (r.get("family_name"), r.get("given_name")):  # names swapped at a booth
            k = name_key(str(name)) if name else ""
            for fam in {k, k.split()[-1]} if k else ():
                keys["families"].add(fam)
                keys["years"].update(f"{fam}|{y}" for y in years)
    return {k: sorted(v) or ["~"] for k, v in keys.items()}


class Matcher:
    """Scores batches of events against the published index (one per thread)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _con(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            from splink import DuckDBAPI

            con = duckdb.connect()
            con.execute("SET threads = 1")
            self._local.con = con
            self._local.api = DuckDBAPI(connection=con)
        return con

    def score(
        self, conn: Connection, model: Model, source: str, events: list[Checked]
    ) -> dict[str, tuple[list[Candidate], dict[str, dict[str, Any]]]]:
        """Per event id: every person scored against it (their strongest pair), and the
        Splink comparison of each pair by record id (for the explanation)."""
        if not events:
            return {}
        rows = conn.execute(_CANDIDATES, _keys(events)).all()
        records = {r.record_id: r for r in rows}
        con = self._con()
        names = [n for n, _ in STAGED]
        staged = []
        ids = {}
        for e in events:
            rid = record_id_of(source, e.event_id)
            ids[rid] = e.event_id
            vals = dict(e.record, record_id=rid, source=source)
            staged.append([vals.get(n) for n in names])
        _table(con, "ev_staged", [list(x) for x in STAGED], staged)
        prepare(con, "ev_staged", out="ev_input", keep_centroids=True)
        prepared = {
            r["unique_id"]: r
            for r in con.sql("SELECT * FROM ev_input").to_arrow_table().to_pylist()
        }
        schema = model.schema
        cols = [n for n, _ in schema]
        tf_cols = [c for c in cols if c.startswith("tf_")]
        pairs_l: list[list[Any]] = []
        pairs_r: list[list[Any]] = []
        owners: list[tuple[str, str, str]] = []  # (event id, record id, person id)
        feats = {rid: json.loads(r.features or "{}") for rid, r in records.items()}
        blocks = _Blocks(records, feats)
        for rid, ev in prepared.items():
            for cand in blocks.block(ev)[:MAX_CANDIDATES]:
                theirs = feats[cand.record_id]
                left = dict(ev)
                for tf in tf_cols:
                    col = tf[3:]
                    same = ev.get(col) is not None and ev.get(col) == theirs.get(col)
                    left[tf] = theirs.get(tf) if same else None
                n = len(owners)
                pairs_l.append([_cell(left.get(c)) for c in cols] + [n])
                pairs_r.append([_cell(theirs.get(c)) for c in cols] + [n])
                owners.append((ids[rid], cand.record_id, cand.person_id))
        by_pair = {(e_id, r_id): (e_id, r_id, p) for e_id, r_id, p in owners}
        out: dict[str, tuple[list[Candidate], dict[str, dict[str, Any]]]] = {
            e.event_id: ([], {}) for e in events
        }
        if not owners:
            return out
        typed = [*schema, ["pair_id", "INTEGER"]]
        for side, rows_ in (("pair_l", pairs_l), ("pair_r", pairs_r)):
            _table(con, side, typed, rows_)
        result = _compare(con, self._local.api, model)
        persons = sorted({p for _, _, p in owners})
        held: dict[str, set[tuple[str, str]]] = {}
        for pid, a_num, passport in conn.execute(_HELD, {"persons": persons}).all():
            held.setdefault(pid, set()).update(
                identifiers({"a_number": a_num, "passport_number": passport})
            )
        for row in result:
            event_id, rid, pid = by_pair[(ids[row["unique_id_l"]], row["unique_id_r"])]
            cands, compared = out[event_id]
            cands.append(
                Candidate(
                    pid,
                    rid,
                    float(row["match_probability"]),
                    float(row["match_weight"]),
                    frozenset(held.get(pid, ())),
                )
            )
            compared[rid] = row
        return out


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict) else value


def _table(
    con: duckdb.DuckDBPyConnection, name: str, schema: list[list[str]], rows: list[list[Any]]
) -> None:
    """Create table ``name`` of ``schema`` from ``rows`` through Arrow (one copy, no
    statement per row), each column cast to its declared type."""
    import pyarrow as pa

    columns = {}
    for i, (col, _) in enumerate(schema):
        values = [r[i] for r in rows]
        try:
            columns[col] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[col] = pa.array([None if v is None else str(v) for v in values], pa.string())
    incoming = pa.table(columns)  # noqa: F841 - read by DuckDB below
    select = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in schema)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {select} FROM incoming")


class _Blocks:
    """The fetched index records by the values events are blocked on."""

    def __init__(self, records: dict[str, Any], feats: dict[str, dict[str, Any]]) -> None:
        self.records = records
        self.by: dict[tuple[str, str], list[str]] = {}
        for rid, f in feats.items():
            for key in ("a_number", "passport", "dob_str", "family", "given"):
                value = f.get(key)
                if value:
                    self.by.setdefault((key, str(value)), []).append(rid)
        self.feats = feats

    def block(self, ev: dict[str, Any]) -> list[Any]:
        """The records one event is compared with: sharing an identifier first, then the
        date of birth, then a name (either: a booth may swap them) within a year of birth."""
        order: dict[str, None] = {}
        for key in ("a_number", "passport"):
            if ev.get(key):
                order.update(dict.fromkeys(self.by.get((key, str(ev[key])), ())))
        dob = str(ev.get("dob_str") or "")
        if len(dob) == 10:
            order.update(dict.fromkeys(self.by.get(("dob_str", dob), ())))
        for name in {ev.get("family"), ev.get("given")} - {None}:
            for key in ("family", "given"):
                for rid in self.by.get((key, str(name)), ()):
                    if rid not in order and _years_near(
                        dob[:4], str(self.feats[rid].get("dob_str") or "")[:4]
                    ):
                        order[rid] = None
        return [self.records[rid] for rid in order]


def _years_near(a: str, b: str) -> bool:
    return a.isdigit() and b.isdigit() and abs(int(a) - int(b)) <= 1


def _compare(con: duckdb.DuckDBPyConnection, api: Any, model: Model) -> list[dict[str, Any]]:
    from splink.internals.realtime import compare_records

    quiet_splink()
    scored = compare_records(
        con.table("pair_l"),
        con.table("pair_r"),
        json.loads(model.model_json),
        api,
        sql_cache_key=model.key,
        join_condition="l.pair_id = r.pair_id",
    )
    rows: list[dict[str, Any]] = scored.as_duckdbpyrelation().to_arrow_table().to_pylist()
    return rows
