"""Source declarations: one TOML file per source, validated on load.

A declaration says who holds the records (agency, system), under what law habeas may
use them (legal authority, data-sharing agreement, tax exception), for which purposes,
how to read the file, which of its fields are allowed and what each becomes in the
canonical schema. Anything not listed under ``[fields]`` is dropped at ingest.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from habeas.errors import DeclarationError, UnreadableFile
from habeas.governance.authz import PURPOSE_MEANINGS as PURPOSES
from habeas.sources.dates import format_precision
from habeas.sources.files import MAX_DECLARATION_BYTES, read_bounded
from habeas.store.canonical import CANONICAL_FIELDS, PARTIAL_DATES

Category = Literal[
    "immigration",
    "border",
    "immigration_court",
    "criminal_justice",
    "custody",
    "benefit_program",
    "tax_information",
    "commercial",
    "state_records",
    "public_tips",
    "benchmark",
]

IDENTIFIER_FIELDS = frozenset(
    {"a_number", "ssn", "itin", "tin", "passport_number", "fbi_number", "license_number", "phone"}
)
MIXED_IDENTIFIER = "identifier"
"""The target of a column whose values are identifiers of several kinds."""
MIXABLE = IDENTIFIER_FIELDS | {"national_id"}
NAME_SPLITS = ("last_comma_first", "given_middle_family", "family_given", "auto")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FormatSpec(_Strict):
    """How to read the file."""

    kind: Literal["csv", "jsonl", "parquet"]
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quote: str = Field(default='"', min_length=1, max_length=1)

    @field_validator("delimiter", "quote")
    @classmethod
    def _printable(cls, value: str) -> str:
        if value in ("\n", "\r") or (not value.isprintable() and value != "\t"):
            raise ValueError(
                f"{value!r} cannot separate or quote fields (a line break or "
                "an unprintable character)"
            )
        return value

    @model_validator(mode="after")
    def _distinct(self) -> FormatSpec:
        if self.delimiter == self.quote:
            raise ValueError(f"the delimiter and the quote are both {self.delimiter!r}")
        return self


class FieldSpec(_Strict):
    """One allowed field of the source and the canonical field it becomes."""

    to: str
    """The canonical field; ``identifier`` for a column mixing the identifier ``kinds``."""
    kinds: list[str] | None = None
    """For ``to = "identifier"``: the identifier fields its values may be, told apart by shape."""
    date_format: str | list[str] | None = None
    codes: dict[str, str] | None = None
    split: Literal["last_comma_first", "given_middle_family", "family_given", "auto"] | None = None
    """How a whole name splits: family name first after a comma, first, last, or ``auto``
    (a comma means family first, else family last)."""
    separator: str | None = None
    required: bool = False
    earliest: date | None = None
    """Earliest plausible date (default 1900-01-01 for a date of birth, 1800-01-01 else)."""

    @field_validator("to")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value not in CANONICAL_FIELDS and value != MIXED_IDENTIFIER:
            raise ValueError(f"unknown canonical field {value!r}")
        return value

    @field_validator("date_format")
    @classmethod
    def _some_format(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value is None:
            return value
        listed = [value] if isinstance(value, str) else value
        if not listed:
            raise ValueError("date_format lists no format (leave it out for YYYY-MM-DD)")
        for f in listed:
            if "%" not in f or len(f) > 64:
                raise ValueError(f"date_format {f!r} is not a strftime format (e.g. %m/%d/%Y)")
        return value

    def formats(self) -> list[str]:
        """The date formats to try, in order."""
        if self.date_format is None:
            return ["%Y-%m-%d"]
        return [self.date_format] if isinstance(self.date_format, str) else list(self.date_format)


class Agreement(_Strict):
    """A written data-sharing agreement for a benefit program's records."""

    kind: Literal["computer_matching_agreement", "memorandum_of_understanding"]
    id: str = Field(min_length=1)
    citation: str = Field(default="", max_length=500)
    parties: list[str] = Field(default_factory=list)
    start: date
    end: date


class TaxBasis(_Strict):
    """The 26 U.S.C. 6103 exception and the request that scopes a tax disclosure."""

    exception: str
    request_id: str = Field(min_length=1)
    request_file: str = Field(min_length=1)


EventKind = Literal["exit", "crossing", "self_report", "removal_verification"]
EVENT_KINDS: dict[str, str] = {
    "exit": "a verified exit (an airline's departure manifest, a land-border exit)",
    "crossing": "border crossings in both directions (a direction field says which)",
    "self_report": "a person's own report of having left (not a verification by itself)",
    "removal_verification": "a consular or removal-verification notice of a departure",
}
"""What a departure feed's events are."""


class EventSpec(_Strict):
    """A feed of events rather than a file of records: each row is one event, with the
    source's own event id (the natural key) and the moment it happened."""

    kind: EventKind
    id: str = Field(min_length=1)
    """The field holding the source's event id (the natural key)."""
    at: str = Field(min_length=1)
    """The field holding when it happened (mapped to ``event_date``, with a time)."""
    direction: str | None = None
    """For ``crossing``: the field (mapped to ``event_type``) whose value is EXIT or ENTRY."""


class SourceDeclaration(_Strict):
    """Everything habeas must know about a source before it may ingest a row of it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    agency: str = Field(min_length=1, max_length=200)
    system: str = Field(min_length=1, max_length=200)
    category: Category
    legal_authority: str = Field(default="", max_length=500)
    purposes: list[str] = Field(min_length=1)
    retention_days: int = Field(gt=0, le=365 * 100)
    identifier_types: list[str] = Field(default_factory=list)
    natural_key: list[str] = Field(min_length=1)
    format: FormatSpec
    fields: dict[str, FieldSpec] = Field(min_length=1)
    agreement: Agreement | None = None
    tax: TaxBasis | None = None
    event: EventSpec | None = None
    """Set for a departure feed (``habeas.monitor``): its rows arrive as events."""
    description: str = Field(default="", max_length=4000)

    @field_validator("purposes")
    @classmethod
    def _known_purposes(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PURPOSES]
        if unknown:
            raise ValueError(
                f"unknown purpose(s) {unknown}; declared purposes are {sorted(PURPOSES)}"
            )
        return value

    def mapped(self) -> dict[str, str]:
        """Canonical field → source column, including the parts a name split yields."""
        out: dict[str, str] = {}
        for column, spec in self.fields.items():
            for target in spec.kinds or [spec.to]:
                out[target] = column
            if spec.split:
                for part in ("given_name", "middle_name", "family_name"):
                    out.setdefault(part, column)
        return out


def _consistency_problems(decl: SourceDeclaration) -> list[tuple[str, str]]:
    """Problems no single key shows: duplicates, dangling references, unusable specs."""
    problems: list[tuple[str, str]] = []
    targets: dict[str, str] = {}
    for column, spec in decl.fields.items():
        key = f"fields.{column}"
        if spec.to == MIXED_IDENTIFIER or spec.kinds is not None:
            problems += _mixed_problems(key, spec)
            for target in spec.kinds or []:
                if target in targets:
                    problems.append(
                        (f"{key}.kinds", f"{target!r} is already mapped from {targets[target]!r}")
                    )
                targets[target] = column
            continue
        canonical = CANONICAL_FIELDS[spec.to]
        produced = [spec.to]
        if spec.split:
            if spec.to != "full_name":
                problems.append((f"{key}.split", "only a field mapped to full_name can be split"))
            produced += ["given_name", "middle_name", "family_name"]
        for target in produced:
            if target in targets:
                problems.append(
                    (f"{key}.to", f"{target!r} is already mapped from column {targets[target]!r}")
                )
            targets[target] = column
        if spec.date_format is not None and canonical.check != "date":
            problems.append((f"{key}.date_format", f"{spec.to} is not a date field"))
        elif spec.date_format is not None:
            problems += _format_problems(f"{key}.date_format", spec)
        if spec.codes is not None:
            if canonical.check != "code":
                problems.append((f"{key}.codes", f"{spec.to} is not a coded field"))
            else:
                bad = sorted(set(spec.codes.values()) - canonical.codes)
                if bad:
                    problems.append(
                        (f"{key}.codes", f"{bad} are not {spec.to} codes {sorted(canonical.codes)}")
                    )
    for column in decl.natural_key:
        if column not in decl.fields:
            problems.append(("natural_key", f"column {column!r} is not an allowed field"))
    for ident in decl.identifier_types:
        if ident not in IDENTIFIER_FIELDS:
            problems.append(("identifier_types", f"{ident!r} is not an identifier type"))
        elif ident not in targets:
            problems.append(("identifier_types", f"{ident!r} is declared but no field maps to it"))
    if decl.tax is not None and decl.category != "tax_information":
        problems.append(("tax", "only a tax_information source has a [tax] basis"))
    if decl.event is not None:
        problems += _event_problems(decl, decl.event)
    return problems


def _event_problems(decl: SourceDeclaration, event: EventSpec) -> list[tuple[str, str]]:
    """An event feed names its event id (the natural key), its time and, for crossings,
    the direction, each an allowed field mapped where the monitor reads it."""
    problems: list[tuple[str, str]] = []
    if decl.natural_key != [event.id]:
        problems.append(("event.id", f"the event id {event.id!r} must be the natural key alone"))
    wanted = [("at", event.at, "event_date")]
    if event.kind == "crossing":
        if event.direction is None:
            problems.append(("event.direction", "a crossing feed names its direction field"))
        else:
            wanted.append(("direction", event.direction, "event_type"))
    elif event.direction is not None:
        problems.append(("event.direction", "only a crossing feed has a direction field"))
    for key, column, target in wanted:
        spec = decl.fields.get(column)
        if spec is None:
            problems.append((f"event.{key}", f"{column!r} is not an allowed field"))
        elif spec.to != target:
            problems.append((f"event.{key}", f"field {column!r} must map to {target}"))
    if decl.format.kind != "jsonl":
        problems.append(("format.kind", "an event feed's events are JSON objects (jsonl)"))
    return problems


def _mixed_problems(key: str, spec: FieldSpec) -> list[tuple[str, str]]:
    """A mixed identifier column names two or more identifier kinds, and nothing else."""
    if spec.to != MIXED_IDENTIFIER:
        return [(f"{key}.kinds", f"kinds belong to a field mapped to {MIXED_IDENTIFIER!r}")]
    kinds = spec.kinds or []
    problems: list[tuple[str, str]] = []
    if len(set(kinds)) < 2 or len(set(kinds)) != len(kinds):
        problems.append((f"{key}.kinds", "name two or more different identifier kinds"))
    unknown = sorted(set(kinds) - MIXABLE)
    if unknown:
        problems.append((f"{key}.kinds", f"{unknown} are not identifiers {sorted(MIXABLE)}"))
    if spec.split or spec.codes or spec.date_format:
        problems.append((key, "a mixed identifier column takes no split, codes or date format"))
    return problems


def _format_problems(key: str, spec: FieldSpec) -> list[tuple[str, str]]:
    """A date format must name a year; only a partial-date field may omit the day."""

    problems: list[tuple[str, str]] = []
    for fmt in spec.formats():
        precision = format_precision(fmt)
        parse_problem = strptime_problem(fmt)
        if parse_problem:
            problems.append((key, f"{fmt!r} is not a date format DuckDB can read: {parse_problem}"))
        elif precision is None:
            problems.append((key, f"{fmt!r} names no year (%Y or %y)"))
        elif precision != "day" and spec.to not in PARTIAL_DATES:
            problems.append(
                (
                    key,
                    f"{fmt!r} gives only the {precision}; {spec.to} dates an event and must "
                    "be a whole date (only a date of birth or an address date may be partial)",
                )
            )
    return problems


def strptime_problem(fmt: str) -> str | None:
    """Why DuckDB's strptime cannot use ``fmt`` (checked at registration, not at ingest)."""
    import duckdb

    try:
        with duckdb.connect() as con:
            con.execute("SELECT try_strptime('2000-01-01', ?)", [fmt]).fetchall()
    except duckdb.Error as exc:
        return str(exc).split(": ", 1)[-1][:160]
    return None


def parse_declaration(data: dict[str, Any], path: str) -> SourceDeclaration:
    """Validate a declaration's data; errors name the file, the key and the problem."""
    try:
        decl = SourceDeclaration.model_validate(data)
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in err["loc"]) or "(top)", _plain(err["msg"]))
            for err in exc.errors()
        ]
        raise DeclarationError.many(path, problems) from None
    problems = _consistency_problems(decl)
    if problems:
        raise DeclarationError.many(path, problems)
    return decl


def load_declaration(path: Path) -> SourceDeclaration:
    """Read and validate one declaration file (TOML): a regular file of at most 1 MiB."""

    try:
        raw = read_bounded(path, MAX_DECLARATION_BYTES, "a declaration (TOML)")
    except UnreadableFile as exc:
        raise DeclarationError(str(path), "(file)", str(exc).removeprefix(f"{path}: ")) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DeclarationError(str(path), "(file)", f"not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DeclarationError(str(path), "(syntax)", str(exc)) from None
    except RecursionError:
        raise DeclarationError(
            str(path), "(syntax)", "nested too deeply to be a declaration"
        ) from None
    return parse_declaration(data, str(path))


def _plain(msg: str) -> str:
    return msg.removeprefix("Value error, ")
