"""Connectors: read a source file into an Arrow table of raw text, row numbers kept.

Every reader returns, for each declared column, an SQL expression giving its raw text,
plus the rows it could not split into fields (structural rejects) and the SQL that
counts values of undeclared fields (for minimization). Parsing into types happens in
``validate.py``; nothing here drops a row silently.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from habeas.errors import IngestError, UnreadableFile
from habeas.sources.declaration import SourceDeclaration
from habeas.sources.files import MAX_SOURCE_BYTES, preview, read_bounded
from habeas.store.staging import sql_literal

PARQUET_MAGIC = b"PAR1"
MAX_FILE_BYTES = MAX_SOURCE_BYTES
MAX_LINE_BYTES = 1024**2
"""A JSON line longer than this is refused as a row (never parsed into memory whole)."""


@dataclass(frozen=True)
class StructuralReject:
    """A row that could not even be split into fields."""

    row_number: int
    reason: str
    text: str


@dataclass
class RawFile:
    """A file read into memory: its table, how to get each declared column, its rejects."""

    path: Path
    sha256: str
    size: int
    table: pa.Table
    column_sql: dict[str, str]
    bad_utf8_sql: dict[str, str] = field(default_factory=dict)
    row_filter_sql: str = "TRUE"
    struct_error_sql: str = "NULL"
    struct_text_sql: str = "NULL"
    dropped_sql: str | None = None
    rejects: list[StructuralReject] = field(default_factory=list)
    json_lines: bool = False
    nested_sql: dict[str, str] = field(default_factory=dict)
    """Per JSON field: SQL true when the value is an array, an object, NaN or Infinity."""


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (column names come from files and may hold anything)."""
    return '"' + name.replace('"', '""') + '"'


def read_source_file(path: Path, decl: SourceDeclaration) -> RawFile:
    """Read ``path`` as the declaration's format, refusing a file that is not that."""
    try:
        data = read_bounded(path, MAX_FILE_BYTES, f"a {decl.format.kind} file")
    except UnreadableFile as exc:
        raise IngestError(str(exc)) from None
    if not data.strip():
        raise IngestError(f"{path}: file is empty")
    digest = hashlib.sha256(data).hexdigest()
    kind = decl.format.kind
    if kind != "parquet" and data[:4] == PARQUET_MAGIC:
        raise IngestError(
            f"{path}: is a Parquet file, but source {decl.name!r} is declared as {kind}"
        )
    if kind != "parquet":
        problem = _not_text(data)
        if problem:
            raise IngestError(f"{path}: {problem}, but source {decl.name!r} is declared as {kind}")
        if b"\n" not in data and b"\r" in data:  # classic Mac line endings: one line per CR
            data = data.replace(b"\r", b"\n")
    if kind == "csv":
        return _read_csv(path, data, digest, decl)
    if kind == "jsonl":
        return read_jsonl(path, data, digest, decl)
    return _read_parquet(path, data, digest, decl)


CONTAINERS = {
    b"\x1f\x8b": "is gzip-compressed (decompress it first)",
    b"PK\x03\x04": "is a ZIP archive (extract it first)",
    b"BZh": "is bzip2-compressed (decompress it first)",
    b"\xfd7zXZ\x00": "is xz-compressed (decompress it first)",
    b"\x28\xb5\x2f\xfd": "is zstd-compressed (decompress it first)",
}


def _not_text(data: bytes) -> str | None:
    """Why a file declared as text is not UTF-8 text at all (a compressed file, UTF-16),
    or None. A file of text with a few bad bytes passes: its rows are judged one by one."""
    for magic, what in CONTAINERS.items():
        if data.startswith(magic):
            return what
    head = data[:4096]
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "is UTF-32 text (convert it to UTF-8)"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "is UTF-16 text (convert it to UTF-8)"
    if len(head) >= 8 and head.count(b"\x00") * 4 >= len(head):
        return "is UTF-16 text without a byte-order mark, or binary (convert it to UTF-8)"
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


BAD_BYTES = "\ufdd0"
"""Marks each byte that is not UTF-8, followed by its two hex digits (a Unicode
noncharacter: no text holds it), so a file with a few bad bytes parses as text and each
bad value is caught and shown as ``\xe9``."""


def _mark_bad_bytes(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    return "".join(f"{BAD_BYTES}{b:02X}" for b in err.object[err.start : err.end]), err.end


codecs.register_error("habeas-mark-bad-bytes", _mark_bad_bytes)


def _read_csv(path: Path, data: bytes, digest: str, decl: SourceDeclaration) -> RawFile:
    fmt = decl.format
    utf8 = _is_utf8(data)
    size = len(data)  # the file's own bytes, before bad ones are marked
    if not utf8:
        data = data.decode("utf-8", errors="habeas-mark-bad-bytes").encode("utf-8")
    first_line = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff")
    if first_line.lstrip().startswith("{"):
        raise IngestError(f"{path}: looks like JSON Lines, but {decl.name!r} is declared as csv")
    try:
        header = next(
            csv.reader(io.StringIO(first_line), delimiter=fmt.delimiter, quotechar=fmt.quote)
        )
    except (csv.Error, StopIteration) as exc:
        raise IngestError(f"{path}: the header line is not CSV ({exc})") from None
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise IngestError(f"{path}: header repeats column(s) {[h[:40] for h in dupes][:12]}")
    missing = [c for c in decl.fields if c not in header]
    if missing and len(missing) == len(decl.fields) and not _looks_like_header(header):
        raise IngestError(
            f"{path}: the header has none of the columns declared for source {decl.name!r} "
            f"(it holds {preview(data)}); is this the right file, and the right delimiter?"
        )
    if missing:
        shown = [h[:40] for h in header[:12]]
        raise IngestError(
            f"{path}: header lacks column(s) {missing} declared for source {decl.name!r} "
            f"(the file has {shown}{' …' if len(header) > 12 else ''}); is this the "
            "right file, and the right delimiter?"
        )
    ctype = pa.string()
    table, rejects = _parse_csv(data, header, ctype, fmt.delimiter, fmt.quote, threads=True)
    if rejects:  # only the single-threaded reader knows the row numbers of bad rows
        table, rejects = _parse_csv(data, header, ctype, fmt.delimiter, fmt.quote, threads=False)
    bad = np.array(sorted(r.row_number for r in rejects), dtype=np.int64)
    total = table.num_rows + len(bad)
    row_numbers = np.setdiff1d(np.arange(1, total + 1, dtype=np.int64), bad, assume_unique=True)
    table = table.append_column("_row", pa.array(row_numbers))
    column_sql, bad_utf8 = {}, {}
    for col in decl.fields:
        ident = quote_ident(col)
        if utf8:
            column_sql[col] = ident
        else:
            column_sql[col] = (
                f"CASE WHEN NOT contains({ident}, {sql_literal(BAD_BYTES)}) THEN {ident} END"
            )
            bad_utf8[col] = f"contains({ident}, {sql_literal(BAD_BYTES)})"
    extras = [c for c in header if c not in decl.fields]
    return RawFile(
        path,
        digest,
        size,
        table,
        column_sql,
        bad_utf8,
        dropped_sql=_dropped_columns_sql(extras, binary=False),
        rejects=rejects,
    )


HEADER_NAME = re.compile(r"[\w .()#/-]{1,64}")


def _looks_like_header(header: list[str]) -> bool:
    """Whether a first line reads as column names (else it is shown only as escaped bytes:
    a file that is not what it claims may hold anything)."""
    return len(header) >= 2 and all(HEADER_NAME.fullmatch(h) for h in header)


def _parse_csv(
    data: bytes, header: list[str], ctype: pa.DataType, delimiter: str, quote: str, threads: bool
) -> tuple[pa.Table, list[StructuralReject]]:
    rejects: list[StructuralReject] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        number = (row.number or 0) - 1  # the reader counts the header as row 1
        rejects.append(
            StructuralReject(
                number,
                f"row has {row.actual_columns} fields, the header has {row.expected_columns}",
                row.text,
            )
        )
        return "skip"

    block = 1 << 24
    while True:
        try:
            table = pacsv.read_csv(
                pa.BufferReader(data),
                read_options=pacsv.ReadOptions(use_threads=threads, block_size=block),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter,
                    quote_char=quote,
                    newlines_in_values=True,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(header, ctype),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            return table, rejects
        except pa.ArrowInvalid as exc:
            if "straddling" in str(exc) and block < len(data) + 1:
                block = len(data) + 1  # a row longer than a block: read the file as one block
                rejects.clear()
                continue
            raise IngestError(f"cannot parse as CSV: {exc}") from None


def _dropped_columns_sql(extras: list[str], binary: bool) -> str | None:
    if not extras:
        return None
    parts = []
    for col in extras:
        ident = quote_ident(col)
        filled = f"octet_length({ident}) > 0" if binary else f"{ident} <> ''"
        parts.append(
            f"SELECT {sql_literal(col)} AS field, count(*) FILTER (WHERE {filled}) AS n FROM raw"
        )
    return " UNION ALL ".join(parts)


def read_jsonl(path: Path, data: bytes, digest: str, decl: SourceDeclaration) -> RawFile:
    """A JSON Lines file as rows: a line that is not one JSON object, or too long, is kept
    aside with its number (the rest of the file still reads)."""
    bad_lines: list[int] = []
    long_lines: list[int] = []
    size = len(data)
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark, as a CSV's may carry
        data = data[3:]
    raw_lines = data.split(b"\n")
    lines: list[str] = []
    for n, raw in enumerate(raw_lines, start=1):
        if len(raw) > MAX_LINE_BYTES:  # never handed to the JSON parser
            lines.append(raw[:200].decode("utf-8", errors="backslashreplace"))
            long_lines.append(n)
            continue
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("utf-8", errors="backslashreplace"))
            bad_lines.append(n)
    if lines and lines[-1] == "":
        lines.pop()
    numbers = np.arange(1, len(lines) + 1, dtype=np.int64)
    flags = np.zeros(len(lines), dtype=bool)
    if bad_lines:
        flags[np.array(bad_lines, dtype=np.int64) - 1] = True
    longs = np.zeros(len(lines), dtype=bool)
    if long_lines:
        longs[np.array(long_lines, dtype=np.int64) - 1] = True
    table = pa.table(
        {
            "_row": numbers,
            "_line": pa.array(lines, pa.string()),
            "_bad": flags,
            "_long": longs,
        }
    )
    column_sql = {
        col: f"json_extract_string(_line, {sql_literal(_json_path(col))})" for col in decl.fields
    }
    nested = {}
    for col in decl.fields:
        p = sql_literal(_json_path(col))
        nested[col] = (
            f"(json_type(_line, {p}) IN ('ARRAY', 'OBJECT') OR (json_type(_line, {p}) = 'DOUBLE' "
            f"AND lower(json_extract_string(_line, {p})) IN ('nan', 'infinity', '-infinity', "
            "'inf', '-inf')))"
        )
    struct_error = (
        f"CASE WHEN _long THEN 'line longer than {MAX_LINE_BYTES:,} bytes' "
        "WHEN _bad THEN 'line holds bytes that are not UTF-8' "
        "WHEN NOT json_valid(_line) THEN 'malformed JSON line' "
        "WHEN json_type(_line) <> 'OBJECT' THEN 'line is JSON but not an object' "
        "WHEN len(json_keys(_line)) <> len(list_distinct(json_keys(_line))) "
        "THEN 'line repeats a key (which value is meant is not known)' END"
    )
    return RawFile(
        path,
        digest,
        size,
        table,
        column_sql,
        row_filter_sql="trim(_line) <> ''",
        struct_error_sql=struct_error,
        struct_text_sql="_line",
        dropped_sql=_dropped_json_keys_sql(list(decl.fields)),
        json_lines=True,
        nested_sql=nested,
    )


def _json_path(column: str) -> str:
    return "$." + ".".join('"' + part.replace('"', '\\"') + '"' for part in column.split("."))


def _dropped_json_keys_sql(declared: list[str]) -> str:
    """Count undeclared keys at the top level and inside each declared parent object."""
    levels: dict[str, set[str]] = {"": set()}
    for col in declared:
        parts = col.split(".")
        for depth in range(len(parts)):
            parent = ".".join(parts[:depth])
            levels.setdefault(parent, set()).add(parts[depth])
    selects = []
    for parent, allowed in levels.items():
        path = "$" if not parent else _json_path(parent)
        allowed_sql = ", ".join(sql_literal(a) for a in sorted(allowed)) or "''"
        prefix = sql_literal(parent + ".") if parent else "''"
        keys = f"json_keys(_line, {sql_literal(path)})" if parent else "json_keys(_line)"
        selects.append(
            f"SELECT {prefix} || k AS field, count(*) AS n FROM "
            f"(SELECT unnest({keys}) AS k FROM ok_raw "
            + (f"WHERE json_type(_line, {sql_literal(path)}) = 'OBJECT'" if parent else "")
            + f") WHERE k NOT IN ({allowed_sql}) GROUP BY k"
        )
    return " UNION ALL ".join(selects)


def _read_parquet(path: Path, data: bytes, digest: str, decl: SourceDeclaration) -> RawFile:
    if data[:4] != PARQUET_MAGIC or data[-4:] != PARQUET_MAGIC:
        raise IngestError(
            f"{path}: not a Parquet file (no PAR1 magic), but {decl.name!r} is declared as parquet"
        )
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(f"{path}: unreadable Parquet file: {exc}") from None
    missing = [c for c in decl.fields if c not in table.column_names]
    if missing:
        raise IngestError(
            f"{path}: lacks column(s) {missing} declared for source {decl.name!r} "
            f"(the file has {table.column_names[:12]})"
        )
    columns = {}
    for name in table.column_names:
        col = table.column(name)
        if name in decl.fields:
            columns[name] = _as_text(col)
        else:
            columns[name] = pa.array(col.is_valid())
    table = pa.table(columns)
    table = table.append_column("_row", pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)))
    extras = [c for c in columns if c not in decl.fields]
    dropped = (
        " UNION ALL ".join(
            f"SELECT {sql_literal(c)} AS field, count(*) FILTER (WHERE {quote_ident(c)}) AS n "
            "FROM raw"
            for c in extras
        )
        or None
    )
    return RawFile(
        path,
        digest,
        len(data),
        table,
        {c: quote_ident(c) for c in decl.fields},
        dropped_sql=dropped,
    )


def _as_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """A Parquet column as text: cast where Arrow can, JSON text for nested values."""
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col
    try:
        return col.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        values = [None if v is None else json.dumps(v, default=str) for v in col.to_pylist()]
        return pa.chunked_array([pa.array(values, pa.string())])
