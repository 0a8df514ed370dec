"""Authorization as policy: Cedar decides, over who (user, role), what (action), on what
(a case, person or record, with its source and flags) and why (the declared purpose).

Policies and the schema live in files beside this module, are validated against each
other when loaded, and the decision comes back with the policies that made it, so a
refusal can say why. Deny is the default; ``forbid`` policies win over any ``permit``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import cedarpy

from habeas.errors import HabeasError
from habeas.governance.disclosure import IDENTIFIER_KINDS, mask  # noqa: F401 - mask re-exported

ROLES: tuple[str, ...] = (
    "integration_engineer",
    "case_officer",
    "supervisor",
    "field_officer",
    "custody_officer",
    "oversight",
    "counsel",
    "admin",
    "event_feed",
)
"""The roles of DESIGN.md; a user holds one. ``event_feed`` is an integration account of a
departure feed: it posts the feed's events and reads nothing."""

PURPOSE_MEANINGS: dict[str, str] = {
    "identity_resolution": "linking records about one person into the person index",
    "case_review": "reviewing a person's case and its legal instruments",
    "field_operation": "planning and carrying out a field action",
    "custody": "detention, transfer and removal logistics",
    "oversight": "audit, inspection and disparate-impact review",
    "redress": "handling a dispute or correction of a record",
    "analytics": "aggregate reporting in the read-only workspace",
}
"""The declared purposes and what each is for; a source declares the ones its records may
be read for, and a request names one."""

USUAL_PURPOSE: dict[str, str] = {
    "integration_engineer": "identity_resolution",
    "case_officer": "case_review",
    "supervisor": "case_review",
    "field_officer": "field_operation",
    "custody_officer": "custody",
    "oversight": "oversight",
    "counsel": "redress",
}
"""The purpose a sign-in takes when none is chosen: the one each role's work is for."""

PURPOSES: tuple[str, ...] = tuple(PURPOSE_MEANINGS)
"""The declared purposes a request may name (the same set sources declare)."""


@dataclass(frozen=True)
class AccessContext:
    """Who asks, in which role, for which purpose (and, for counsel, for which client)."""

    user: str
    role: str
    purpose: str
    client: str = ""
    request_id: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise HabeasError(f"unknown role {self.role!r}; roles are {', '.join(ROLES)}")
        if self.purpose not in PURPOSES:
            raise HabeasError(
                f"unknown purpose {self.purpose!r}; purposes are {', '.join(PURPOSES)}"
            )
        if not self.user:
            raise HabeasError("an access context needs a user")


@dataclass(frozen=True)
class Resource:
    """What is acted on, with the attributes policies may read (and no others)."""

    kind: str  # Case, Person, Record, AuditLog, UserDirectory
    id: str
    attrs: dict[str, Any] = field(default_factory=dict)
    parents: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Decision:
    """The answer, the policies that made it, and any evaluation errors."""

    allowed: bool
    policies: tuple[str, ...]
    errors: tuple[str, ...] = ()

    def why(self) -> str:
        """A sentence for a refusal or an audit entry."""
        if self.allowed:
            return "allowed by " + ", ".join(self.policies)
        if self.policies:
            return "forbidden by " + ", ".join(self.policies)
        return "no policy permits it (deny by default)"


@dataclass(frozen=True)
class Policies:
    """Parsed policies and schema, validated against each other."""

    text: str
    schema: str
    ids: dict[str, str]  # Cedar's policy id → our @id annotation
    policy_set: Any
    schema_handle: Any


def _read(name: str) -> str:
    return (resources.files("habeas.governance") / "policies" / name).read_text()


@cache
def load_policies() -> Policies:
    """Read every ``*.cedar`` file and the schema; refuse to start on any validation error."""
    folder = resources.files("habeas.governance") / "policies"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".cedar"))
    text = "\n".join(_read(n) for n in names)
    schema = _read("habeas.cedarschema")
    check_policies(text, schema)
    ids: dict[str, str] = {}
    pst = json_policies(text)
    for pid, policy in pst.items():
        ids[pid] = policy.get("annotations", {}).get("id", pid)
    return Policies(
        text, schema, ids, cedarpy.PolicySet.from_str(text), cedarpy.Schema.from_str(schema)
    )


def check_policies(text: str, schema: str) -> None:
    """Refuse policies that do not validate against the schema (unknown attribute, action …)."""
    try:
        result = cedarpy.validate_policies(text, schema)
    except Exception as exc:  # cedarpy raises on text that does not parse
        raise HabeasError(f"authorization policies do not parse: {exc}") from None
    if not result.validation_passed:
        problems = "; ".join(str(e) for e in result.errors)
        raise HabeasError(f"authorization policies do not validate against the schema: {problems}")


def json_policies(text: str) -> dict[str, dict[str, Any]]:
    """Cedar's JSON form of the policies, by policy id."""
    data = json.loads(cedarpy.policies_to_json_str(text))
    return dict(data.get("staticPolicies", {}))


def _uid(kind: str, ident: str) -> dict[str, str]:
    return {"type": f"Habeas::{kind}", "id": ident}


def _principal(ctx: AccessContext) -> list[dict[str, Any]]:
    return [
        {"uid": _uid("Role", ctx.role), "attrs": {}, "parents": []},
        {
            "uid": _uid("User", ctx.user),
            "attrs": {"username": ctx.user},
            "parents": [_uid("Role", ctx.role)],
        },
    ]


def entities_for(ctx: AccessContext, resource: Resource) -> list[dict[str, Any]]:
    """The principal, its role, the resource and its parents, as Cedar entities."""
    out = _principal(ctx)
    out.append({"uid": _uid(resource.kind, resource.id), "attrs": resource.attrs, "parents": []})
    out.extend(resource.parents)
    return out


def _context(ctx: AccessContext, step: str, identifier: str = "") -> str:
    """The request context as Cedar's JSON (made once per batch, not per request)."""
    context: dict[str, str] = {"purpose": ctx.purpose, "client": ctx.client}
    if step:
        context["step"] = step
    if identifier:
        context["identifier"] = identifier
    return json.dumps(context)


def request_for(
    ctx: AccessContext,
    action: str,
    resource: Resource,
    step: str = "",
    context: str | None = None,
) -> dict[str, Any]:
    """The Cedar request for one decision (``step``: the case event a write records)."""
    return {
        "principal": _uid("User", ctx.user),
        "action": {"type": "Habeas::Action", "id": action},
        "resource": _uid(resource.kind, resource.id),
        "context": _context(ctx, step) if context is None else context,
    }


def authorize(ctx: AccessContext, action: str, resource: Resource, step: str = "") -> Decision:
    """Decide one request; the decision names the policies that made it."""
    pol = load_policies()
    result = cedarpy.is_authorized(
        request_for(ctx, action, resource, step),
        pol.policy_set,
        entities_for(ctx, resource),
        pol.schema_handle,
    )
    return _decision(pol, result)


def authorize_batch(
    ctx: AccessContext, action: str, items: list[Resource], step: str = ""
) -> list[Decision]:
    """Decide many requests of one principal at once (one call into Cedar). Cases are
    decided once per distinct (state, counsel) when no policy that can apply to the
    caller reads more of a case (``case_reads_shared``)."""
    if (
        len(items) > 1
        and all(r.kind == "Case" for r in items)
        and all(not e.get("attrs", {}).get("flags") for r in items for e in r.parents)
        and case_reads_shared(ctx.role)
    ):
        keys = [tuple(str(r.attrs.get(k, "")) for k in CASE_KEYS) for r in items]
        first: dict[tuple[str, ...], int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        if len(first) < len(items):
            order = list(first)
            decided = _authorize_each(ctx, action, [items[first[k]] for k in order], step)
            by_key = dict(zip(order, decided, strict=True))
            return [by_key[k] for k in keys]
    return _authorize_each(ctx, action, items, step)


def _authorize_each(
    ctx: AccessContext, action: str, items: list[Resource], step: str = ""
) -> list[Decision]:
    pol = load_policies()
    entities: dict[str, dict[str, Any]] = {json_key(e["uid"]): e for e in _principal(ctx)}
    for r in items:  # the principal once, then each resource and its parents
        uid = _uid(r.kind, r.id)
        entities[json_key(uid)] = {"uid": uid, "attrs": r.attrs, "parents": []}
        for e in r.parents:
            entities[json_key(e["uid"])] = e
    context = _context(ctx, step)
    results = cedarpy.is_authorized_batch(
        [request_for(ctx, action, r, context=context) for r in items],
        pol.policy_set,
        list(entities.values()),
        pol.schema_handle,
    )
    return [_decision(pol, res) for res in results]


def json_key(uid: dict[str, str]) -> str:
    """A dictionary key for an entity uid."""
    return uid["type"] + "::" + uid["id"]


def _decision(pol: Policies, result: Any) -> Decision:
    reasons = tuple(pol.ids.get(r, r) for r in result.diagnostics.reasons)
    errors = tuple(str(e) for e in result.diagnostics.errors)
    return Decision(bool(result.allowed), reasons, errors)


_PERSON_IN_RECORD_RULES = re.compile(r'resource\.person\b(?!_)|Habeas::Record::"')
"""A policy that reads a record's person (or names a record) makes record decisions
depend on more than the caller, the purpose and the source's declared purposes."""


def records_independent_of_person(text: str | None = None, role: str | None = None) -> bool:
    """True when no policy (``text``, or the loaded ones; with ``role``, those that can
    apply to a user of that role) reads a record's person or names a record: then reading
    a source's records is decided once per caller, purpose and declared purposes."""
    if text is None:
        return _loaded_independent(role)
    return not _PERSON_IN_RECORD_RULES.search(text)


@cache
def _loaded_independent(role: str | None) -> bool:
    """The check on the loaded policies, made once per role (they do not change while
    running)."""
    pol = load_policies()
    if role is None:
        return records_independent_of_person(pol.text)
    for policy in json_policies(pol.text).values():
        if not _applies_to(policy, role):
            continue
        conditions = json.dumps(policy.get("conditions"))
        scope = policy.get("resource", {})
        named = scope.get("op") in ("==", "in") and "Habeas::Record" in json.dumps(scope)
        if named or '"attr": "person"' in conditions:
            return False
    return True


CASE_KEYS = ("state", "counsel")
"""The attributes of a case a decision may share on, when no policy that can apply to
the caller reads anything else of the case (its person, person id or id)."""


def _applies_to(policy: dict[str, Any], role: str) -> bool:
    """Whether a policy's principal scope can hold for a user whose one role is ``role``
    (a scope naming another role, or a specific user, is treated by name: only another
    role's scope is ruled out)."""
    scope = policy.get("principal", {})
    if scope.get("op") == "All":
        return True
    entity = scope.get("entity") or {}
    if scope.get("op") == "in" and entity.get("type") == "Habeas::Role":
        return bool(entity.get("id") == role)
    return True


def _reads_case_identity(policy: dict[str, Any]) -> bool:
    """Whether a policy names a case or reads a case's person or person id."""
    body = json.dumps({"resource": policy.get("resource"), "conditions": policy.get("conditions")})
    if '"Habeas::Case"' in body and '"op": "is"' not in body.split('"conditions"')[0]:
        return True
    if re.search(r'"type": "Habeas::(Case|Person)"', body):
        return True
    return bool(re.search(r'"attr": "(person_id|person)"', body)) and '"Habeas::Record"' not in (
        json.dumps(policy.get("resource"))
    )


@cache
def case_reads_shared(role: str, text: str | None = None) -> bool:
    """True when every loaded policy (or those in ``text``) that can apply to ``role``
    decides on a case by its ``CASE_KEYS`` alone: then one decision per distinct
    (state, counsel) serves all of a batch's cases for that caller and purpose."""
    policies = json_policies(text if text is not None else load_policies().text)
    return not any(_reads_case_identity(p) for p in policies.values() if _applies_to(p, role))


_SOURCE_CACHE: dict[tuple[Any, ...], Decision] = {}
_SOURCE_CACHE_MAX = 20_000


def source_decisions(
    ctx: AccessContext, action: str, sources: dict[str, list[str]], person: Resource
) -> dict[str, Decision]:
    """Whether this caller may ``action`` the records of each source about ``person``.

    When the policies allow it (``records_independent_of_person``), each decision is made
    on the source alone and kept for the process (the policies never change while it
    runs); otherwise every source is decided with this person's entity attached."""
    independent = records_independent_of_person(role=ctx.role)
    out: dict[str, Decision] = {}
    todo: list[tuple[str, tuple[Any, ...]]] = []
    for source, purposes in sorted(sources.items()):
        key = (ctx.user, ctx.role, ctx.purpose, ctx.client, action, source, tuple(purposes))
        hit = _SOURCE_CACHE.get(key) if independent else None
        if hit is not None:
            out[source] = hit
        else:
            todo.append((source, key))
    if todo:
        subject = Resource("Person", "*", {"flags": []}) if independent else person
        items = [_record(source, sources[source], subject) for source, _ in todo]
        for (source, key), decision in zip(todo, authorize_batch(ctx, action, items), strict=True):
            out[source] = decision
            if independent:
                if len(_SOURCE_CACHE) >= _SOURCE_CACHE_MAX:
                    _SOURCE_CACHE.clear()
                _SOURCE_CACHE[key] = decision
    return out


def _record(source: str, purposes: list[str], person: Resource) -> Resource:
    """A record of ``source`` about ``person``, as Cedar sees it."""
    src = {"type": "Habeas::Source", "id": source}
    person_ref = {"type": "Habeas::Person", "id": person.id}
    return Resource(
        "Record",
        f"{source}:{person.id}",
        {"source": {"__entity": src}, "person": {"__entity": person_ref}},
        (
            {"uid": src, "attrs": {"purposes": purposes}, "parents": []},
            {"uid": person_ref, "attrs": person.attrs, "parents": []},
        ),
    )


IDENTIFIERS: tuple[str, ...] = IDENTIFIER_KINDS
"""Identifiers shown masked unless the policies let the role x purpose see them whole."""

_WHOLE_CACHE: dict[tuple[str, str, str], frozenset[str]] = {}


def whole_identifiers(ctx: AccessContext) -> frozenset[str]:
    """The identifier kinds this role may see whole for this purpose (decided by the
    ``see_identifier`` policies, once per role and purpose: they read nothing else)."""
    key = (ctx.role, ctx.purpose, ctx.client)
    hit = _WHOLE_CACHE.get(key)
    if hit is not None:
        return hit
    pol = load_policies()
    src = {"type": "Habeas::Source", "id": "*"}
    anyone = {"type": "Habeas::Person", "id": "*"}
    record = Resource(
        "Record",
        "*",
        {"source": {"__entity": src}, "person": {"__entity": anyone}},
        (
            {"uid": src, "attrs": {"purposes": []}, "parents": []},
            {"uid": anyone, "attrs": {"flags": []}, "parents": []},
        ),
    )
    whole = set()
    for kind in IDENTIFIERS:
        result = cedarpy.is_authorized(
            request_for(ctx, "see_identifier", record, context=_context(ctx, "", kind)),
            pol.policy_set,
            entities_for(ctx, record),
            pol.schema_handle,
        )
        if _decision(pol, result).allowed:
            whole.add(kind)
    out = frozenset(whole)
    if len(_WHOLE_CACHE) >= 1_000:  # the client is the caller's to name: keep this bounded
        _WHOLE_CACHE.clear()
    _WHOLE_CACHE[key] = out
    return out
