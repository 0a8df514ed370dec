"""The rules an assignment and an outcome from the field keep (pure).

- An outcome is about the assignment's subject or about somebody else. About somebody
  else it is recorded as an encounter with a non-subject and nothing more: it cannot be
  an arrest, it moves no case, and it starts nothing without a new case that passes its
  own gates.
- An open assignment lasts only while its case may still be acted on in the field: a
  departure verified, a stay in force, an open citizenship or lawful-status flag, or any
  other reason the field gate gives cancels it, with that reason.
"""

from __future__ import annotations

from datetime import date

from habeas.cases import gates
from habeas.cases.casefile import CaseFile, State

SUBJECT_OUTCOMES = ("arrested", "located_not_detained", "not_located")
NOT_SUBJECT = "not_subject"
OUTCOMES = (*SUBJECT_OUTCOMES, NOT_SUBJECT)
MAX_NOTES = 2000
MAX_PLACE = 200


def outcome_problems(outcome: str, subject: bool, notes: str, place: str) -> list[str]:
    """Every reason an outcome as sent cannot be recorded (before any gate is read)."""
    out = []
    if outcome not in OUTCOMES:
        out.append(f"outcome {outcome[:40]!r} is not one of {', '.join(OUTCOMES)}")
    if not subject and outcome in ("arrested", "located_not_detained"):
        out.append(
            "the person encountered is not the assignment's subject: that is recorded as an "
            "encounter with a non-subject (outcome not_subject), never as an arrest; acting "
            "on that person needs a new case that passes its own gates"
        )
    if subject and outcome == NOT_SUBJECT:
        out.append("not_subject is the outcome for someone who is not the subject")
    if len(notes) > MAX_NOTES:
        out.append(f"notes are at most {MAX_NOTES} characters ({len(notes)} sent)")
    if len(place) > MAX_PLACE:
        out.append(f"place is at most {MAX_PLACE} characters ({len(place)} sent)")
    for name, text in (("notes", notes), ("place", place)):
        if any(ord(c) < 32 and c not in "\n\t" for c in text):
            out.append(f"{name} holds a control character")
    return out


def cancel_reasons(case: CaseFile, today: date) -> list[str]:
    """Why an open assignment on this case may no longer go ahead (empty: it may)."""
    if case.state == State.DEPARTURE_VERIFIED:
        when = f" on {case.departed_on}" if case.departed_on else ""
        return [f"departure verified{when}: the person has left; nobody is to be sent"]
    if case.state in (State.REMOVED, State.CLOSED):
        return [
            f"the case is {case.state.value.replace('_', ' ')}"
            + (f" ({case.closed_reason})" if case.closed_reason else "")
        ]
    out = []
    stays = [s for s in case.stays if s.active_on(today)]
    if stays:
        out.append(f"{stays[0].describe()}: a stay is in force")
    if case.state not in (State.ASSIGNED, State.APPROVED):
        out.append(f"the case moved to {case.state.value.replace('_', ' ')}")
    for reason in gates.field_action_reasons(case, today):
        if reason not in out:
            out.append(reason)
    return out


def reports_for(
    member_office: str | None,
    member_team: str | None,
    assignment_team: str,
    team_office: str | None,
) -> bool:
    """Whether an account may report an assignment's outcome: a field officer for their own
    team's, a supervisor (on no team) for any team of their office."""
    if member_office is None:
        return False
    on_team = member_team == assignment_team
    supervises = member_team is None and team_office == member_office
    return on_team or supervises
