"""A synthetic person and their addresses: the truth every agency's record is a view of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from habeas.synth.geography import Place


@dataclass
class Address:
    """Where a person lived from ``since``."""

    street: str
    place: Place
    since: date


@dataclass
class Person:
    """One synthetic person: the truth every agency's record is a noisy view of."""

    pid: str
    tradition: int
    sex: str
    given: tuple[str, ...]
    middle: tuple[str, ...] | None
    family: tuple[tuple[str, ...], ...]
    dob: date
    status: str
    country: tuple[str, str]
    a_number: str | None = None
    ssn: str | None = None
    itin: str | None = None
    passport: str | None = None
    fbi: str | None = None
    license_state: str | None = None
    license_no: str | None = None
    phone: str | None = None
    last_entry: date | None = None
    addresses: list[Address] = field(default_factory=list)

    @property
    def given_name(self) -> str:
        """Canonical given name."""
        return self.given[0]

    @property
    def middle_name(self) -> str | None:
        """Canonical middle name, if any."""
        return self.middle[0] if self.middle else None

    @property
    def family_name(self) -> str:
        """Canonical family name; compound surnames joined by a space."""
        return " ".join(part[0] for part in self.family)

    @property
    def foreign_born(self) -> bool:
        """Born outside the United States."""
        return self.status != "us_born"
