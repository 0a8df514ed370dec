"""Connectors: read a source file into an Arrow table of raw text, row numbers kept.

Every reader returns, for each declared column, an SQL expression giving its raw text,
plus the rows it could not split into fields (structural rejects) and the SQL that
counts values of undeclared fields (for minimization). Parsing into types happens in
``validate.py``; nothing here drops a row silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from habeas.errors import IngestError
from habeas.sources.declaration import SourceDeclaration

PARQUET_MAGIC = b"PAR1"
MAX_FILE_BYTES = 8 * 1024**3


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


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (column names come from files and may hold anything)."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """Quote an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def read_source_file(path: Path, decl: SourceDeclaration) -> RawFile:
    """Read ``path`` as the declaration's format, refusing a file that is not that."""
    if not path.exists():
        raise IngestError(f"{path}: no such file")
    if path.is_dir():
        raise IngestError(f"{path}: is a directory, not a {decl.format.kind} file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise IngestError(f"{path}: {size} bytes is larger than the {MAX_FILE_BYTES} limit")
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"{path}: file is empty")
    digest = hashlib.sha256(data).hexdigest()
    kind = decl.format.kind
    if kind != "parquet" and data[:4] == PARQUET_MAGIC:
        raise IngestError(
            f"{path}: is a Parquet file, but source {decl.name!r} is declared as {kind}"
        )
    if kind == "csv":
        return _read_csv(path, data, digest, decl)
    if kind == "jsonl":
        return _read_jsonl(path, data, digest, decl)
    return _read_parquet(path, data, digest, decl)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_csv(path: Path, data: bytes, digest: str, decl: SourceDeclaration) -> RawFile:
    fmt = decl.format
    utf8 = _is_utf8(data)
    first_line = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff")
    header = next(csv.reader(io.StringIO(first_line), delimiter=fmt.delimiter, quotechar=fmt.quote))
    if first_line.lstrip().startswith("{"):
        raise IngestError(f"{path}: looks like JSON Lines, but {decl.name!r} is declared as csv")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise IngestError(f"{path}: header repeats column(s) {dupes}")
    missing = [c for c in decl.fields if c not in header]
    if missing:
        raise IngestError(
            f"{path}: header lacks column(s) {missing} declared for source {decl.name!r} "
            f"(the file has {header[:12]}{' …' if len(header) > 12 else ''}); is this the "
            "right file, and the right delimiter?"
        )
    ctype = pa.string() if utf8 else pa.binary()
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
            column_sql[col] = f"try(decode({ident}))"
            bad_utf8[col] = f"({ident} IS NOT NULL AND try(decode({ident})) IS NULL)"
    extras = [c for c in header if c not in decl.fields]
    return RawFile(
        path,
        digest,
        len(data),
        table,
        column_sql,
        bad_utf8,
        dropped_sql=_dropped_columns_sql(extras, binary=not utf8),
        rejects=rejects,
    )


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


def _read_jsonl(path: Path, data: bytes, digest: str, decl: SourceDeclaration) -> RawFile:
    bad_lines: list[int] = []
    if _is_utf8(data):
        lines = data.decode("utf-8").split("\n")
    else:
        lines = []
        for n, raw in enumerate(data.split(b"\n"), start=1):
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
    table = pa.table({"_row": numbers, "_line": pa.array(lines, pa.string()), "_bad": flags})
    column_sql = {
        col: f"json_extract_string(_line, {sql_literal(_json_path(col))})" for col in decl.fields
    }
    struct_error = (
        "CASE WHEN _bad THEN 'line holds bytes that are not UTF-8' "
        "WHEN NOT json_valid(_line) THEN 'malformed JSON line' "
        "WHEN json_type(_line) <> 'OBJECT' THEN 'line is JSON but not an object' END"
    )
    return RawFile(
        path,
        digest,
        len(data),
        table,
        column_sql,
        row_filter_sql="trim(_line) <> ''",
        struct_error_sql=struct_error,
        struct_text_sql="_line",
        dropped_sql=_dropped_json_keys_sql(list(decl.fields)),
        json_lines=True,
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
