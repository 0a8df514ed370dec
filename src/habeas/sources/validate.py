"""Vectorised validation: one SQL query turns raw text into canonical typed values.

For every declared field it builds the value expression and the checks that reject a
value, each with its rule and reason. A failing value of a secondary field is set aside
(the record is kept with that field empty); a failing natural key or ``required`` field,
a structural error or the tax request's scope refuses the whole row. The whole file is
checked in one DuckDB pass; no Python loop runs per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from habeas.sources.dates import date_sql
from habeas.sources.declaration import FieldSpec, SourceDeclaration
from habeas.sources.readers import BAD_BYTES, quote_ident
from habeas.store.canonical import (
    CANONICAL_FIELDS,
    MAX_TEXT_LENGTH,
    PARTIAL_DATES,
    US_STATES,
    CanonicalField,
)
from habeas.store.staging import sql_literal

V = "{v}"  # placeholder for the raw column in a template


@dataclass(frozen=True)
class Check:
    """A condition on (raw ``{v}``, parsed ``{x}``) that sends a row to quarantine."""

    condition: str
    rule: str
    reason: str
    narrows: bool = False
    """The value is kept at a lower precision, not set aside; its raw text is quarantined."""


def _digits(v: str) -> str:
    return f"regexp_replace({v}, '[^0-9]', '', 'g')"


SSN_NEVER_VALID = ("078051120", "219099999", "457555462")
"""Numbers published in advertising or on sample cards, refused by SSA (and python-stdnum)."""


def _ssn_ok(d: str) -> str:
    never = ", ".join(sql_literal(n) for n in SSN_NEVER_VALID)
    return (
        f"(regexp_full_match({d}, '[0-9]{{9}}') AND {d}[1:3] NOT IN ('000', '666') "
        f"AND {d}[1:1] <> '9' AND {d}[4:5] <> '00' AND {d}[6:9] <> '0000' "
        f"AND {d} NOT IN ({never}) AND NOT {d} BETWEEN '987654320' AND '987654329')"
    )


def _itin_ok(d: str) -> str:
    return (
        f"(regexp_full_match({d}, '9[0-9]{{8}}') AND "
        f"regexp_full_match({d}[4:5], '5[0-9]|6[0-5]|7[0-9]|8[0-8]|9[0-2]|9[4-9]') "
        f"AND NOT {d} BETWEEN '987654320' AND '987654329')"
    )


def value_and_checks(
    canonical: CanonicalField, spec: FieldSpec, today: date
) -> tuple[str, list[Check]]:
    """The SQL for the parsed value of raw ``{v}``, and the checks that reject it."""
    check = canonical.check
    name = canonical.name
    present = "{v} IS NOT NULL"
    failed = f"{present} AND {{x}} IS NULL"
    if check == "text":
        return V, []
    if check == "date":
        fmts = spec.formats()
        parsed = date_sql(V, fmts, partial=name in PARTIAL_DATES)
        value = parsed.value
        checks = [Check(failed, "date", f"not a date in format {' or '.join(fmts)}")]
        if name in PARTIAL_DATES:
            checks.append(
                Check(
                    parsed.narrowed,
                    "date-partial",
                    "day or month is not a date: kept to the year only",
                    narrows=True,
                )
            )
        if name == "dob":
            first = (spec.earliest or date(1900, 1, 1)).isoformat()
            checks.append(
                Check(
                    f"{{x}} > DATE '{today.isoformat()}' OR {{x}} < DATE '{first}'",
                    "date-of-birth",
                    f"date of birth outside {first} … {today.isoformat()}",
                )
            )
        else:
            first = (spec.earliest or date(1800, 1, 1)).isoformat()
            checks.append(
                Check(
                    f"{{x}} < DATE '{first}' OR {{x}} > DATE '2200-12-31'",
                    "date",
                    "date outside 1800 … 2200",
                )
            )
        return value, checks
    if check in ("integer", "float"):
        sql_type = "BIGINT" if check == "integer" else "DOUBLE"
        value = f"try_cast({V} AS {sql_type})"
        checks = [Check(failed, check, f"not {'an integer' if check == 'integer' else 'a number'}")]
        if check == "float":
            checks.append(Check("isnan({x}) OR isinf({x})", "float", "not a finite number"))
        if canonical.min_value is not None and canonical.max_value is not None:
            checks.append(
                Check(
                    f"{{x}} < {canonical.min_value} OR {{x}} > {canonical.max_value}",
                    "range",
                    f"{name} outside {canonical.min_value:g} … {canonical.max_value:g}",
                )
            )
        return value, checks
    if check == "code":
        allowed = sorted(canonical.codes)
        if spec.codes:
            cases = " ".join(
                f"WHEN {sql_literal(src)} THEN {sql_literal(dst)}"
                for src, dst in spec.codes.items()
            )
            value = f"CASE {V} {cases} END"
            listed = ", ".join(sorted(spec.codes))
        else:
            value = f"CASE WHEN {V} IN ({', '.join(sql_literal(c) for c in allowed)}) THEN {V} END"
            listed = ", ".join(allowed)
        return value, [Check(failed, "code", f"unknown {name} code (declared codes: {listed})")]
    if check == "a_number":
        n = f"regexp_replace(upper({V}), '[\\s.-]', '', 'g')"
        shaped = f"regexp_full_match({n}, 'A?[0-9]{{7,9}}')"
        value = f"CASE WHEN {shaped} THEN lpad(ltrim({n}, 'A'), 9, '0') END"
        return value, [Check(failed, "a-number", "not an A-number (A followed by 7 to 9 digits)")]
    if check in ("ssn", "itin", "tin"):
        d = f"regexp_replace({V}, '[ -]', '', 'g')"
        ok = {"ssn": _ssn_ok(d), "itin": _itin_ok(d), "tin": f"({_ssn_ok(d)} OR {_itin_ok(d)})"}[
            check
        ]
        reason = {
            "ssn": "not a valid SSN (9 digits; area 000, 666 or 9xx, group 00 and serial 0000 "
            "are never issued)",
            "itin": "not a valid ITIN (9 digits starting with 9, digits 4–5 in 50–65, 70–88, "
            "90–92 or 94–99)",
            "tin": "neither a valid SSN nor a valid ITIN",
        }[check]
        return f"CASE WHEN {ok} THEN {d} END", [Check(failed, check, reason)]
    if check == "zip":
        value = f"CASE WHEN regexp_full_match({V}, '[0-9]{{5}}(-?[0-9]{{4}})?') THEN {V}[1:5] END"
        return value, [Check(failed, "zip", "not a ZIP code (5 digits, optionally +4)")]
    if check == "state":
        states = ", ".join(sql_literal(s) for s in sorted(US_STATES))
        value = f"CASE WHEN upper({V}) IN ({states}) THEN upper({V}) END"
        return value, [Check(failed, "state", "not a US state or territory code")]
    if check == "phone":
        return _phone()
    patterns = {
        "passport": ("[A-Z0-9]{6,12}", "not a passport number (6–12 letters or digits)"),
        "fbi_number": (
            "[0-9]{1,8}[A-Z]{0,3}[0-9]{0,2}",
            "not an FBI number (6–10 characters: digits, then up to 3 letters and 2 digits)",
        ),
        "license": ("[A-Z0-9-]{4,20}", "not a licence number (4–20 letters, digits or -)"),
    }
    pattern, reason = patterns[check]
    if check == "fbi_number":  # separators and a FBI/UCN label are not part of the number
        n = f"regexp_replace(upper(regexp_replace({V}, '[\\s./-]', '', 'g')), '^(FBI|UCN)', '')"
        shaped = (
            f"regexp_full_match({n}, {sql_literal(pattern)}) "
            f"AND length({n}) BETWEEN 6 AND 10 "
            f"AND length(regexp_replace({n}, '[^0-9]', '', 'g')) >= 5"
        )
    else:
        n = f"upper(regexp_replace({V}, '\\s', '', 'g'))"
        shaped = f"regexp_full_match({n}, {sql_literal(pattern)})"
    value = f"CASE WHEN {shaped} THEN {n} END"
    return value, [Check(failed, check.replace("_", "-"), reason)]


MIXED_SHAPE_GUARDS = {
    "a_number": "starts_with(upper(trim({v})), 'A')",
    "fbi_number": "regexp_matches(regexp_replace(upper({v}), '^\\s*(FBI|UCN)', ''), '[A-Z]')",
}
"""In a column mixing kinds, the mark that tells a kind apart: an A-number carries its
``A``, an FBI number its letters; bare digits are left to the kinds written as digits."""


def _mixed_identifier(
    spec: FieldSpec, alias: str, today: date
) -> tuple[dict[str, str], list[Check]]:
    """Each declared kind's value from a column mixing identifier kinds, told apart by shape.

    A value takes the one kind whose check it passes (see ``MIXED_SHAPE_GUARDS``: nine
    bare digits could as well be an SSN as an A-number); a value no kind accepts, or more
    than one, is set aside, never guessed.
    """
    accepted: dict[str, str] = {}
    for kind in spec.kinds or []:
        value, _ = value_and_checks(CANONICAL_FIELDS[kind], spec, today)
        expr = _fill(value, alias)
        guard = MIXED_SHAPE_GUARDS.get(kind)
        if guard:
            expr = f"CASE WHEN {guard.format(v=alias)} THEN {expr} END"
        accepted[kind] = expr
    fits = " + ".join(f"(({e}) IS NOT NULL)::INTEGER" for e in accepted.values())
    values = {k: f"CASE WHEN {fits} = 1 THEN {e} END" for k, e in accepted.items()}
    kinds = ", ".join(accepted)
    checks = [
        Check(f"{alias} IS NOT NULL AND {fits} = 0", "identifier", f"not any of {kinds}"),
        Check(f"{fits} > 1", "identifier-ambiguous", f"fits more than one of {kinds}"),
    ]
    return values, checks


def _phone() -> tuple[str, list[Check]]:
    """A North American number (NANP: area code [2-9][0-8]x, exchange [2-9]xx, 10 digits
    after an optional 1), or an international one written with + and its country code
    (E.164: 8 to 15 digits), kept as +digits."""
    d = _digits(V)
    plus = f"regexp_matches(trim({V}), '^(\\+|00)')"
    intl = f"CASE WHEN regexp_matches(trim({V}), '^00') THEN {d}[3:] ELSE {d} END"
    d10 = f"CASE WHEN length({d}) = 11 AND {d}[1:1] = '1' THEN {d}[2:] ELSE {d} END"
    nanp = f"regexp_full_match({d10}, '[2-9][0-8][0-9][2-9][0-9]{{6}}')"
    value = (
        f"CASE WHEN {plus} AND NOT starts_with({intl}, '1') "
        f"AND regexp_full_match({intl}, '[2-9][0-9]{{7,14}}') THEN '+' || {intl} "
        f"WHEN {nanp} THEN {d10} END"
    )
    reason = (
        "not a phone number (10 North American digits: area code 2–9, 0–8, any; exchange "
        "2–9 — or + and a country code, 8 to 15 digits)"
    )
    failed = "{v} IS NOT NULL AND {x} IS NULL"
    return value, [Check(failed, "phone", reason)]


SURNAME_PARTICLES = (
    "de",
    "del",
    "della",
    "dela",
    "di",
    "da",
    "das",
    "do",
    "dos",
    "du",
    "la",
    "las",
    "le",
    "los",
    "van",
    "von",
    "der",
    "den",
    "ter",
    "ten",
    "bin",
    "ibn",
    "bint",
    "al",
    "el",
    "y",
    "st",
    "st.",
    "mac",
    "abu",
)
"""Words that belong to the family name that follows them (de la Cruz, van der Berg)."""

_PARTICLE_RUN = "(?:(?:" + "|".join(p.replace(".", "\\.") for p in SURNAME_PARTICLES) + ")\\s+)*"


def split_name_sql(kind: str, v: str) -> dict[str, str]:
    """Given, middle and family name expressions for a whole-name column.

    ``last_comma_first``: ``Lopez Garcia, Ana Maria``. ``family_given``: family name
    first, no comma. ``given_middle_family``: family name last, with the particles that
    precede it (``Juan de la Cruz``, ``Ludwig van Beethoven``). ``auto``: a comma means
    family first, else family last. A compound surname written last (``Maria Castro
    Rodriguez``) cannot be told from a middle name here; the resolver compares names
    as token sets, so either reading matches.
    """
    n = f"regexp_replace(trim({v}), '\\s+', ' ', 'g')"
    if kind == "auto":
        comma = split_name_sql("last_comma_first", v)
        last = split_name_sql("given_middle_family", v)
        return {
            part: f"CASE WHEN contains({v}, ',') THEN {comma[part]} ELSE {last[part]} END"
            for part in ("given_name", "middle_name", "family_name")
        }
    if kind == "last_comma_first":
        family = f"nullif(trim(split_part({v}, ',', 1)), '')"
        rest = f"trim(split_part({v}, ',', 2))"
    elif kind == "family_given":
        family = f"nullif(regexp_extract({n}, '(?i)^({_PARTICLE_RUN}\\S+)', 1), '')"
        rest = f"trim(substr({n}, length({family}) + 1))"
    else:  # given_middle_family
        fam = f"regexp_extract({n}, '(?i)(?:^|\\s)({_PARTICLE_RUN}\\S+)$', 1)"
        one_word = f"NOT contains({n}, ' ')"
        whole = f"length({fam}) = length({n})"
        given = (
            f"CASE WHEN {one_word} THEN nullif({n}, '') WHEN {whole} THEN NULL "
            f"ELSE split_part({n}, ' ', 1) END"
        )
        middle = (
            f"CASE WHEN {one_word} OR {whole} THEN NULL ELSE nullif(trim(substr({n}, "
            f"length(split_part({n}, ' ', 1)) + 1, length({n}) - length(split_part({n}, ' ', 1)) "
            f"- length({fam}))), '') END"
        )
        family = f"CASE WHEN {one_word} THEN NULL ELSE nullif({fam}, '') END"
        return {"given_name": given, "middle_name": middle, "family_name": family}
    given = f"nullif(split_part({rest}, ' ', 1), '')"
    middle = f"nullif(trim(substr({rest}, length(split_part({rest}, ' ', 1)) + 1)), '')"
    return {"given_name": given, "middle_name": middle, "family_name": family}


def _fill(template: str, v: str, x: str = "") -> str:
    return template.replace("{v}", v).replace("{x}", x)


@dataclass(frozen=True)
class ValidationQuery:
    """The SQL that validates a raw file, and the order of canonical fields it yields."""

    sql: str
    canonical: list[str]


def build_validation_query(
    decl: SourceDeclaration,
    column_sql: dict[str, str],
    bad_utf8_sql: dict[str, str],
    row_filter_sql: str,
    struct_error_sql: str,
    struct_text_sql: str,
    today: date,
    nested_sql: dict[str, str] | None = None,
) -> ValidationQuery:
    """One SELECT over table ``raw`` yielding typed canonical values and per-row errors.

    Columns: ``_row``, ``_struct`` (a whole-row error or NULL), ``_struct_text``,
    ``_key`` (natural key text), one column per canonical field, and ``_errors`` (a
    list of {field, value, rule, reason}).
    """
    nested_sql = nested_sql or {}
    raw_cols = {col: f"c{i}" for i, col in enumerate(decl.fields)}
    level1 = ["_row"]
    for col, alias in raw_cols.items():
        level1.append(f"nullif(trim({column_sql[col]}), '') AS {alias}")
        if col in bad_utf8_sql:
            level1.append(f"{bad_utf8_sql[col]} AS {alias}_bad")
            level1.append(
                f"regexp_replace(CAST({quote_ident(col)} AS VARCHAR), "
                f"'{BAD_BYTES}([0-9A-F]{{2}})', '\\\\x\\1', 'g') AS {alias}_bytes"
            )
        if col in nested_sql:
            level1.append(f"{nested_sql[col]} AS {alias}_nested")
    values: dict[str, str] = {}
    errors: list[str] = []

    produced_by: dict[str, str] = {}  # canonical field -> the source column it comes from

    def error(
        condition: str, column: str, raw_alias: str, rule: str, reason: str, narrows: bool = False
    ) -> str:
        value = (
            f"CASE WHEN length({raw_alias}) > 200 THEN {raw_alias}[1:200] || '…' "
            f"ELSE {raw_alias} END"
        )
        kind = "narrowed" if narrows else "field" if _settable(decl, column) else "row"
        return (
            f"CASE WHEN {condition} THEN {{'field': {sql_literal(column)}, 'value': {value}, "
            f"'rule': {sql_literal(rule)}, 'reason': {sql_literal(reason)}, "
            f"'kind': '{kind}'}} END"
        )

    for col, spec in decl.fields.items():
        alias = raw_cols[col]
        if spec.kinds:
            split_values, checks = _mixed_identifier(spec, alias, today)
            for kind, expr in split_values.items():
                values[kind] = expr
                produced_by[kind] = col
            errors.append(
                error(
                    f"length({alias}) > {MAX_TEXT_LENGTH}",
                    col,
                    alias,
                    "length",
                    f"value longer than {MAX_TEXT_LENGTH} characters",
                )
            )
            errors += _shape_errors(col, alias, error, nested=col in nested_sql)
            for chk in checks:
                errors.append(error(f"({chk.condition})", col, alias, chk.rule, chk.reason))
            continue
        canonical = CANONICAL_FIELDS[spec.to]
        value, checks = value_and_checks(canonical, spec, today)
        values[spec.to] = _fill(value, alias)
        produced_by[spec.to] = col
        if spec.to in PARTIAL_DATES:
            precision = date_sql(alias, spec.formats(), partial=True).precision
            values[f"{spec.to}_precision"] = precision
            produced_by[f"{spec.to}_precision"] = col
        if spec.split:
            for part, expr in split_name_sql(spec.split, alias).items():
                values[part] = expr
                produced_by[part] = col
        if col in bad_utf8_sql:
            errors.append(
                error(
                    f"{alias}_bad",
                    col,
                    f"{alias}_bytes",
                    "encoding",
                    "holds bytes that are not UTF-8",
                )
            )
        too_long = f"value longer than {MAX_TEXT_LENGTH} characters"
        errors.append(error(f"length({alias}) > {MAX_TEXT_LENGTH}", col, alias, "length", too_long))
        errors += _shape_errors(col, alias, error, nested=col in nested_sql)
        if spec.required or col in decl.natural_key:
            errors.append(
                error(f"{alias} IS NULL", col, alias, "required", "required field is empty")
            )
        for chk in checks:
            condition = _fill(chk.condition, alias, quote_ident(spec.to))
            errors.append(error(f"({condition})", col, alias, chk.rule, chk.reason, chk.narrows))
    passthrough = list(raw_cols.values())
    for c in decl.fields:
        if c in bad_utf8_sql:
            passthrough += [f"{raw_cols[c]}_bad", f"{raw_cols[c]}_bytes"]
        if c in nested_sql:
            passthrough.append(f"{raw_cols[c]}_nested")
    key = "concat_ws(chr(31), " + ", ".join(raw_cols[c] for c in decl.natural_key) + ")"
    select_values = ", ".join(f"{expr} AS {quote_ident(name)}" for name, expr in values.items())
    final_from = "v"
    ctes = [
        # whole-row errors first, so no field is parsed out of a row that has none
        f"s0 AS (SELECT *, {struct_error_sql} AS _struct, {struct_text_sql} AS _struct_text "
        f"FROM raw WHERE {row_filter_sql})",
        f"t AS (SELECT {', '.join(level1)} FROM s0 WHERE _struct IS NULL)",
        f"v AS (SELECT _row, {key} AS _key, {', '.join(passthrough)}, {select_values} FROM t)",
    ]
    if decl.tax is not None:
        full = "full_name" if "full_name" in values else "concat_ws(' ', given_name, family_name)"
        zip_col = "v.zip" if "zip" in values else "NULL"
        ctes.append(
            "s AS (SELECT v.*, ts.name_key IS NOT NULL AS _in_scope FROM v LEFT JOIN tax_scope ts "
            f"ON ts.name_key = {_name_key('v.' + full if full == 'full_name' else full)} "
            f"AND ts.zip = {zip_col})"
        )
        final_from = "s"
        reason = f"person not named, with name and address, in request {decl.tax.request_id}"
        errors.append(
            "CASE WHEN NOT _in_scope THEN {'field': NULL, 'value': "
            + ("full_name" if full == "full_name" else full)
            + f", 'rule': 'tax-6103-request-scope', 'reason': {sql_literal(reason)}, "
            "'kind': 'row'} END"
        )
    produced = list(values)
    # a value that fails its field's check is set aside (NULL), the rest of the row kept
    out_cols = ", ".join(
        f"CASE WHEN list_contains(_set_aside, {sql_literal(produced_by[c])}) THEN NULL "
        f"ELSE {quote_ident(c)} END AS {quote_ident(c)}"
        if c in produced_by and _settable(decl, produced_by[c])
        else quote_ident(c)
        for c in produced
    )
    ctes.append(
        f"e AS (SELECT *, list_filter([{', '.join(errors)}], lambda x: x IS NOT NULL) AS _errors "
        f"FROM {final_from})"
    )
    sql = (
        f"WITH {', '.join(ctes)} "
        f"SELECT _row, NULL::VARCHAR AS _struct, NULL::VARCHAR AS _struct_text, _key, {out_cols}, "
        "_errors FROM (SELECT *, list_transform(list_filter(_errors, lambda x: x.kind = 'field'), "
        "lambda x: x.field) AS _set_aside FROM e) "
        "UNION ALL BY NAME SELECT _row, _struct, _struct_text FROM s0 WHERE _struct IS NOT NULL"
    )
    return ValidationQuery(sql, produced)


CONTROL_CHARACTERS = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"
"""NUL, escape and the other C0 controls (tab and line breaks aside): no value holds them,
and one that does could repaint a terminal or split a natural key."""


def _shape_errors(col: str, alias: str, error: Callable[..., str], nested: bool) -> list[str]:
    """Checks every value of every field passes: no control characters, and in JSON a
    value, not an array or an object."""
    out = [
        error(
            f"regexp_matches({alias}, '{CONTROL_CHARACTERS}')",
            col,
            f"regexp_replace({alias}, '{CONTROL_CHARACTERS}', '\ufffd', 'g')",
            "control-character",
            "holds a control character (NUL, escape or another C0 control)",
        )
    ]
    if nested:
        out.append(
            error(
                f"{alias}_nested",
                col,
                alias,
                "json-value",
                "is a JSON array or object, or NaN or Infinity, not one JSON value",
            )
        )
    return out


def _settable(decl: SourceDeclaration, column: str) -> bool:
    """Whether a failing value of ``column`` is set aside (else its row is refused)."""
    return not decl.fields[column].required and column not in decl.natural_key


ROW_ERROR = "x.kind = 'row'"
"""A DuckDB lambda body over an ``_errors`` entry ``x``: the error refuses its row."""


def _name_key(expr: str) -> str:
    return f"regexp_replace(upper(strip_accents({expr})), '[^A-Z]', '', 'g')"


def tax_scope_sql(source: str) -> str:
    """The persons a tax source's request names, keyed as rows are matched to them."""
    return (
        "SELECT DISTINCT "
        + _name_key("given_name || ' ' || family_name")
        + " AS name_key, zip FROM tax_requests WHERE valid AND source = "
        + sql_literal(source)
        + " AND version = (SELECT version FROM sources WHERE name = "
        + sql_literal(source)
        + ")"
    )
