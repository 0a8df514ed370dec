"""Dates as sources give them: whole, or known only to the month or the year.

A format's *precision* is what its directives pin down: ``%d`` (or ``%j``) a day, ``%m``
or a month name a month, ``%Y``/``%y`` alone a year. A date of birth may be partial:
the declaration lists partial formats (``%Y``, ``%Y-%m``, ``%m/%Y`` …), and a whole-date
format also reads a source's placeholders (``00`` for an unknown day or month). A value
whose day or month is impossible (``1862-81-01``) keeps its year, marked as narrowed, and
its raw text goes to quarantine. Partial dates are stored as the first day of their
period *with* their precision; every comparison reads the precision, so ``1950`` is
"the year 1950", never 1 January 1950.

Every other date (a court's order, an arrest) is an event's date: only a whole date is
kept, and a partial one is set aside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from habeas.store.staging import sql_literal

Precision = Literal["day", "month", "year"]
PRECISIONS: tuple[Precision, ...] = ("day", "month", "year")

_DIRECTIVE = re.compile(r"%[-#]?[A-Za-z%]")
_DAY = {"%d", "%-d", "%j", "%-j"}
_MONTH = {"%m", "%-m", "%b", "%B", "%h"}
_YEAR = {"%Y", "%y", "%-y", "%G"}
_NUMERIC = {"%Y": r"([0-9]{4})", "%m": r"([0-9]{1,2})", "%d": r"([0-9]{1,2})"}


def format_precision(fmt: str) -> Precision | None:
    """The precision a strptime format pins down; None when it names no year."""
    found = set(_DIRECTIVE.findall(fmt))
    if not found & _YEAR:
        return None
    if found & _DAY:
        return "day"
    if found & _MONTH:
        return "month"
    return "year"


@dataclass(frozen=True)
class NumericShape:
    """A whole-date format made only of %Y, %m, %d and literals, as a regular expression."""

    regex: str
    year: int
    month: int
    day: int


def numeric_shape(fmt: str) -> NumericShape | None:
    """The regular expression and group numbers of a numeric whole-date format, if it is one."""
    parts: list[str] = []
    groups: dict[str, int] = {}
    pos = 0
    for m in _DIRECTIVE.finditer(fmt):
        parts.append(re.escape(fmt[pos : m.start()]))
        token = m.group()
        if token not in _NUMERIC or token in groups:
            return None
        groups[token] = len(groups) + 1
        parts.append(_NUMERIC[token])
        pos = m.end()
    parts.append(re.escape(fmt[pos:]))
    if set(groups) != set(_NUMERIC):
        return None
    return NumericShape("^" + "".join(parts) + "$", groups["%Y"], groups["%m"], groups["%d"])


@dataclass(frozen=True)
class DateSql:
    """SQL over the raw text for a date's value, its precision, and whether it was narrowed."""

    value: str
    precision: str
    narrowed: str


def _strict(v: str, fmt: str) -> str:
    return f"CAST(try_strptime({v}, {sql_literal(fmt)}) AS DATE)"


def date_sql(v: str, formats: list[str], partial: bool) -> DateSql:
    """The value, precision and narrowed-flag expressions for raw text ``v``.

    With ``partial`` false only whole-date formats are tried, and nothing is narrowed.
    """
    usable = [f for f in formats if partial or format_precision(f) == "day"]
    strict = [(f, _strict(v, f), format_precision(f) or "day") for f in usable]
    value_parts = [expr for _, expr, _ in strict]
    precision_parts = [f"WHEN {expr} IS NOT NULL THEN '{p}'" for _, expr, p in strict]
    narrowed = "false"
    if partial:
        shapes = [s for s in (numeric_shape(f) for f in usable) if s is not None]
        for s in shapes:
            rx = sql_literal(s.regex)

            def grp(n: int, rx: str = rx) -> str:
                return f"TRY_CAST(nullif(regexp_extract({v}, {rx}, {n}), '') AS INTEGER)"

            y, mo, d = grp(s.year), grp(s.month), grp(s.day)
            ok_year = f"({y} BETWEEN 1 AND 9999)"
            month_only = f"({ok_year} AND {mo} BETWEEN 1 AND 12 AND {d} = 0)"
            year_only = f"({ok_year} AND {mo} = 0 AND {d} = 0)"
            salvage = f"({ok_year} AND NOT {month_only} AND NOT {year_only})"
            value_parts.append(
                f"CASE WHEN {month_only} THEN make_date({y}, {mo}, 1) "
                f"WHEN {ok_year} THEN make_date({y}, 1, 1) END"
            )
            precision_parts.append(f"WHEN {month_only} THEN 'month'")
            precision_parts.append(f"WHEN {ok_year} THEN 'year'")
            strict_none = " AND ".join(f"{expr} IS NULL" for _, expr, _ in strict)
            narrowed = (
                f"({strict_none} AND {salvage})"
                if narrowed == "false"
                else f"({narrowed} OR ({strict_none} AND {salvage}))"
            )
    value = f"coalesce({', '.join(value_parts)})" if len(value_parts) > 1 else value_parts[0]
    precision = f"CASE {' '.join(precision_parts)} END"
    return DateSql(value, precision, narrowed)


def date_text_sql(value: str, precision: str) -> str:
    """A date as text at its precision: ``1950``, ``1950-05`` or ``1950-05-03``."""
    return (
        f"CASE {precision} WHEN 'year' THEN strftime({value}, '%Y') "
        f"WHEN 'month' THEN strftime({value}, '%Y-%m') "
        f"ELSE strftime({value}, '%Y-%m-%d') END"
    )
