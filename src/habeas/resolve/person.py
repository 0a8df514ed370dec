"""One person as the index holds them: records, the link behind each, flags, decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from habeas.errors import HabeasError
from habeas.resolve.index import ensure_schema
from habeas.store.staging import StagingStore


@dataclass(frozen=True)
class PersonView:
    """Everything an analyst needs to judge one person's links."""

    person_id: str
    records: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    decisions: list[dict[str, Any]]


def _dicts(store: StagingStore, sql: str, params: Any) -> list[dict[str, Any]]:
    cur = store.con.execute(sql, params)
    rows = cur.fetchall()
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in rows]


def person_view(store: StagingStore, person_id: str) -> PersonView:
    """The person's records (with source, the purposes the source declares, and link), flags
    and reviewers' decisions."""
    try:
        records = _dicts(
            store,
            """SELECT p.record_id, r.source, r.source_key,
                      concat_ws(' ', r.given_name, r.middle_name, r.family_name) AS name,
                      r.full_name, r.dob, r.a_number, r.ssn, r.passport_number, r.zip,
                      p.linked_via, p.match_probability, p.match_weight, p.how,
                      CAST(json_extract(s.declaration, '$.purposes') AS VARCHAR[])
                          AS source_purposes
               FROM person_records p JOIN records r USING (record_id)
                    JOIN sources s ON s.name = r.source
               WHERE p.person_id = ? ORDER BY r.source, r.source_key""",
            [person_id],
        )
    except duckdb.CatalogException:  # never resolved: no index tables yet
        ensure_schema(store.con)
        records = []
    if not records:
        raise HabeasError(f"no person with id {person_id}")
    flags = _dicts(
        store,
        """SELECT flag, detail, record_ids, status, resolved_by, resolution
               FROM person_flags WHERE person_id = ? ORDER BY flag""",
        [person_id],
    )
    ids = [r["record_id"] for r in records]
    decisions = _dicts(
        store,
        """SELECT decision_id, kind, decision, record_id_l, record_id_r, reviewer, reason,
                      decided_at, undone_by
               FROM review_decisions
               WHERE record_id_l IN (SELECT unnest($ids)) OR record_id_r IN (SELECT unnest($ids))
                  OR len(list_intersect(coalesce(side_a, []), $ids)) > 0
                  OR len(list_intersect(coalesce(side_b, []), $ids)) > 0
               ORDER BY decision_id""",
        {"ids": ids},
    )
    return PersonView(person_id, records, flags, decisions)
