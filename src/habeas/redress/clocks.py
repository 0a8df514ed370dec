"""The clocks of 5 U.S.C. 552a(d): a dispute is acknowledged within 10 working days of
its receipt and decided within 30. Working days leave out Saturdays, Sundays and the
federal holidays (as observed) of a maintained calendar, the ``holidays`` package; the
count starts the day after the dispute arrives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays

ACKNOWLEDGE_DAYS = 10
DECIDE_DAYS = 30


@cache
def _federal(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("US", years=year).keys())


def is_working_day(day: date) -> bool:
    """True on a weekday that is not a U.S. federal holiday (nor its observed day)."""
    return day.weekday() < 5 and day not in _federal(day.year)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself not counted)."""
    if n < 0:
        raise ValueError("a clock counts forwards")
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


@dataclass(frozen=True)
class Clocks:
    """A dispute's due dates."""

    received: date
    acknowledge_by: date
    decide_by: date


def clocks_for(received: date) -> Clocks:
    """The dispute's acknowledge-by and decide-by days, from the day it was received."""
    return Clocks(
        received,
        add_working_days(received, ACKNOWLEDGE_DAYS),
        add_working_days(received, DECIDE_DAYS),
    )


def overdue(
    today: date, acknowledge_by: date, decide_by: date, acknowledged: bool, decided: bool
) -> list[str]:
    """What is late on ``today``: the acknowledgement, the decision, or nothing."""
    late = []
    if not acknowledged and today > acknowledge_by:
        late.append(f"not acknowledged by {acknowledge_by.isoformat()}")
    if not decided and today > decide_by:
        late.append(f"not decided by {decide_by.isoformat()}")
    return late
