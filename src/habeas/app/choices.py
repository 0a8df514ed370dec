"""Choices the edges offer (the CLI's help and the API's schema list them): the library's
own lists, spelled out for the type checker; tests/test_cli_app.py checks they match."""

from __future__ import annotations

from typing import Literal

PurposeName = Literal[
    "identity_resolution",
    "case_review",
    "field_operation",
    "custody",
    "oversight",
    "redress",
    "analytics",
]
"""A declared purpose."""

RoleName = Literal[
    "integration_engineer",
    "case_officer",
    "supervisor",
    "field_officer",
    "custody_officer",
    "oversight",
    "counsel",
    "admin",
    "event_feed",
]
"""A role of DESIGN.md."""

StateName = Literal[
    "identified",
    "under_review",
    "charged",
    "warrant_issued",
    "field_action_requested",
    "approved_for_field_action",
    "assigned",
    "encountered",
    "custody_decided",
    "in_proceedings",
    "appeal_window",
    "appeal_pending",
    "final_order",
    "ready_for_removal",
    "on_manifest",
    "removed",
    "departure_verified",
    "fugitive",
    "released",
    "closed",
]
"""A case state."""

StepKind = Literal[
    "add_instrument",
    "add_to_manifest",
    "alternate_order_effective",
    "approve_field_action",
    "assign",
    "begin_proceedings",
    "begin_review",
    "charge",
    "check_in",
    "close",
    "confirm_removal",
    "decide",
    "decide_appeal",
    "decide_custody",
    "decide_motion",
    "decide_petition",
    "deny_stay",
    "file_appeal",
    "file_motion_to_reconsider",
    "file_motion_to_reopen",
    "file_petition_for_review",
    "finalize_order",
    "grant_administrative_stay",
    "grant_protection",
    "grant_stay",
    "issue_warrant",
    "lift_stay",
    "mark_fugitive",
    "mark_ready",
    "raise_flag",
    "record_encounter",
    "refuse_field_action",
    "reject_departure_report",
    "release",
    "report_departure",
    "request_field_action",
    "resolve_flag",
    "set_destination",
    "take_off_manifest",
    "verify_departure",
    "waive_appeal",
    "withdraw_instrument",
]
"""A step a case may record."""

EngineName = Literal["duckdb", "spark"]
"""A resolution engine."""
