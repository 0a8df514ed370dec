"""What leaves the application: every identifier masked unless the role x purpose may see
it whole.

Masking field by field misses the places an identifier hides in: a source's natural key
(the SSA's *is* the SSN, the DMV's is the licence number), the values a waterfall compares,
a reason that quotes a conflicting passport, a quarantined value. So the application
masks once, at the one place results leave it:

- while a use case runs, every identifier-bearing value it loads is noted with its kind
  (``Disclosure.saw``; published records note theirs as they load, natural-key parts with
  the kind their declaration maps them to, comparison values by the column compared);
- when the use case returns, ``Disclosure.release`` walks the result (models, dataclasses,
  lists, dicts, strings) and masks every occurrence of a noted value whose kind the
  caller may not see whole, however it is written (``675-57-0385`` or ``675570385``).

``disclosed`` wraps each public method of an application facade, so no use case can
forget it; a caller whose context is unknown sees every noted identifier masked.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from pydantic import BaseModel

from habeas.store.models import InboxEvent, IndexRecord

IDENTIFIER_KINDS: tuple[str, ...] = (
    "a_number",
    "ssn",
    "passport_number",
    "license_number",
    "fbi_number",
    "national_id",
)
"""The kinds of identifier the ``see_identifier`` policies decide on (``ssn`` covers every
taxpayer number: SSN, ITIN and TIN)."""

FIELD_KINDS: dict[str, str] = {
    "a_number": "a_number",
    "ssn": "ssn",
    "itin": "ssn",
    "tin": "ssn",
    "passport_number": "passport_number",
    "license_number": "license_number",
    "fbi_number": "fbi_number",
    "national_id": "national_id",
}
"""Canonical field → the kind of identifier it holds."""

COMPARED_KINDS: dict[str, str] = {
    "a_number": "a_number",
    "taxpayer_id": "ssn",
    "ssn": "ssn",
    "passport": "passport_number",
    "passport_number": "passport_number",
    "license": "license_number",
    "license_number": "license_number",
    "fbi_number": "fbi_number",
    "national_id": "national_id",
}
"""A prepared (compared) column or an event's field → the kind of identifier it holds."""

MIN_LENGTH = 5
"""Shorter values identify nobody and would mask unrelated digits; they are not noted."""

_SEPARATOR = r"[\s\-./]?"


def mask(value: str | None) -> str | None:
    """An identifier with all but its last four letters and digits hidden (separators are
    kept, so ``675-57-0385`` reads ``***-**-0385``)."""
    if not value:
        return value
    alnum = [i for i, c in enumerate(value) if c.isalnum()]
    keep = set(alnum[-4:]) if len(alnum) > 4 else set()
    if not keep and alnum:
        return "*" * len(value)
    return "".join(c if (i in keep or not c.isalnum()) else "*" for i, c in enumerate(value))


def normalized(value: object) -> str:
    """An identifier as compared here: its letters and digits, upper case."""
    return "".join(c for c in str(value).upper() if c.isalnum())


class Disclosure:
    """The identifiers one use case has loaded, and the kinds its caller may see whole."""

    def __init__(self) -> None:
        self.whole: frozenset[str] = frozenset()
        self.seen: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    def bind(self, whole: frozenset[str]) -> None:
        """The kinds the caller may see whole (set once the caller's context is known)."""
        self.whole = whole
        self._pattern = None

    def saw(self, kind: str, value: object) -> None:
        """Note an identifier the use case loaded (``kind``: one of ``IDENTIFIER_KINDS``)."""
        if value is None:
            return
        key = normalized(value)
        if len(key) < MIN_LENGTH:
            return
        before = self.seen.get(key)
        if before is None:
            self.seen[key] = kind
        elif kind not in before.split("+"):  # seen as two kinds: whole only if both are
            self.seen[key] = f"{before}+{kind}"
        else:
            return
        self._pattern = None

    def saw_fields(self, fields: dict[str, Any], kinds: dict[str, str]) -> None:
        """Note the identifiers among ``fields`` (name → value), by ``kinds``."""
        for name, value in fields.items():
            kind = kinds.get(name)
            if kind is not None and value not in (None, ""):
                self.saw(kind, value)

    def hidden(self, kind: str) -> bool:
        """Whether identifiers of ``kind`` are masked for this caller (a ``+``-joined kind,
        a column that mixes kinds, is masked unless every one of them is whole)."""
        return any(k not in self.whole for k in kind.split("+"))

    def _hidden(self) -> re.Pattern[str] | None:
        if self._pattern is None:
            hidden = sorted(
                (v for v, k in self.seen.items() if self.hidden(k)), key=len, reverse=True
            )
            if not hidden:
                return None
            self._pattern = re.compile(
                "|".join(_SEPARATOR.join(re.escape(c) for c in v) for v in hidden), re.IGNORECASE
            )
        return self._pattern

    def text(self, value: str) -> str:
        """``value`` with every hidden identifier in it masked."""
        pattern = self._hidden()
        if pattern is None or not value:
            return value
        return pattern.sub(lambda m: mask(m.group(0)) or "", value)

    def release(self, result: Any) -> Any:
        """The result as it may leave the application."""
        if self._hidden() is None:
            return result
        return self._walk(result, 0)

    def _walk(self, obj: Any, depth: int) -> Any:
        if depth > 64:
            return obj
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, BaseModel):
            changes = {}
            for name in type(obj).model_fields:
                before = getattr(obj, name)
                after = self._walk(before, depth + 1)
                if after is not before:
                    changes[name] = after
            return obj.model_copy(update=changes) if changes else obj
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            changes = {}
            for f in dataclasses.fields(obj):
                before = getattr(obj, f.name)
                after = self._walk(before, depth + 1)
                if after is not before:
                    changes[f.name] = after
            if not changes:
                return obj
            if all(f.init for f in dataclasses.fields(obj) if f.name in changes):
                return dataclasses.replace(obj, **changes)
            copied = copy.copy(obj)  # a field the constructor does not take: set on a copy
            for name, value in changes.items():
                object.__setattr__(copied, name, value)
            return copied
        if isinstance(obj, list):
            items = [self._walk(x, depth + 1) for x in obj]
            return items if any(a is not b for a, b in zip(items, obj, strict=True)) else obj
        if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
            items = [self._walk(x, depth + 1) for x in obj]
            changed = any(a is not b for a, b in zip(items, obj, strict=True))
            return tuple(items) if changed else obj
        if isinstance(obj, tuple):  # a named tuple
            items = [self._walk(x, depth + 1) for x in obj]
            changed = any(a is not b for a, b in zip(items, obj, strict=True))
            return type(obj)(*items) if changed else obj
        if isinstance(obj, dict):
            out = {self._walk(k, depth + 1): self._walk(v, depth + 1) for k, v in obj.items()}
            return out
        return obj


_current: ContextVar[Disclosure | None] = ContextVar("habeas_disclosure", default=None)


def current() -> Disclosure | None:
    """The disclosure of the use case running now (None outside one)."""
    return _current.get()


def saw(kind: str, value: object) -> None:
    """Note an identifier in the use case running now (nothing outside one)."""
    d = _current.get()
    if d is not None:
        d.saw(kind, value)


def saw_compared(values: dict[str, Any]) -> None:
    """Note the identifiers among a record's prepared (compared) values."""
    d = _current.get()
    if d is not None:
        d.saw_fields(values, COMPARED_KINDS)


def saw_natural_key(key: str | None, kinds: Iterable[str]) -> None:
    """Note the parts of a natural key (``|``-joined) that are identifiers, each with the
    kind its declared field holds ('' for a part that is not an identifier)."""
    d = _current.get()
    if d is None or not key:
        return
    for part, kind in zip(str(key).split("|"), kinds, strict=False):
        if kind:
            d.saw(kind, part)


def bind(whole: frozenset[str]) -> None:
    """Tell the use case running now which identifier kinds its caller may see whole."""
    d = _current.get()
    if d is not None:
        d.bind(whole)


F = TypeVar("F", bound=Callable[..., Any])


def disclosed(fn: F) -> F:
    """Wrap a use case so that its result leaves masked (see the module's docstring); a use
    case called from inside another is released once, by the outer one."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        if _current.get() is not None:
            return fn(*args, **kwargs)
        d = Disclosure()
        token = _current.set(d)
        try:
            result = fn(*args, **kwargs)
        finally:
            _current.reset(token)
        if isinstance(result, Iterator) and not isinstance(result, (str, bytes)):
            return _released_lazily(d, result)
        return d.release(result)

    run.__disclosed__ = True  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]


def _released_lazily(d: Disclosure, items: Iterator[Any]) -> Iterator[Any]:
    while True:
        token = _current.set(d)
        try:
            item = next(items)
        except StopIteration:
            return
        finally:
            _current.reset(token)
        yield d.release(item)


C = TypeVar("C", bound=type)


def facade(cls: C) -> C:
    """A class decorator: every public method of an application facade, its own or one it
    takes from a use-case group it is built of, is ``disclosed``."""
    for name in dir(cls):
        member = inspect.getattr_static(cls, name)
        if name.startswith("_") or not inspect.isfunction(member) or is_disclosed(member):
            continue
        setattr(cls, name, disclosed(member))
    return cls


def is_disclosed(fn: Any) -> bool:
    """Whether a function is wrapped by ``disclosed`` (its results leave masked)."""
    return bool(getattr(fn, "__disclosed__", False))


def field_kinds(declaration: dict[str, Any]) -> dict[str, str]:
    """A source's columns (and canonical fields) that hold identifiers → their kind, from
    its declaration as stored (a column mixing kinds: ``+``-joined)."""
    out = dict(FIELD_KINDS)
    for column, spec in (declaration.get("fields") or {}).items():
        if isinstance(spec, str):
            targets = [spec]
        else:
            targets = list(spec.get("kinds") or []) or [str(spec.get("to", ""))]
        kinds = sorted({FIELD_KINDS[t] for t in targets if t in FIELD_KINDS})
        if kinds:
            out[column] = "+".join(kinds)
    return out


def natural_key_kinds(declaration: dict[str, Any]) -> str:
    """The identifier kind of each part of a source's natural key, ``|``-joined in key
    order ('' for a part that is not an identifier), from its declaration (as stored)."""
    kinds = field_kinds(declaration)
    return "|".join(kinds.get(c, "") for c in declaration.get("natural_key") or [])


def features_of(text: str | None) -> dict[str, Any]:
    """A published record's prepared values (JSON) as a dict ({} when unreadable)."""
    if not text:
        return {}
    try:
        out = json.loads(text)
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


ALL_KINDS = "+".join(IDENTIFIER_KINDS)
"""The kind of a natural key whose parts' kinds are unknown (published before they were
recorded): masked unless the caller sees every identifier whole."""


def _published_record_loaded(target: Any, _context: Any) -> None:
    d = _current.get()
    if d is None:
        return
    d.saw_fields(
        {"a_number": target.a_number, "ssn": target.ssn, "passport_number": target.passport_number},
        FIELD_KINDS,
    )
    kinds = target.key_kinds.split("|") if target.key_kinds is not None else None
    parts = str(target.source_key or "").split("|")
    for i, part in enumerate(parts):
        kind = kinds[i] if kinds is not None and i < len(kinds) else ALL_KINDS
        if kind:
            d.saw(kind, part)
    d.saw_fields(features_of(target.features), COMPARED_KINDS)


def _event_loaded(target: Any, _context: Any) -> None:
    d = _current.get()
    if d is not None:
        d.saw_fields(features_of(target.record), {**FIELD_KINDS, **COMPARED_KINDS})


_installed = False


def install() -> None:
    """Have every published record and inbox event note its identifiers as it loads (once
    per process; the application calls it)."""
    global _installed
    if _installed:
        return
    from sqlalchemy import event

    event.listen(IndexRecord, "load", _published_record_loaded)
    event.listen(InboxEvent, "load", _event_loaded)
    _installed = True
