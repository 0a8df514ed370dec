"""Corrected values in the staged records: each correction kept beside the value it
superseded (``record_corrections``), and applied again when a later ingest brings the
old value back (the source has not fixed it yet); a source that sends another value is
believed, the correction staying on the record."""

from __future__ import annotations

from datetime import datetime

from habeas.errors import HabeasError
from habeas.store.staging import StagingStore


def staged_value(store: StagingStore, record_id: str, field_name: str) -> str | None:
    """The staged record's value of one field, as text (None when empty)."""
    rows = store.rows(
        f"SELECT CAST({field_name} AS VARCHAR) FROM records WHERE record_id = ?", [record_id]
    )
    if not rows:
        raise HabeasError(f"no staged record with id {record_id}")
    return None if rows[0][0] is None else str(rows[0][0])


def apply_correction(
    store: StagingStore,
    correction_id: int,
    record_id: str,
    field_name: str,
    value: str | None,
    now: datetime,
) -> str | None:
    """Record a correction beside the value it supersedes and apply it to the staged
    record (the caller's transaction); returns the old value."""
    old = staged_value(store, record_id, field_name)
    store.execute(
        "INSERT INTO record_corrections VALUES (?, ?, ?, ?, ?, ?)",
        [correction_id, record_id, field_name, old, value, now],
    )
    _set(store, record_id, field_name, value)
    return old


def _set(store: StagingStore, record_id: str, field_name: str, value: str | None) -> None:
    extra = ", dob_precision = 'day'" if field_name == "dob" else ""
    extra += ", address_date_precision = 'day'" if field_name == "address_date" else ""
    store.execute(
        f"UPDATE records SET {field_name} = ?{extra} WHERE record_id = ?", [value, record_id]
    )


def reapply_corrections(store: StagingStore) -> int:
    """After an ingest: corrections in force whose record came back with the old value
    again are applied again; returns how many."""
    rows = store.rows(
        """SELECT c.record_id, c.field, c.old_value, c.new_value FROM record_corrections c
           QUALIFY row_number() OVER (PARTITION BY c.record_id, c.field
                                      ORDER BY c.correction_id DESC) = 1"""
    )
    n = 0
    for record_id, field_name, old, new in rows:
        try:
            now = staged_value(store, record_id, field_name)
        except HabeasError:
            continue  # the record is gone (purged)
        if now == old and now != new:
            _set(store, record_id, field_name, new)
            n += 1
    return n
