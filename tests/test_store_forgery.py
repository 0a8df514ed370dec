"""What someone with write access to the operational store (but not the history key)
tries next: widening a published source's purposes by hand. The row no longer carries
its seal, so the source is read for nothing, and audit verify names it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TODAY
from sqlalchemy import create_engine, text

from habeas.app import Habeas
from habeas.errors import AccessDenied


def test_a_purpose_widened_by_hand_opens_nothing(indexed_app: Habeas) -> None:
    app = indexed_app
    officer = app.users.local("officer1", "t")
    with app.reader() as s:
        person = s.execute(text("SELECT person_id FROM index_records LIMIT 1")).scalar_one()
    app.index.person(officer, "case_review", person)
    with pytest.raises(AccessDenied):  # no source declares analytics for a case officer
        app.index.person(officer, "analytics", person)
    assert app.audit.verify()[0].ok
    raw = create_engine(app.settings.operational_url)
    with raw.begin() as conn:
        rows = conn.execute(text("SELECT name, purposes, version_purposes FROM index_sources"))
        for name, purposes, versions in rows.all():
            wide = sorted({*json.loads(purposes), "analytics"})
            v = {k: sorted({*p, "analytics"}) for k, p in json.loads(versions or "{}").items()}
            conn.execute(
                text(
                    "UPDATE index_sources SET purposes = :p, version_purposes = :v WHERE name = :n"
                ),
                {"p": json.dumps(wide), "v": json.dumps(v), "n": name},
            )
    raw.dispose()
    with pytest.raises(AccessDenied):  # the widened rows carry no seal: read for nothing
        app.index.person(officer, "analytics", person)
    # and not for their old purposes either: every record is withheld
    seen = app.index.person(officer, "case_review", person)
    assert seen.records == [] and seen.withheld > 0
    v, _ = app.audit.verify()
    assert not v.ok and "does not carry its seal" in (v.history_problem or "")


def test_a_purpose_widened_in_the_staging_registry_is_not_laundered(
    indexed_app: Habeas,
) -> None:
    """A writer of the DuckDB file widens a source's declared purposes there: the registry
    row no longer carries its seal, so the source is in force for nothing (ingest refuses
    it, the next refresh publishes no purpose for it) until it is registered again."""
    from habeas.errors import HabeasError
    from habeas.resolve.publish import refresh_index_purposes
    from habeas.sources.registry import effective_purposes, get_source

    app = indexed_app
    with app.staging() as st:
        decl = json.loads(st.scalar("SELECT declaration FROM sources WHERE name = 'dmv_licenses'"))
        assert "analytics" not in decl["purposes"]
        decl["purposes"] = sorted({*decl["purposes"], "analytics"})
        st.con.execute(
            "UPDATE sources SET declaration = ? WHERE name = 'dmv_licenses'", [json.dumps(decl)]
        )
        assert effective_purposes(st)["dmv_licenses"] == []  # in force for nothing
        assert get_source(st, "dmv_licenses").status == "unsealed"
        refresh_index_purposes(app.engine, st)
    with pytest.raises(HabeasError, match="does not carry its seal"):
        app.pipeline.ingest(
            app.users.local("eng1", "t"),
            "identity_resolution",
            "dmv_licenses",
            Path("unused.parquet"),
            TODAY,
        )
    officer = app.users.local("officer1", "t")
    with pytest.raises(AccessDenied):
        app.index.person(officer, "analytics", "anyone")
