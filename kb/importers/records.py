"""What every import format reads into: rows of story fields, and the small
readers of values (text, lists) the formats share."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.importers.cleaning import decode_entities

MAX_TAG_LENGTH = 100


class FileProblem(ValueError):
    """The whole file cannot be read as the format asked for."""


@dataclass
class Row:
    """One record of an import file: its fields, or why it cannot be used."""

    line: int
    fields: dict = field(default_factory=dict)
    error: str = ""
    skip: str = ""
    warnings: list[str] = field(default_factory=list)
    label: str = ""

    @property
    def where(self) -> str:
        return f"line {self.line}" + (f", {self.label}" if self.label else "")


# Reading values ------------------------------------------------------------------------

def split_list(value: str, separators: str = ";") -> list[str]:
    if "\n" in value:
        parts = value.splitlines()
    else:
        parts = re.split(f"[{re.escape(separators)}]", value)
    return [part.strip() for part in parts if part.strip()]


def as_text(name: str, value, problems: list[str]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        problems.append(f"{name} must be text")
        return ""
    return str(value)


def as_list(name: str, value, problems: list[str], separators: str = ";") -> list:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        # "U.S. EPA &amp; partners" is one name: its entity is no separator.
        return split_list(decode_entities(value), separators)
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) and not isinstance(item, bool)
                                      for item in value):
        return [str(item) for item in value]
    problems.append(f"{name} must be a list of text")
    return []
