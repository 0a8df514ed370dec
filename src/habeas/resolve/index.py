"""The master person index as stored: persons, links, scored pairs, flags, runs, review.

Tables live in the staging store beside the records they index (the store defines them:
``habeas.store.staging.INDEX_SCHEMA``). A resolution run
replaces the derived tables (and ``resolve_input``, the prepared records the model
scored, kept for incremental runs and explanations) in one transaction; reviewers'
decisions and unmerges are never replaced, only added to.
"""

from __future__ import annotations

import duckdb

from habeas.sources.dates import date_text_sql


def last_run(con: duckdb.DuckDBPyConnection) -> tuple[str, float] | None:
    """The trained model (JSON) and match threshold of the latest run; None before any run."""
    rows = con.execute(
        "SELECT model_json, match_threshold FROM resolution_runs ORDER BY started_at DESC LIMIT 1"
    ).fetchall()
    return (str(rows[0][0]), float(rows[0][1])) if rows else None


def flags_sql(mapping: str, records: str = "records") -> str:
    """Flags derived from each person's records, with the records behind each flag.

    ``mapping`` is a table (record_id, person_id). Citizenship: a naturalization status,
    a citizen indicator, birth in the United States or a U.S. passport. Lawful status:
    LPR, TPS, DACA, refugee or a pending asylum application. Conflicts: more than one
    date of birth (at their precision: a year holds its days) or more than one value of an
    identifier across the person's records.
    """
    us = "('united states', 'usa', 'us', 'u.s.', 'u.s.a.', 'united states of america')"
    return f"""
    WITH r AS (SELECT m.person_id, x.* FROM {records} x JOIN {mapping} m USING (record_id)),
    signals AS (
      SELECT person_id, 'citizenship' AS flag, record_id,
             CASE WHEN immigration_status = 'naturalized' THEN 'naturalized'
                  WHEN citizenship_indicator = 'us_citizen' THEN 'citizen indicator'
                  WHEN lower(country_of_birth) IN {us} THEN 'born in the United States'
                  ELSE 'U.S. passport' END AS why
      FROM r
      WHERE immigration_status = 'naturalized' OR citizenship_indicator = 'us_citizen'
         OR lower(country_of_birth) IN {us} OR lower(passport_country) IN {us}
      UNION ALL
      SELECT person_id, 'lawful_status', record_id, 'status ' || immigration_status
      FROM r WHERE immigration_status IN ('lpr', 'tps', 'daca', 'refugee', 'asylum_pending')
    ),
    dobs AS (
      SELECT person_id, record_id, {date_text_sql("dob", "coalesce(dob_precision, 'day')")} AS val
      FROM r WHERE dob IS NOT NULL
    ),
    -- two birth dates conflict only when neither contains the other (1950 holds 1950-05-03)
    dob_conflicted AS (
      SELECT DISTINCT a.person_id FROM dobs a JOIN dobs b
        ON a.person_id = b.person_id AND a.val < b.val
       AND NOT starts_with(a.val, b.val) AND NOT starts_with(b.val, a.val)
    ),
    conflicts AS (
      SELECT person_id, 'conflict' AS flag, field,
             list_sort(list_distinct(list(val))) AS vals,
             list_sort(list(record_id)) AS recs
      FROM (
        SELECT person_id, record_id, 'dob' AS field, val FROM dobs
          WHERE person_id IN (SELECT person_id FROM dob_conflicted)
        UNION ALL SELECT person_id, record_id, 'a_number', a_number FROM r
          WHERE a_number IS NOT NULL
        UNION ALL SELECT person_id, record_id, 'ssn', ssn FROM r WHERE ssn IS NOT NULL
        UNION ALL SELECT person_id, record_id, 'fbi_number', fbi_number FROM r
          WHERE fbi_number IS NOT NULL
      )
      GROUP BY person_id, field HAVING count(DISTINCT val) > 1
    )
    SELECT person_id, flag,
           string_agg(DISTINCT why, '; ' ORDER BY why) AS detail,
           list_sort(list(record_id)) AS record_ids
    FROM signals GROUP BY person_id, flag
    UNION ALL
    SELECT person_id, flag,
           string_agg(field || ': ' || array_to_string(vals, ' vs '), '; ' ORDER BY field),
           list_sort(list_distinct(flatten(list(recs))))
    FROM conflicts GROUP BY person_id, flag
    """
