"""Facts that change (safeguard 9): a dispute on a record, decided by someone else than
who opened it; a correction that supersedes the value, breaks the false link, re-scores
the case, notifies the earlier recipient and leaves the packet as of before it unchanged;
a split that later runs keep; clocks that skip federal holidays."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import field_set_up, open_copy
from packetkit import PAST, act, day, linked_person
from sqlalchemy import select

from habeas.app import Habeas
from habeas.errors import AccessDenied, HabeasError
from habeas.redress.clocks import clocks_for, is_working_day
from habeas.resolve.publish import publish_persons
from habeas.resolve.relink import relink
from habeas.store.models import (
    AuditEntry,
    Case,
    CorrectionNotice,
    IndexRecord,
    PriorityHistory,
    RecordCorrection,
)

pytestmark = pytest.mark.slow
COURT = "Immigration Court (synthetic)"


def as_(app: Habeas, who: str) -> Any:
    return app.users.local(who, "test")


def to_assignment(app: Habeas, person: str) -> int:
    """A case on ``person`` with an approved field action assigned to NE-1 (open)."""
    officer = as_(app, "officer1")
    case_id = app.cases.open_case(officer, "case_review", person, PAST).case_id
    app.cases.counsel(officer, "case_review", case_id, "counsel1")
    act(app, "officer1", "case_review", case_id, "begin_review", day(0))
    nta = dict(instrument="nta", reference=f"NTA-{case_id}", authority="ICE ERO (synthetic)")
    act(app, "officer1", "case_review", case_id, "charge", day(1), **nta)
    warrant = dict(instrument="i200", reference=f"I200-{case_id}", authority="FOD (synthetic)")
    act(app, "super1", "field_operation", case_id, "issue_warrant", day(2), **warrant)
    act(app, "officer1", "case_review", case_id, "request_field_action", day(3))
    act(app, "super2", "field_operation", case_id, "approve_field_action", day(4))
    act(app, "super1", "field_operation", case_id, "assign", day(5), team="NE-1")
    return case_id


@pytest.fixture(scope="module")
def redress_world(indexed_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    dest = tmp_path_factory.mktemp("redress") / "data"
    app = open_copy(indexed_template, dest)
    try:
        field_set_up(app)
        person = linked_person(app)
        case_id = to_assignment(app, person)
    finally:
        app.close()
    return dest, person, case_id


@pytest.fixture
def redressed(redress_world: Any, tmp_path: Path) -> Any:
    template, person, case_id = redress_world
    app = open_copy(template, tmp_path / "data")
    yield app, person, case_id
    app.close()


def felony_of_someone_else(app: Habeas, person: str) -> tuple[str, str]:
    """A felony conviction record of another person, and that person."""
    with app.staging() as st:
        rid, pid = st.rows(
            """SELECT r.record_id, p.person_id FROM records r JOIN person_records p
                 USING (record_id)
               WHERE r.source = 'fbi_criminal' AND r.offense_class = 'felony'
                 AND r.disposition = 'convicted' AND p.person_id <> ?
               ORDER BY r.record_id LIMIT 1""",
            [person],
        )[0]
    return rid, pid


def mislink(app: Habeas, record: str, person: str) -> str:
    """The source's error: ``record`` keyed with ``person``'s name and date of birth (and
    no identifier), linked again; returns its true date of birth."""
    now = app.clock.now()
    with app.staging() as st:
        name, family, dob = st.rows(
            """SELECT r.given_name, r.family_name, CAST(r.dob AS VARCHAR) FROM records r
               JOIN person_records p USING (record_id) WHERE p.person_id = ?
                 AND r.dob IS NOT NULL AND r.given_name IS NOT NULL ORDER BY r.record_id
               LIMIT 1""",
            [person],
        )[0]
        [(true_dob, owner)] = st.rows(
            """SELECT CAST(r.dob AS VARCHAR), p.person_id FROM records r
               JOIN person_records p USING (record_id) WHERE r.record_id = ?""",
            [record],
        )
        st.execute(
            """UPDATE records SET given_name = ?, family_name = ?, full_name = NULL,
                 dob = CAST(? AS DATE), dob_precision = 'day', fbi_number = NULL,
                 a_number = NULL, ssn = NULL WHERE record_id = ?""",
            [name, family, dob, record],
        )
        rel = relink(st, [owner, person], now)
        with app.engine.begin() as conn:
            records = sorted({r for recs in rel.before.values() for r in recs})
            publish_persons(conn, st, rel.run_id, rel.persons, records, "", now)
    return str(true_dob)


def test_a_correction_travels_to_every_decision_and_every_earlier_recipient(redressed: Any) -> None:
    app, person, case_id = redressed
    app.cases.prioritize(as_(app, "officer1"), "case_review", app.today())
    record, _ = felony_of_someone_else(app, person)
    true_dob = mislink(app, record, person)
    with app.sessions() as s:
        assert s.get(IndexRecord, record).person_id == person  # the false link
        before = s.get(Case, case_id)
        tier_linked, score_linked = before.priority_tier, before.priority_score
        history = (
            s.execute(select(PriorityHistory).where(PriorityHistory.case_id == case_id))
            .scalars()
            .all()
        )
        assert history[-1].trigger.startswith("publish")  # re-scored by the publish itself
    first = app.packets.produce(
        as_(app, "counsel1"), "redress", person, recipient=COURT, client=person, formats=("json",)
    )
    carried = json.loads(first.files["packet.json"])
    assert any(r["record_id"] == record for r in carried["person"]["records"])

    opened = app.redress.open(
        as_(app, "counsel1"),
        "redress",
        person,
        "record",
        record,
        "This conviction is not my client's: the date of birth was keyed wrong.",
        field="dob",
        claimed_value=true_dob,
        client=person,
    )
    assert opened.state == "open" and opened.acknowledge_by > app.today()
    with pytest.raises(AccessDenied):  # counsel cannot decide, not even their own dispute
        app.redress.decide(
            as_(app, "counsel1"), "redress", opened.dispute_id, "corrected", "agreed, fixing"
        )
    decided = app.redress.decide(
        as_(app, "super1"),
        "case_review",
        opened.dispute_id,
        "corrected",
        "FBI confirms the date of birth on the arrest card differs.",
    )
    assert decided.decision == "corrected" and decided.outcome is not None
    cause = f"correction {decided.outcome['correction']['id']} (dispute {opened.dispute_id})"
    with app.sessions() as s:
        assert s.get(IndexRecord, record).person_id != person  # the link broke
        c = s.execute(select(RecordCorrection)).scalar_one()
        assert (c.old_value, c.new_value) != (None, None) and c.new_value == true_dob
        case = s.get(Case, case_id)
        assert (case.priority_tier, case.priority_score) != (tier_linked, score_linked)
        last = (
            s.execute(
                select(PriorityHistory)
                .where(PriorityHistory.case_id == case_id)
                .order_by(PriorityHistory.id.desc())
            )
            .scalars()
            .first()
        )
        assert last.trigger == cause and last.old_score == score_linked
        notice = s.execute(select(CorrectionNotice)).scalar_one()
        assert notice.production_id == first.production_id and notice.recipient == COURT
        cited = [
            a.action
            for a in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
            if cause in (a.detail or "")
        ]
    for step in ("record_corrected", "persons_relinked", "reprioritize", "recipient_notified"):
        assert step in cited, (step, cited)
    rebuilt = app.packets.rebuild(
        as_(app, "counsel1"), "redress", first.production_id, client=person
    )
    assert rebuilt.same, rebuilt.differences
    after = app.packets.produce(
        as_(app, "counsel1"), "redress", person, recipient=COURT, client=person
    )
    packet = json.loads(after.files["packet.json"])
    [shown] = packet["disputes"]
    [fix] = shown["corrections"]
    assert shown["decision"] == "corrected" and fix["record_id"] == record
    assert fix["value"] == true_dob and fix["superseded_value"] not in (None, true_dob)
    assert shown["notices"][0]["production"] == f"production:{first.production_id}"
    assert shown["id"] in after.files["packet.html"].decode()
    assert record not in {r["record_id"] for r in packet["person"]["records"]}


def test_the_disputer_may_not_decide_and_a_bad_value_is_named(redressed: Any) -> None:
    app, person, _ = redressed
    with app.sessions() as s:
        record = (
            s.execute(select(IndexRecord.record_id).where(IndexRecord.person_id == person))
            .scalars()
            .first()
        )
    opened = app.redress.open(
        as_(app, "super1"), "case_review", person, "record", record, "The birth date is wrong here."
    )
    with pytest.raises(AccessDenied):
        app.redress.decide(
            as_(app, "super1"), "case_review", opened.dispute_id, "denied", "I opened it myself"
        )
    with pytest.raises(HabeasError, match="dob"):
        app.redress.decide(
            as_(app, "super2"),
            "case_review",
            opened.dispute_id,
            "corrected",
            "the evidence shows another date",
            field="dob",
            value="31/02/1990",
        )
    denied = app.redress.decide(
        as_(app, "super2"), "case_review", opened.dispute_id, "denied", "The record matches."
    )
    assert denied.decision == "denied"
    with pytest.raises(AccessDenied):  # counsel of someone else's client
        app.redress.statement(
            as_(app, "counsel1"), "redress", opened.dispute_id, "I disagree entirely.", client="X"
        )
    filed = app.redress.statement(
        as_(app, "counsel1"),
        "redress",
        opened.dispute_id,
        "My client disagrees: the birth date is not theirs.",
        client=person,
    )
    assert filed.statement and filed.verified
    with pytest.raises(AccessDenied):  # where a person's records went is not for everyone
        app.redress.redirects(as_(app, "field1"), "field_operation", person)
    assert app.redress.redirects(as_(app, "super1"), "case_review", person) == []


def test_clocks_skip_weekends_and_federal_holidays() -> None:
    # Thursday 2 July 2026: Friday 3 July is Independence Day observed
    c = clocks_for(date(2026, 7, 2))
    assert not is_working_day(date(2026, 7, 3))
    assert c.acknowledge_by == date(2026, 7, 17)
    assert c.decide_by == date(2026, 8, 14)
    # Christmas Eve 2026 (Thursday): Christmas Friday, New Year's Day Friday
    c = clocks_for(date(2026, 12, 24))
    assert c.acknowledge_by == date(2027, 1, 11)
    span = [date(2026, 12, 24) + timedelta(days=i) for i in range(1, 19)]
    assert sum(is_working_day(d) for d in span if d <= c.acknowledge_by) == 10
