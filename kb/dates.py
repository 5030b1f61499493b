"""Dates known to a year, a month or a day: read from what people and files
write, and written back as they were given.

A ``PartialDate`` is the first day of its period (what is stored, sorted and
faceted on) with its precision. ``parse`` is the one reader (importers, the
services, the API); ``iso`` the one form for data (exports, the API,
revisions: "2020", "2020-03", "2020-03-04") and ``long`` the one for people
("2020", "March 2020", "4 March 2020"). Nothing here knows about a story.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime

PRECISIONS = ("year", "month", "day")
# What the API reads and writes: a year, a month or a day, ISO 8601; a day may
# carry a time, which is dropped.
ISO_PATTERN = r"^\d{4}(-\d{2}(-\d{2}([T ].*)?)?)?$"
ISO_OUT_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"

_MONTHS = {name.casefold(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.casefold(): n for n, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = r"([A-Za-z]+)\.?"
_YEAR = r"(\d{4})"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to ``precision``: ``day`` is the first day of that year or month."""

    day: date
    precision: str = "day"

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if (self.precision != "day" and self.day.day != 1) or (self.precision == "year" and self.day.month != 1):
            raise ValueError("a year or a month is kept as its first day")

    @classmethod
    def of(cls, day: date | None, precision: str | None) -> PartialDate | None:
        """The stored pair (a date and a precision) as one value; a date without a
        precision is a day, as every date was before precisions were kept."""
        if day is None:
            return None
        return cls(day, precision or "day")

    @property
    def year(self) -> int:
        return self.day.year

    def iso(self) -> str:
        """2020, 2020-03 or 2020-03-04."""
        return self.day.isoformat()[:{"year": 4, "month": 7, "day": 10}[self.precision]]

    def long(self) -> str:
        """2020, March 2020 or 4 March 2020, as GOV.UK writes dates."""
        if self.precision == "year":
            return str(self.day.year)
        if self.precision == "month":
            return f"{self.day:%B} {self.day.year}"
        return f"{self.day.day} {self.day:%B} {self.day.year}"

    def parts(self) -> tuple[str, str, str]:
        """Day, month and year as a date input shows them ("" for what is not known)."""
        return (str(self.day.day) if self.precision == "day" else "",
                str(self.day.month) if self.precision != "year" else "", str(self.day.year))

    def __str__(self) -> str:
        return self.iso()


def from_parts(year: int, month: int | None = None, day: int | None = None) -> PartialDate:
    """The date of these numbers (ValueError if there is no such day or month)."""
    if day is not None and month is None:
        raise ValueError("a day needs a month")
    if not 1 <= year <= 9999:
        raise ValueError("year out of range")
    precision = "day" if day is not None else "month" if month is not None else "year"
    return PartialDate(date(year, month or 1, day or 1), precision)


def _month(name: str) -> int:
    try:
        return _MONTHS[name.casefold()]
    except KeyError:
        raise ValueError(f"“{name}” is not a month") from None


def parse(value) -> PartialDate | None:
    """A ``PartialDate`` from a date, a datetime, a PartialDate, or text: 2020,
    2020-03, March 2020, 2020-03-04, 4 March 2020, March 4, 2020, or an ISO 8601
    time (its day). None for nothing; ValueError for anything else."""
    if value is None or isinstance(value, PartialDate):
        return value
    if isinstance(value, datetime):
        return PartialDate(value.date())
    if isinstance(value, date):
        return PartialDate(value)
    text = " ".join(str(value).split()).strip(" ,")
    if not text:
        return None
    if match := re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text):
        year, month, day = (int(part) if part else None for part in match.groups())
        return from_parts(year, month, day)
    if match := re.fullmatch(rf"{_MONTH},? {_YEAR}", text):
        return from_parts(int(match[2]), _month(match[1]))
    if match := re.fullmatch(rf"{_DAY} (?:of )?{_MONTH},? {_YEAR}", text):
        return from_parts(int(match[3]), _month(match[2]), int(match[1]))
    if match := re.fullmatch(rf"{_MONTH} {_DAY},? {_YEAR}", text):
        return from_parts(int(match[3]), _month(match[1]), int(match[2]))
    return PartialDate(datetime.fromisoformat(text.replace("Z", "+00:00")).date())
