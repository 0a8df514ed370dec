"""Turn staged records into the resolver's input: folded names, phonetic keys, identifiers.

Names from many traditions are folded to ASCII (transliteration by ``unidecode``), split
into tokens with particles set aside (so "García López" shares "garcia" with "García"),
and keyed by double metaphone. Folding runs once per distinct string, not per record.
"""

from __future__ import annotations

import re
from functools import cache

import duckdb
import pyarrow as pa
from doublemetaphone import doublemetaphone
from unidecode import unidecode

from habeas.resolve.nicknames import canonical_given
from habeas.sources.dates import date_text_sql

PARTICLES = frozenset(
    {"de", "del", "la", "las", "los", "da", "das", "do", "dos", "di", "van", "von", "der", "den"}
    | {"y", "e", "bin", "ibn", "bint", "al", "el", "le", "st", "mc", "ben", "abu", "of", "the"}
)
"""Name particles that never decide a match on their own."""

_NON_LETTERS = re.compile(r"[^a-z ]+")

INPUT_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "source",
    "given",
    "given_canon",
    "given_dm",
    "given_sk",
    "family",
    "family_tokens",
    "family_dm",
    "family_sk",
    "name_tokens",
    "name_key",
    "name_key_last",
    "given_initial",
    "family_initial",
    "rare_name",
    "rare_family",
    "dob",
    "dob_str",
    "dob_full",
    "a_number",
    "taxpayer_id",
    "passport",
    "fbi_number",
    "license",
    "phone",
    "national_id",
    "zip",
    "lat",
    "lon",
    "postal_code",
    "region",
    "city",
    "place_of_birth",
    "occupation",
    "sex",
)
"""Columns of the resolver's input table, the same whatever the sources hold."""


RARE_NAME = 30
"""A full name held by at most this many records may block on the name alone."""
RARE_FAMILY = 60
"""A family name held by at most this many records may block on the family name alone."""


def fold(text: str | None) -> str | None:
    """ASCII, lower case, letters and single spaces only; None when nothing is left."""
    if text is None:
        return None
    out = _NON_LETTERS.sub(" ", unidecode(text).lower().replace("'", ""))
    out = " ".join(out.split())
    return out or None


def tokens(folded: str | None) -> list[str]:
    """The meaningful tokens of a folded name: particles and one-letter tokens dropped."""
    if not folded:
        return []
    return [t for t in folded.split() if t not in PARTICLES and len(t) > 1]


@cache
def phonetic(token: str) -> str | None:
    """Primary double metaphone key of one token."""
    key = doublemetaphone(token)[0]
    return key or None


_SKELETON_STEPS: tuple[tuple[str, str], ...] = (
    ("tsch", "c"),
    ("sch", "s"),
    ("sh", "s"),
    ("tch", "c"),
    ("ch", "c"),
    ("zh", "j"),
    ("kh", "h"),
    ("ph", "f"),
    ("th", "t"),
    ("ck", "k"),
    ("q", "k"),
    ("w", "v"),
    ("y", "i"),
    ("ou", "u"),
)


@cache
def skeleton(token: str) -> str:
    """A transliteration-blind key: Shevchenko, Schewtschenko and Sevcenko share one."""
    out = token
    for old, new in _SKELETON_STEPS:
        out = out.replace(old, new)
    collapsed = [c for i, c in enumerate(out) if i == 0 or c != out[i - 1]]
    return "".join(collapsed)


def _name_map(raw: list[str | None]) -> pa.Table:
    folded = [fold(r) for r in raw]
    toks = [tokens(f) for f in folded]
    first = [t[0] if t else None for t in toks]
    last = [t[-1] if t else None for t in toks]
    return pa.table(
        {
            "raw": pa.array(raw, pa.string()),
            "folded": pa.array(folded, pa.string()),
            "tokens": pa.array(toks, pa.list_(pa.string())),
            "first": pa.array(first, pa.string()),
            "last": pa.array(last, pa.string()),
            "dm": pa.array([phonetic(f) if f else None for f in first], pa.string()),
            "sk": pa.array([skeleton(f) if f else None for f in first], pa.string()),
            "last_sk": pa.array([skeleton(f) if f else None for f in last], pa.string()),
            "last_dm": pa.array([phonetic(f) if f else None for f in last], pa.string()),
            "canon": pa.array([canonical_given(f) for f in first], pa.string()),
            "multi": pa.array([len(t) > 1 for t in toks], pa.bool_()),
        }
    )


@cache
def zip_centroids() -> pa.Table:
    """ZIP code → latitude, longitude of its centroid (from the ``zipcodes`` package)."""
    import zipcodes

    rows = [z for z in zipcodes.list_all() if z.get("lat") and z.get("long")]  # type: ignore[no-untyped-call]
    return pa.table(
        {
            "zip": pa.array([z["zip_code"] for z in rows], pa.string()),
            "lat": pa.array([float(z["lat"]) for z in rows], pa.float64()),
            "lon": pa.array([float(z["long"]) for z in rows], pa.float64()),
        }
    )


def prepare(
    con: duckdb.DuckDBPyConnection,
    records: str,
    out: str = "resolve_input",
    keep_centroids: bool = False,
) -> int:
    """Create table ``out`` in ``con`` from the staged-records table ``records``.

    Returns the number of input rows. Runs as set-based SQL; Python only folds the
    distinct name strings. ``keep_centroids`` leaves the ZIP centroid table in ``con``
    for the next call (a connection that prepares small batches again and again).
    """
    raw = con.execute(
        f"""SELECT DISTINCT v FROM (
              SELECT given_name AS v FROM {records} UNION ALL
              SELECT middle_name FROM {records} UNION ALL
              SELECT family_name FROM {records} UNION ALL
              SELECT full_name FROM {records}) WHERE v IS NOT NULL"""
    ).fetchall()
    names = _name_map([r[0] for r in raw])  # noqa: F841 - read by DuckDB below
    centroids = zip_centroids()  # noqa: F841
    con.execute("CREATE OR REPLACE TEMP TABLE name_map AS SELECT * FROM names")
    kept = (
        keep_centroids
        and con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'zip_centroid'"
        ).fetchall()[0][0]
    )
    if not kept:
        con.execute("CREATE OR REPLACE TEMP TABLE zip_centroid AS SELECT * FROM centroids")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {out} AS
        WITH base AS (
          SELECT r.record_id AS unique_id, r.source,
                 coalesce(g.folded, fn_first) AS given,
                 coalesce(g.canon, CASE WHEN fn.multi THEN fn.canon END) AS given_canon,
                 coalesce(g.dm, CASE WHEN fn.multi THEN fn.dm END) AS given_dm,
                 coalesce(g.sk, CASE WHEN fn.multi THEN fn.sk END) AS given_sk,
                 coalesce(f.folded, fn_last) AS family,
                 coalesce(f.tokens, CASE WHEN fn_last IS NOT NULL THEN [fn_last] END)
                   AS family_tokens,
                 coalesce(f.dm, CASE WHEN fn.multi THEN fn.last_dm END) AS family_dm,
                 coalesce(f.sk, CASE WHEN fn.multi THEN fn.last_sk END) AS family_sk,
                 coalesce(f.last_dm, CASE WHEN fn.multi THEN fn.last_dm END) AS family_last_dm,
                 -- every name the record holds, in any field and any order
                 nullif(list_sort(list_distinct(flatten([coalesce(g.tokens, []),
                     coalesce(m.tokens, []), coalesce(f.tokens, []),
                     coalesce(fn.tokens, [])]))), []) AS name_tokens,
                 r.dob, {date_text_sql("r.dob", "coalesce(r.dob_precision, 'day')")} AS dob_str,
                 CASE WHEN coalesce(r.dob_precision, 'day') = 'day'
                      THEN strftime(r.dob, '%Y-%m-%d') END AS dob_full,
                 r.a_number,
                 coalesce(r.ssn, r.tin, r.itin) AS taxpayer_id,
                 upper(regexp_replace(r.passport_number, '[^A-Za-z0-9]', '', 'g')) AS passport,
                 r.fbi_number,
                 CASE WHEN r.license_number IS NOT NULL
                      THEN coalesce(r.license_state, '') || ':' || upper(r.license_number)
                 END AS license,
                 r.phone,
                 nullif(upper(regexp_replace(r.national_id, '[^A-Za-z0-9]', '', 'g')), '')
                   AS national_id,
                 r.zip,
                 coalesce(r.lat, z.lat) AS lat, coalesce(r.lon, z.lon) AS lon,
                 nullif(upper(regexp_replace(r.postal_code, '\\s+', ' ', 'g')), '')
                   AS postal_code,
                 nullif(upper(trim(coalesce(r.state, r.region))), '') AS region,
                 nullif(lower(regexp_replace(trim(r.city), '\\s+', ' ', 'g')), '') AS city,
                 nullif(lower(trim(r.place_of_birth)), '') AS place_of_birth,
                 nullif(lower(trim(r.occupation)), '') AS occupation,
                 CASE WHEN r.sex IN ('M', 'F') THEN r.sex END AS sex
          FROM {records} r
          LEFT JOIN name_map g ON g.raw = r.given_name
          LEFT JOIN name_map m ON m.raw = r.middle_name
          LEFT JOIN name_map f ON f.raw = r.family_name
          LEFT JOIN name_map fn ON fn.raw = r.full_name
          -- a one-word full name says nothing about which name it is: no given, no family
          CROSS JOIN LATERAL (SELECT CASE WHEN fn.multi THEN fn.first END AS fn_first,
                                     CASE WHEN fn.multi THEN fn.last END AS fn_last)
          LEFT JOIN zip_centroid z ON z.zip = r.zip
        ), keyed AS (
        SELECT *, CASE WHEN given_dm IS NOT NULL AND family_dm IS NOT NULL
                       THEN least(given_dm, family_dm) || '|' || greatest(given_dm, family_dm)
                  END AS name_key,
               -- the same with the last part of a compound surname (Contreras Martínez
               -- and Martínez share it)
               CASE WHEN given_dm IS NOT NULL AND family_last_dm IS NOT NULL
                    THEN least(given_dm, family_last_dm) || '|'
                         || greatest(given_dm, family_last_dm)
                  END AS name_key_last,
               substr(given, 1, 1) AS given_initial, substr(family, 1, 1) AS family_initial,
               CASE WHEN given_canon IS NOT NULL AND family IS NOT NULL
                     AND count(*) OVER (PARTITION BY given_canon, family) <= {RARE_NAME}
                    THEN given_canon || '|' || family
               END AS rare_name,
               CASE WHEN family IS NOT NULL
                     AND count(*) OVER (PARTITION BY family) <= {RARE_FAMILY}
                    THEN family
               END AS rare_family
        FROM base)
        SELECT {", ".join(INPUT_COLUMNS)} FROM keyed ORDER BY unique_id
        """
    )
    con.execute("DROP TABLE name_map")
    if not keep_centroids:
        con.execute("DROP TABLE zip_centroid")
    return int(con.execute(f"SELECT count(*) FROM {out}").fetchall()[0][0])
