"""Authorization by Cedar policy: role × purpose on cases, counsel and their client, the
admin who reads no personal data, source purposes that bind, a schema without traits."""

from __future__ import annotations

import re

import pytest

from habeas.errors import HabeasError
from habeas.governance.authz import (
    PURPOSES,
    ROLES,
    AccessContext,
    Resource,
    _read,
    authorize,
    authorize_batch,
    check_policies,
)

Y, N = True, False
# Reading a case: rows are roles, columns the purposes in this order.
CASE_READ_COLUMNS = (
    "identity_resolution",
    "case_review",
    "field_operation",
    "custody",
    "oversight",
    "redress",
    "analytics",
)
CASE_READ = {
    "integration_engineer": (N, N, N, N, N, N, N),
    "case_officer": (N, Y, N, N, N, N, N),
    "supervisor": (N, Y, Y, N, N, N, N),
    "field_officer": (N, N, Y, N, N, N, N),
    "custody_officer": (N, N, N, Y, N, N, N),
    "oversight": (N, N, N, N, Y, N, N),
    "counsel": (N, N, N, N, N, N, N),  # not their client's case: see below
    "admin": (N, N, N, N, N, N, N),
    "event_feed": (N, N, N, N, N, N, N),  # posts events; reads nothing
}
# Writing a case (a step every writing role may record: a release).
CASE_WRITE = {
    "integration_engineer": (N, N, N, N, N, N, N),
    "case_officer": (N, Y, N, N, N, N, N),
    "supervisor": (N, Y, Y, N, N, N, N),
    "field_officer": (N, N, N, N, N, N, N),
    "custody_officer": (N, N, N, Y, N, N, N),
    "oversight": (N, N, N, N, N, N, N),
    "counsel": (N, N, N, N, N, N, N),
    "admin": (N, N, N, N, N, N, N),
    "event_feed": (N, N, N, N, N, N, N),  # only what a departure does: below
}


def case(person: str = "P1", counsel: str = "") -> Resource:
    person_ref = {"__entity": {"type": "Habeas::Person", "id": person}}
    return Resource(
        "Case",
        f"case-{person}-{counsel or 'none'}",
        {"person": person_ref, "person_id": person, "counsel": counsel, "state": "identified"},
        ({"uid": {"type": "Habeas::Person", "id": person}, "attrs": {"flags": []}, "parents": []},),
    )


def record(source_purposes: list[str]) -> Resource:
    src = {"type": "Habeas::Source", "id": "some_source"}
    person = {"type": "Habeas::Person", "id": "P1"}
    return Resource(
        "Record",
        "r1",
        {"source": {"__entity": src}, "person": {"__entity": person}},
        (
            {"uid": src, "attrs": {"purposes": source_purposes}, "parents": []},
            {"uid": person, "attrs": {"flags": []}, "parents": []},
        ),
    )


@pytest.mark.parametrize("table,action", [(CASE_READ, "read"), (CASE_WRITE, "write")])
def test_role_by_purpose_on_cases(table: dict[str, tuple[bool, ...]], action: str) -> None:
    assert set(table) == set(ROLES) and CASE_READ_COLUMNS == PURPOSES
    for role, row in table.items():
        for purpose, expected in zip(CASE_READ_COLUMNS, row, strict=True):
            step = "release" if action == "write" else ""
            d = authorize(AccessContext("u1", role, purpose), action, case(), step=step)
            assert d.allowed is expected, (role, purpose, action, d.why())
            if not expected:
                assert d.why()  # a refusal always says why
            if action == "write":  # a write that names no step is nobody's to make
                bare = authorize(AccessContext("u1", role, purpose), "write", case())
                assert not bare.allowed and bare.why()


def test_counsel_sees_only_their_client() -> None:
    mine = case("P1", counsel="lawyer1")
    ctx = AccessContext("lawyer1", "counsel", "redress", client="P1")
    d = authorize(ctx, "read", mine)
    assert d.allowed and d.policies == ("counsel-own-client",)
    assert not authorize(ctx, "read", case("P2", counsel="lawyer2")).allowed
    assert not authorize(ctx, "read", case("P2", counsel="lawyer1")).allowed  # not the client
    other = AccessContext("lawyer2", "counsel", "redress", client="P1")
    assert not authorize(other, "read", mine).allowed
    assert not authorize(ctx, "write", mine).allowed


def test_admin_manages_users_but_reads_no_personal_data() -> None:
    admin = AccessContext("root", "admin", "oversight")
    d = authorize(admin, "read", case())
    assert not d.allowed and d.policies == ("admin-reads-no-personal-data",)
    assert not authorize(admin, "read", record(list(PURPOSES))).allowed
    directory = Resource("UserDirectory", "users")
    assert authorize(admin, "manage_users", directory).allowed
    assert not authorize(
        AccessContext("o", "oversight", "oversight"), "manage_users", directory
    ).allowed


def test_a_source_that_does_not_permit_the_purpose_is_not_read() -> None:
    engineer = AccessContext("eng", "integration_engineer", "identity_resolution")
    assert authorize(engineer, "read", record(["identity_resolution"])).allowed
    d = authorize(engineer, "read", record(["case_review"]))
    assert not d.allowed and d.policies == ("source-purpose-binds",)
    officer = AccessContext("o", "oversight", "oversight")
    assert not authorize(officer, "read", record(["identity_resolution"])).allowed


def test_batch_decisions_agree_with_single_ones() -> None:
    ctx = AccessContext("lawyer1", "counsel", "redress", client="P1")
    items = [case("P1", "lawyer1"), case("P2", "lawyer1"), case("P1", "other")]
    assert [d.allowed for d in authorize_batch(ctx, "read", items)] == [
        authorize(ctx, "read", r).allowed for r in items
    ]


def test_unknown_role_or_purpose_is_refused_before_any_decision() -> None:
    with pytest.raises(HabeasError, match="unknown role"):
        AccessContext("u", "superuser", "case_review")
    with pytest.raises(HabeasError, match="unknown purpose"):
        AccessContext("u", "case_officer", "curiosity")


PROTECTED = re.compile(
    r"race|ethnic|religio|politic|affiliat|associat|gang|health|medical|sexual|orientation|"
    r"gender|nationality",
    re.IGNORECASE,
)


def test_the_schema_has_no_attribute_for_a_protected_trait() -> None:
    schema = "\n".join(
        line
        for line in _read("habeas.cedarschema").splitlines()
        if not line.strip().startswith("//")
    )
    assert PROTECTED.search(schema) is None


@pytest.mark.parametrize(
    "policy",
    [
        "permit (principal, action, resource is Habeas::Person) "
        'when { resource.ethnicity == "x" };',
        'permit (principal, action == Habeas::Action::"delete_everything", resource);',
        "permit (principal, action, resource",  # does not parse
    ],
)
def test_a_policy_outside_the_schema_is_refused_at_load(policy: str) -> None:
    with pytest.raises(HabeasError, match="authorization policies"):
        check_policies(policy, _read("habeas.cedarschema"))


def test_only_integration_engineers_review_links_and_only_for_identity_resolution() -> None:
    ok = record(["identity_resolution", "case_review"])
    engineer = AccessContext("eng", "integration_engineer", "identity_resolution")
    d = authorize(engineer, "review_link", ok)
    assert d.allowed and d.policies == ("integration-engineer-reviews-links",)
    assert not authorize(engineer, "review_link", record(["case_review"])).allowed
    officer = AccessContext("o", "case_officer", "case_review")
    assert authorize(officer, "read", ok).allowed
    assert not authorize(officer, "review_link", ok).allowed
    other_purpose = AccessContext("eng", "integration_engineer", "case_review")
    assert not authorize(other_purpose, "review_link", ok).allowed


def source(purposes: list[str]) -> Resource:
    return Resource("Source", "some_source", {"purposes": purposes})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("purpose", PURPOSES)
def test_only_integration_engineers_load_and_resolve_and_only_for_identity_resolution(
    role: str, purpose: str
) -> None:
    """Ingest (on a source) and resolve (on a source's records) belong to one role and one
    purpose, and a source that does not declare the purpose can be neither."""
    ctx = AccessContext("u1", role, purpose)
    expected = role == "integration_engineer" and purpose == "identity_resolution"
    every = list(PURPOSES)
    assert authorize(ctx, "ingest", source(every)).allowed is expected
    assert authorize(ctx, "resolve", record(every)).allowed is expected
    without = [p for p in PURPOSES if p != "identity_resolution"]
    refused = authorize(ctx, "ingest", source(without))
    assert not refused.allowed
    if expected:
        assert refused.policies == ("ingest-for-a-declared-purpose",)
        assert authorize(ctx, "resolve", record(without)).policies == ("source-purpose-binds",)


# Which role may take which case step (write, with the step in the context), for the
# purpose the role works under. Rows: roles; columns: the steps below, in order.
STEPS = (
    "charge",
    "approve_field_action",
    "resolve_flag",
    "record_encounter",
    "decide_custody",
    "confirm_removal",
    "place",
    "assign_counsel",
    "issue_warrant",
    "grant_administrative_stay",
    "lift_stay",
    "waive_appeal",
)
STEP_PURPOSE = {
    "case_officer": "case_review",
    "supervisor": "field_operation",
    "field_officer": "field_operation",
    "custody_officer": "custody",
    "integration_engineer": "identity_resolution",
    "oversight": "oversight",
    "counsel": "redress",
    "admin": "oversight",
    "event_feed": "identity_resolution",
}
STEP_TABLE = {
    #              charge approve resolve encounter custody remove place counsel warrant
    #              I-246 lift waive
    "case_officer": (Y, N, N, N, N, N, N, Y, N, N, Y, Y),
    "supervisor": (Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y),
    "field_officer": (N, N, N, Y, N, N, N, N, N, N, N, N),
    "custody_officer": (N, N, N, N, Y, Y, Y, N, N, N, N, N),
    "integration_engineer": (N, N, N, N, N, N, N, N, N, N, N, N),
    "oversight": (N, N, N, N, N, N, N, N, N, N, N, N),
    "counsel": (N, N, N, N, N, N, N, N, N, N, N, N),
    "admin": (N, N, N, N, N, N, N, N, N, N, N, N),
    "event_feed": (N, N, N, N, N, N, N, N, N, N, N, N),
}


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_feed_account_records_only_what_stops_enforcement_and_reads_nothing(
    purpose: str,
) -> None:
    """An event feed's account may record a verified or reported departure and take a
    person off a manifest — for identity_resolution only — and nothing that starts or
    carries enforcement; it reads no case, person or record, and ingests no file."""
    from habeas.cases.lifecycle import EVENTS

    ctx = AccessContext("feed1", "event_feed", purpose)
    allowed = {k for k in EVENTS if authorize(ctx, "write", case(), step=k).allowed}
    if purpose == "identity_resolution":
        assert allowed == {"verify_departure", "report_departure", "take_off_manifest"}
    else:
        assert allowed == set()
    assert not authorize(ctx, "read", case()).allowed
    assert not authorize(ctx, "read", record(list(PURPOSES))).allowed
    assert not authorize(ctx, "ingest", source(list(PURPOSES))).allowed
    posts = authorize(ctx, "post_events", source(list(PURPOSES))).allowed
    assert posts is (purpose == "identity_resolution")
    without = [p for p in PURPOSES if p != purpose]
    assert not authorize(ctx, "post_events", source(without)).allowed


def test_every_lifecycle_step_has_a_row_in_the_role_by_step_table() -> None:
    """A step no role may record would be a step nobody can take; one the table names
    that the lifecycle does not know is a typo that permits nothing."""
    import re

    from habeas.cases.lifecycle import EVENTS
    from habeas.governance.authz import load_policies

    text = load_policies().text
    table = text[text.index('@id("steps-case-officer")') :]
    named = set(re.findall(r"\[\s*([^\]]*)\]\.contains\(context\.step\)", table, re.S))
    named = {n for block in named for n in re.findall(r'"([a-z_]+)"', block)}
    named |= set(re.findall(r'context\.step == "([a-z_]+)"', table))
    system_only = {"raise_flag"}  # the index raises flags; officers may too, for the record
    others = {
        "opened",
        "note",
        "assign_counsel",
        "prioritize",
        "place",
        "transfer",
        "attach_document",
        "verify_document",  # a second person vouches for an order against its docket
    }
    assert set(EVENTS) - system_only <= named, set(EVENTS) - named
    assert named - set(EVENTS) - others == set()


@pytest.mark.parametrize("role", sorted(STEP_TABLE))
def test_case_steps_by_role(role: str) -> None:
    purpose, row = STEP_PURPOSE[role], STEP_TABLE[role]
    assert set(STEP_TABLE) == set(ROLES)
    for step, expected in zip(STEPS, row, strict=True):
        d = authorize(AccessContext("u1", role, purpose), "write", case(), step=step)
        assert d.allowed is expected, (role, step, d.why())


def test_record_decisions_are_per_source_only_while_no_policy_reads_the_person() -> None:
    from habeas.governance.authz import (
        load_policies,
        records_independent_of_person,
        source_decisions,
    )

    # the shipped policies: per source for every role but counsel, whose reads of records
    # are about their own client (a policy reads the record's person)
    for role in ("case_officer", "supervisor", "oversight", "integration_engineer"):
        assert records_independent_of_person(role=role)
    assert not records_independent_of_person(role="counsel")
    text = "permit (principal, action, resource is Habeas::Record);"
    assert load_policies().text  # the shipped ones parse; the text checks use a sample
    assert records_independent_of_person(text + "\\n// resource.person_id is a Case field")
    assert not records_independent_of_person(text + "\\nwhen { resource.person.flags }")
    assert not records_independent_of_person(text + '\\nresource == Habeas::Record::"r1"')
    ctx = AccessContext("c1", "custody_officer", "custody")
    person = Resource("Person", "P1", {"flags": ["citizenship"]})
    got = source_decisions(ctx, "read", {"a": ["custody"], "b": ["case_review"]}, person)
    assert got["a"].allowed and not got["b"].allowed
    assert got["b"].policies == ("source-purpose-binds",)
    again = source_decisions(ctx, "read", {"a": ["custody"], "b": ["case_review"]}, person)
    assert again == got
