"""The kinds of error agencies' records carry: typos, variants, swaps, stale values."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, timedelta

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def ascii_fold(text: str) -> str:
    """Strip diacritics the way many systems do (García → Garcia)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def typo(rng: random.Random, text: str) -> str:
    """One keyboard slip: a deleted, doubled, swapped or replaced letter."""
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.randrange(4)
    if op == 0:
        return text[:i] + text[i + 1 :]
    if op == 1:
        return text[:i] + text[i] + text[i:]
    if op == 2:
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    return text[:i] + rng.choice(LETTERS) + text[i + 1 :]


def variant(rng: random.Random, names: tuple[str, ...]) -> str:
    """A recorded form of a name: usually the canonical one, sometimes a variant."""
    if len(names) > 1 and rng.random() < 0.35:
        return rng.choice(names[1:])
    return names[0]


def dob_error(rng: random.Random, dob: date) -> date:
    """A wrong date of birth of the usual kinds: day/month swap, a digit off, a day off."""
    kind = rng.randrange(3)
    if kind == 0 and dob.day <= 12 and dob.day != dob.month:
        return date(dob.year, dob.day, dob.month)
    if kind == 1:
        year = dob.year + rng.choice((-10, -1, 1, 10))
        try:
            return dob.replace(year=year)
        except ValueError:
            return dob.replace(year=year, day=28)
    return dob + timedelta(days=rng.choice((-1, 1)))


def digit_typo(rng: random.Random, digits: str) -> str:
    """One wrong or two transposed digits in an identifier."""
    i = rng.randrange(len(digits) - 1)
    if rng.random() < 0.5:
        return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
    return digits[:i] + str((int(digits[i]) + rng.randint(1, 9)) % 10) + digits[i + 1 :]
