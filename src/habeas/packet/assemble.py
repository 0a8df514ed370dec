"""Gather a packet's contents as the system saw them at ``as_of``: the person's records and
the links between them (from the index's history), flags, reviewers' decisions, each case's
events, refusals, instruments, gates, field work, custody and departures, the documents,
who read the person's data, and the audit log's integrity for the entries cited.

Pure reads on a session (the caller decided and audits); every item carries a stable
``id`` so the HTML and the PDF can be checked against the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from habeas.cases import gates
from habeas.cases.casefile import CaseFile
from habeas.cases.event_store import OPENED, stored_events
from habeas.cases.history import chain_problem
from habeas.cases.instruments import FORMS
from habeas.cases.lifecycle import event_from_payload, transition
from habeas.cases.queries import court_entry
from habeas.governance.disclosure import FIELD_KINDS, mask
from habeas.packet import SCHEMA_VERSION
from habeas.packet.integrity import audit_integrity
from habeas.packet.waterfall import Pair, waterfalls
from habeas.redress import disputes as redress
from habeas.resolve.history import IndexState
from habeas.store.keys import key_for
from habeas.store.models import (
    Assignment,
    Case,
    CaseDocument,
    CaseEvent,
    CaseRefusal,
    Facility,
    FieldOutcome,
    InboxEvent,
    IndexRun,
    PacketProduction,
    Placement,
    PriorityHistory,
)

REMOVAL_STEPS = frozenset({"mark_ready", "add_to_manifest", "confirm_removal"})
"""Enforcement steps the removal gate stands before."""
FIELD_STEPS = frozenset({"assign", "record_encounter", "decide_custody"})
"""Enforcement steps the field-action gate stands before (the others on the way to it —
a charge, a warrant, a request, an approval — answer to the citizenship-flag check)."""


@dataclass(frozen=True)
class View:
    """Who the packet is built for: the role and purpose decide what it may show."""

    role: str
    purpose: str
    whole: frozenset[str]
    readable: frozenset[tuple[str, int]]
    """(source, declaration version) pairs whose records the purpose may read."""


def iso(value: Any) -> str | None:
    """A moment or day as ISO text (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(value.isoformat())


def _shown(view: View, kind: str, value: str | None) -> str | None:
    return value if kind in view.whole or value is None else mask(value)


def person_section(
    state: IndexState | None, view: View
) -> tuple[dict[str, Any], list[dict[str, Any]], set[str]]:
    """The person's records the purpose may read (with lineage and legal authority), the
    index state they come from, and the ids shown."""
    if state is None:
        return (
            {
                "index_state": None,
                "records": [],
                "withheld": 0,
                "withheld_reason": "",
                "note": "no record of the person index for this person is that old",
            },
            [],
            set(),
        )
    content = state.content
    sources = content.get("sources", {})
    shown, withheld = [], 0
    for r in content.get("records", []):
        if (r["source"], int(r.get("source_version") or 1)) not in view.readable:
            withheld += 1
            continue
        src = sources.get(r["source"], {})
        shown.append(
            {
                "id": f"record:{r['record_id']}",
                "record_id": r["record_id"],
                "source": r["source"],
                "agency": src.get("agency", ""),
                "legal_authority": src.get("legal_authority", ""),
                "declaration_version": int(r.get("source_version") or 1),
                "batch_id": r.get("batch_id"),
                "file_sha256": r.get("file_sha256"),
                "row_number": r.get("row_number"),
                "source_key": r.get("source_key"),
                "values": {
                    "name": r.get("name"),
                    "dob": r.get("dob"),
                    "a_number": _shown(view, "a_number", r.get("a_number")),
                    "ssn": _shown(view, "ssn", r.get("ssn")),
                    "passport_number": _shown(view, "passport_number", r.get("passport_number")),
                    "street": r.get("street"),
                    "city": r.get("city"),
                    "state": r.get("state"),
                    "zip": r.get("zip"),
                    "address_date": r.get("address_date"),
                },
                "linked_via": r.get("linked_via"),
                "how": r.get("how"),
                "match_probability": r.get("match_probability"),
                "match_weight": r.get("match_weight"),
            }
        )
    section = {
        "index_state": {
            "valid_from": iso(state.valid_from),
            "reason": state.reason,
            "run_id": state.run_id,
            "sha256": state.sha256,
            "verified": state.sealed,
        },
        "records": shown,
        "withheld": withheld,
        "withheld_reason": (
            f"their sources do not declare the purpose {view.purpose}" if withheld else ""
        ),
        "note": "",
    }
    return section, content.get("records", []), {r["record_id"] for r in shown}


def link_section(
    session: Session, state: IndexState | None, raw: list[dict[str, Any]], ids: set[str]
) -> list[dict[str, Any]]:
    """Every link joining two shown records: probability and the whole waterfall."""
    if state is None:
        return []
    by_id = {r["record_id"]: r for r in raw}
    seen: set[frozenset[str]] = set()
    pairs = []
    for r in raw:
        via = r.get("linked_via")
        if via and r["record_id"] in ids and via in ids and via != r["record_id"]:
            key = frozenset((r["record_id"], via))
            if key not in seen:  # two records linked via each other: one link
                seen.add(key)
                pairs.append(Pair(r["record_id"], via))
    if not pairs:
        return []
    run = session.get(IndexRun, state.run_id)
    if run is None:
        return [
            {
                "id": f"link:{p.left}~{p.right}",
                "left": p.left,
                "right": p.right,
                "match_probability": by_id[p.left].get("match_probability"),
                "match_weight": by_id[p.left].get("match_weight"),
                "model_run": state.run_id,
                "waterfall": None,
                "note": f"the model of run {state.run_id} is no longer kept",
            }
            for p in pairs
        ]
    features = {rid: r.get("features", {}) for rid, r in by_id.items()}
    found = waterfalls(run.model_json, json.loads(run.input_schema), features, pairs)
    out = []
    for p in pairs:
        w = found.get(p)
        out.append(
            {
                "id": f"link:{p.left}~{p.right}",
                "left": p.left,
                "right": p.right,
                "match_probability": w["match_probability"] if w else None,
                "match_weight": w["match_weight"] if w else None,
                "model_run": state.run_id,
                "waterfall": w,
                "note": "" if w else "the prepared values of these records were not kept",
            }
        )
    return out


def flags_and_decisions(
    raw_content: dict[str, Any] | None, ids: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The index's flags on shown records (who resolved each, when, why) and reviewers'
    decisions naming them."""
    if raw_content is None:
        return [], []
    flags = []
    for n, f in enumerate(raw_content.get("flags", []), start=1):
        if not ids & set(f.get("record_ids", [])):
            continue
        flags.append(
            {
                "id": f"flag:{f['flag']}:{n}",
                "flag": f["flag"],
                "detail": f.get("detail", ""),
                "record_ids": sorted(set(f.get("record_ids", [])) & ids),
                "status": f.get("status", ""),
                "raised_at": f.get("raised_at"),
                "resolved_by": f.get("resolved_by"),
                "resolution": f.get("resolution"),
                "resolved_at": f.get("resolved_at"),
            }
        )
    decisions = [
        {
            "id": f"decision:{d['decision_id']}",
            "decision_id": d["decision_id"],
            "kind": d["kind"],
            "decision": d["decision"],
            "record_ids": sorted(set(d["record_ids"]) & ids),
            "reviewer": d["reviewer"],
            "reason": d["reason"],
            "decided_at": d["decided_at"],
            "undone_by": d.get("undone_by"),
        }
        for d in raw_content.get("decisions", [])
        if ids & set(d["record_ids"])
    ]
    return flags, decisions


def _priority(session: Session, case: Case, as_of: datetime) -> dict[str, Any] | None:
    q = (
        select(PriorityHistory)
        .where(PriorityHistory.case_id == case.id, PriorityHistory.valid_from <= as_of)
        .order_by(PriorityHistory.valid_from.desc(), PriorityHistory.id.desc())
        .limit(1)
    )
    p = session.execute(q).scalar_one_or_none()
    if p is None:
        return None
    return {
        "id": f"priority:{case.id}",
        "policy_version": p.policy_version,
        "tier": p.tier,
        "score": p.score,
        "valid_from": iso(p.valid_from),
        "facts_hash": p.facts_hash,
        "rules": [
            {
                "rule_id": str(r.get("rule_id", "")),
                "description": str(r.get("description", "")),
                "points": r.get("points", 0),
                "tier": r.get("tier"),
                "facts": [f"{k}={v}" for k, v in r.get("facts", [])],
                "record_ids": list(r.get("record_ids", [])),
            }
            for r in json.loads(p.explanation or "[]")
        ],
    }


def _events(session: Session, case: Case, as_of: datetime) -> list[CaseEvent]:
    q = (
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.at <= as_of)
        .order_by(CaseEvent.seq)
    )
    return list(session.execute(q).scalars())


def _gates(case: Case, events: list[CaseEvent]) -> tuple[list[dict[str, Any]], str, list[Any]]:
    """Each enforcement step's gate as it stood just before the step, the state the history
    reaches, and the instruments it holds."""
    file = CaseFile(str(case.id), case.person_id)
    out = []
    for e in events:
        if e.kind == OPENED:
            continue
        event = event_from_payload(json.loads(e.payload))
        if event.enforcement and event.on is not None:
            if e.kind in REMOVAL_STEPS:
                gate, reasons = "removal", gates.removal_reasons(file, event.on)
            elif e.kind in FIELD_STEPS:
                gate, reasons = "field action", gates.field_action_reasons(file, event.on)
            else:
                gate, reasons = "citizenship flag", gates.flag_reasons(file, ("citizenship",))
            out.append(
                {
                    "id": f"gate:{case.id}:{e.seq}",
                    "event_seq": e.seq,
                    "step": e.kind,
                    "gate": gate,
                    "on": iso(event.on),
                    "open": not reasons,
                    "reasons": reasons,
                }
            )
        moved = transition(file, event)
        if isinstance(moved, CaseFile):
            file = moved
    return out, file.state.value, list(file.instruments)


def case_section(session: Session, case: Case, as_of: datetime) -> dict[str, Any]:
    """One case as of ``as_of``: events, refusals, instruments, gates, field work, custody,
    the removal flight, departures and documents."""
    events = _events(session, case, as_of)
    gate_rows, state, instruments = _gates(case, events)
    stored = [e for e in stored_events(session, case.id) if e.at <= as_of]
    problem = chain_problem(stored, key_for(session.connection()))
    history = []
    for e in events:
        entry = court_entry(e)
        entry.pop("payload", None)
        history.append({"id": f"event:{case.id}:{e.seq}", **entry})
    refused = [
        {
            "id": f"refusal:{case.id}:{r.id}",
            "at": iso(r.at),
            "kind": r.kind,
            "actor": r.actor,
            "role": r.role,
            "on": iso(r.on_date),
            "refused_by": r.refused_by,
            "reasons": json.loads(r.reasons),
        }
        for r in session.execute(
            select(CaseRefusal)
            .where(CaseRefusal.case_id == case.id, CaseRefusal.at <= as_of)
            .order_by(CaseRefusal.id)
        ).scalars()
    ]
    return {
        "id": f"case:{case.id}",
        "case_id": case.id,
        "state": state,
        "opened_at": iso(case.opened_at) if case.opened_at and case.opened_at <= as_of else None,
        "history_verified": problem is None,
        "history_problem": problem or "",
        "priority": _priority(session, case, as_of),
        "events": history,
        "refused": refused,
        "instruments": [
            {
                "id": f"instrument:{case.id}:{n}",
                "kind": i.kind,
                "form": FORMS.get(i.kind, i.kind),
                "number": i.reference or "",
                "issuing_authority": i.issuing_authority,
                "signed_by": i.signed_by,
                "issued_on": iso(i.issued_on),
                "expires_on": iso(i.expires_on),
                "status": i.status,
                "document_sha256": i.document_sha256,
                "basis": i.basis,
            }
            for n, i in enumerate(instruments, start=1)
        ],
        "gates": gate_rows,
        "field": _field(session, case, as_of),
        "custody": _custody(session, case, as_of),
        "departures": _departures(session, case, as_of),
        "documents": _documents(session, case, as_of),
    }


def _field(session: Session, case: Case, as_of: datetime) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Assignment)
        .where(Assignment.case_id == case.id, Assignment.assigned_at <= as_of)
        .order_by(Assignment.id)
    ).scalars()
    out = []
    for a in rows:
        closed = a.closed_at is not None and a.closed_at <= as_of
        outcomes = [
            {
                "id": f"outcome:{o.uuid}",
                "outcome": o.outcome,
                "subject": o.subject,
                "occurred_at": iso(o.occurred_at),
                "received_at": iso(o.received_at),
                "place": o.place,
                "notes": o.notes,
                "reported_by": o.reported_by,
                "digest": o.digest,
            }
            for o in session.execute(
                select(FieldOutcome)
                .where(FieldOutcome.assignment_id == a.id, FieldOutcome.received_at <= as_of)
                .order_by(FieldOutcome.received_at, FieldOutcome.uuid)
            ).scalars()
        ]
        address = json.loads(a.address or "{}")
        out.append(
            {
                "id": f"assignment:{a.id}",
                "team": a.team,
                "day": iso(a.day),
                "status": a.status if closed else "open",
                "assigned_by": a.assigned_by,
                "assigned_at": iso(a.assigned_at),
                "address_confidence": address.get("confidence"),
                "address_sources": address.get("sources", []),
                "closed_at": iso(a.closed_at) if closed else None,
                "closed_by": a.closed_by if closed else None,
                "reason": a.reason if closed else None,
                "outcomes": outcomes,
            }
        )
    return out


def _custody(session: Session, case: Case, as_of: datetime) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Placement, Facility)
        .join(Facility, Facility.id == Placement.facility_id)
        .where(Placement.case_id == case.id, Placement.started_on <= as_of.date())
        .order_by(Placement.started_on, Placement.id)
    ).all()
    return [
        {
            "id": f"placement:{p.id}",
            "facility": f.code,
            "facility_name": f.name,
            "standard": f.standard,
            "started_on": iso(p.started_on),
            "ended_on": iso(p.ended_on) if p.ended_on and p.ended_on <= as_of.date() else None,
            "reason": p.reason,
        }
        for p, f in rows
    ]


def _departures(session: Session, case: Case, as_of: datetime) -> list[dict[str, Any]]:
    rows = session.execute(
        select(InboxEvent)
        .where(InboxEvent.case_id == case.id, InboxEvent.committed_at <= as_of)
        .order_by(InboxEvent.committed_at, InboxEvent.source, InboxEvent.event_id)
    ).scalars()
    return [
        {
            "id": f"departure:{e.source}:{e.event_id}",
            "source": e.source,
            "event_id": e.event_id,
            "kind": e.kind,
            "occurred_at": iso(e.occurred_at),
            "committed_at": iso(e.committed_at),
            "via": e.via,
            "status": e.status,
            "record_id": e.record_id,
            "match_probability": e.match_probability,
            "match_weight": e.match_weight,
            "effect": e.effect,
        }
        for e in rows
    ]


def _documents(session: Session, case: Case, as_of: datetime) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CaseDocument)
        .where(CaseDocument.case_id == case.id, CaseDocument.added_at <= as_of)
        .order_by(CaseDocument.added_at, CaseDocument.sha256)
    ).scalars()
    return [
        {
            "id": f"exhibit:{case.id}:{d.sha256[:16]}",
            "sha256": d.sha256,
            "name": d.name,
            "size": d.size,
            "added_by": d.added_by,
            "added_at": iso(d.added_at),
            "issuer": d.issuer,
            "docket_reference": d.docket_reference,
            "verified_by": d.verified_by if d.verified_at and d.verified_at <= as_of else None,
            "verified_at": iso(d.verified_at) if d.verified_at and d.verified_at <= as_of else None,
        }
        for d in rows
    ]


def document_bytes(session: Session, case_id: int, sha256: str) -> bytes:
    """A document's bytes (for the exhibits)."""
    doc = session.get(CaseDocument, (case_id, sha256))
    return bytes(doc.content) if doc is not None else b""


def disclosures_before(session: Session, person_id: str, as_of: datetime) -> list[dict[str, Any]]:
    """Packets about the person given out before ``as_of`` (the accounting of disclosures)."""
    rows = session.execute(
        select(PacketProduction)
        .where(PacketProduction.person_id == person_id, PacketProduction.produced_at < as_of)
        .order_by(PacketProduction.id)
    ).scalars()
    return [
        {
            "id": f"production:{p.id}",
            "produced_at": iso(p.produced_at),
            "as_of": iso(p.as_of),
            "recipient": p.recipient,
            "purpose": p.purpose,
            "requester": p.requester,
            "role": p.role,
            "packet_sha256": p.packet_sha256,
            "bates": f"{p.bates_prefix}{p.bates_begin}-{p.bates_end}" if p.bates_prefix else None,
        }
        for p in rows
    ]


def _corrected_value(field: str, value: str | None, view: View) -> str | None:
    """A corrected value as the view may see it (an identifier field's by its kind)."""
    kind = FIELD_KINDS.get(field)
    return value if kind is None else _shown(view, kind, value)


def disputes_before(
    session: Session, person_id: str, record_ids: set[str], as_of: datetime, view: View
) -> list[dict[str, Any]]:
    """Disputes on the packet's records as they stood at ``as_of``: opened, acknowledged,
    decided, corrected (the superseded value kept beside the new one), the statement of
    disagreement, the notices sent. What happened after ``as_of`` is left out, so a
    packet as of an earlier moment is the same packet."""
    out = []
    found = {d.id: d for d in redress.disputes(session, person_id)}
    found.update({d.id: d for d in redress.disputes_on_records(session, record_ids)})
    for d in sorted(found.values(), key=lambda x: x.id):
        if d.opened_at >= as_of:
            continue
        done = d.decided_at is not None and d.decided_at < as_of
        corrections = [
            {
                "id": f"correction:{c.id}",
                "record_id": c.record_id,
                "field": c.field,
                "superseded_value": _corrected_value(c.field, c.old_value, view),
                "value": _corrected_value(c.field, c.new_value, view),
                "evidence": c.evidence,
                "corrected_by": c.corrected_by,
                "role": c.role,
                "corrected_at": iso(c.corrected_at),
                "run_id": c.run_id,
            }
            for c in redress.corrections_of(session, json.loads(d.record_ids))
            if c.dispute_id == d.id and c.corrected_at < as_of
        ]
        stated = d.statement is not None and d.statement_at is not None and d.statement_at < as_of
        notices = [
            {"production": f"production:{n.production_id}", "recipient": n.recipient,
             "notified_at": iso(n.notified_at)}
            for n in redress.notices_of(session, d.id)
            if n.notified_at < as_of
        ]  # fmt: skip
        acknowledged = d.acknowledged_at is not None and d.acknowledged_at < as_of
        out.append(
            {
                "id": f"dispute:{d.id}",
                "target_kind": d.target_kind,
                "target": d.target,
                "record_ids": json.loads(d.record_ids),
                "field": d.field,
                "reason": d.reason,
                "opened_by": d.opened_by,
                "opened_role": d.opened_role,
                "opened_at": iso(d.opened_at),
                "acknowledge_by": iso(d.acknowledge_by),
                "decide_by": iso(d.decide_by),
                "acknowledged_at": iso(d.acknowledged_at) if acknowledged else None,
                "decision": d.decision if done else None,
                "decided_by": d.decided_by if done else None,
                "decided_at": iso(d.decided_at) if done else None,
                "decision_reason": d.decision_reason if done else None,
                "corrections": corrections,
                "statement_of_disagreement": d.statement if stated else None,
                "notices": notices,
            }
        )
    return out


def assemble(
    session: Session,
    person_id: str,
    cases: Iterable[Case],
    state: IndexState | None,
    view: View,
    as_of: datetime,
    checkpoint_key: Any,
) -> dict[str, Any]:
    """The packet (before masking at the exit), as the system saw it at ``as_of``."""
    person, raw, ids = person_section(state, view)
    links = link_section(session, state, raw, ids)
    flags, decisions = flags_and_decisions(state.content if state else None, ids)
    case_rows = [case_section(session, c, as_of) for c in cases]
    resources = [f"person:{person_id}", *(f"case:{c['case_id']}" for c in case_rows)]
    resources += [f"record:{r}" for r in sorted(ids)]
    cited = [e["event_hash"] for c in case_rows for e in c["events"] if e.get("event_hash")]
    accesses, integrity = audit_integrity(session, resources, cited, as_of, checkpoint_key)
    packet = {
        "schema_version": SCHEMA_VERSION,
        "id": f"packet:{person_id}:{iso(as_of)}",
        "as_of": iso(as_of),
        "view": {
            "role": view.role,
            "purpose": view.purpose,
            "identifiers_whole": sorted(view.whole),
        },
        "person": {"id": f"person:{person_id}", "person_id": person_id, **person},
        "links": links,
        "review_decisions": decisions,
        "flags": flags,
        "cases": case_rows,
        "accesses": accesses,
        "disclosures": disclosures_before(session, person_id, as_of),
        "integrity": integrity,
    }
    disputes = disputes_before(session, person_id, set(ids), as_of, view)
    if disputes:  # a packet with none is the packet it was before disputes existed
        packet["disputes"] = disputes
    plain: dict[str, Any] = json.loads(json.dumps(packet, default=iso, ensure_ascii=False))
    return plain
