"""Which of a record's tags are really other fields: the field mapping.

Exports often fold fields into their tags: ``method: Group Interview``,
``author: melody``, a status word (``Pilot``) or a level of government
(``Central-Government``). The mapping moves them to the story's own fields,
so that tags keep only topics:

- ``prefixes``: a tag ``name: value`` whose name is a key goes, as ``value``,
  to the field named (a list field gets it added; a single field is set);
- ``values``: a tag that is a key of a field's table is that field's value
  (the record's own ``stage`` or ``government_level`` is read through the same
  table, so ``"stage": "Pilot"`` works too).

``DEFAULT_MAP`` is used unless ``kb import --map FILE`` (or the upload page's
mapping file) gives a JSON file of
the same shape; its entries replace the defaults one by one, and a target of
``null`` or ``""`` turns a default off (the tag stays a tag). Keys are compared
in lower case, with underscores and runs of spaces read as one space (a hyphen
counts: "Central-Government" is a category, "Central government" a topic).
Records of kb's own exports (source ``kb``) have their fields in place already
and are not mapped.
docs/import-formats.md shows the defaults; keep the two the same.
"""
from __future__ import annotations

import json
import re

from kb.models import GOVERNMENT_LEVELS, STAGES

# Fields a mapped tag may go to.
LIST_TARGETS = ("methods", "people", "organisations", "tags")
SINGLE_TARGETS = ("stage", "government_level", "sector", "place")
# What each single field's value must be one of (after its table), if anything.
ALLOWED = {"stage": STAGES, "government_level": GOVERNMENT_LEVELS}

DEFAULT_MAP = {
    "prefixes": {
        "method": "methods",
        "methods": "methods",
        "author": "people",
        "by": "people",
        "organisation": "organisations",
        "organization": "organisations",
        "sector": "sector",
        "stage": "stage",
        "status": "stage",
        "level": "government_level",
    },
    "values": {
        # Only words that are rarely a topic: "scaling" or "live" stay tags.
        "stage": {
            "planned": "idea",
            "in development": "development",
            "pilot": "pilot",
            "implemented": "implemented", "in production": "implemented",
            "not in use anymore": "discontinued", "no longer in use": "discontinued",
        },
        # The words of exports that give the level as a category; "Local
        # government" and "Central government", with a space, are often a
        # story's topic and stay tags.
        "government_level": {
            "local": "local", "regional": "regional", "national": "national",
            "central-government": "national", "local-government": "local", "regional-government": "regional",
            "across countries": "international",
        },
    },
}


class MapProblem(ValueError):
    """A mapping file that cannot be used, with the reason."""


def key(text: str) -> str:
    return " ".join(str(text or "").replace("_", " ").lower().split())


class FieldMap:
    """The mapping in use for one import (see the module's description)."""

    def __init__(self, overrides: dict | None = None):
        prefixes = {key(name): target for name, target in DEFAULT_MAP["prefixes"].items()}
        values = {field: {key(word): value for word, value in table.items()}
                  for field, table in DEFAULT_MAP["values"].items()}
        overrides = overrides or {}
        if not isinstance(overrides, dict) or set(overrides) - {"prefixes", "values"}:
            raise MapProblem("A mapping file is a JSON object with “prefixes” and “values”.")
        if not all(isinstance(overrides.get(part) or {}, dict) for part in ("prefixes", "values")):
            raise MapProblem("“prefixes” and “values” are each a JSON object.")
        for name, target in (overrides.get("prefixes") or {}).items():
            if target is not None and not isinstance(target, str):
                raise MapProblem(f"prefix “{name}”: the field it goes to is written as text.")
            if target and target not in LIST_TARGETS + SINGLE_TARGETS:
                raise MapProblem(f"prefix “{name}”: “{target}” is not one of "
                                 f"{', '.join(LIST_TARGETS + SINGLE_TARGETS)}.")
            prefixes[key(name)] = target
        for field, table in (overrides.get("values") or {}).items():
            if field not in SINGLE_TARGETS or not isinstance(table, dict):
                raise MapProblem(f"values: “{field}” must be one of {', '.join(SINGLE_TARGETS)}, "
                                 "with an object of words and values.")
            for word, value in table.items():
                if value is not None and not isinstance(value, str):
                    raise MapProblem(f"values of {field}: the value for “{word}” is written as text.")
                if value and field in ALLOWED and value not in ALLOWED[field]:
                    raise MapProblem(f"values of {field}: “{value}” is not one of {', '.join(ALLOWED[field])}.")
                values.setdefault(field, {})[key(word)] = value
        self.prefixes = {name: target for name, target in prefixes.items() if target}
        self.values = {field: {word: value for word, value in table.items() if value}
                       for field, table in values.items()}
        self.words = {word: field for field, table in self.values.items() for word in table}

    # The mapping file's text as given ("" for the defaults), kept with an upload's job.
    text = ""

    @classmethod
    def from_json(cls, text: str) -> "FieldMap":
        """:raise MapProblem: if the text is not a mapping."""
        try:
            field_map = cls(json.loads(text))
        except json.JSONDecodeError as exc:
            raise MapProblem(f"The mapping file is not JSON: {exc.msg} (line {exc.lineno}).") from exc
        field_map.text = text
        return field_map

    @classmethod
    def from_file(cls, data: bytes) -> "FieldMap":
        """The mapping in a file's bytes (``kb import --map`` and the upload page's mapping file).

        :raise MapProblem: if the file is not a mapping.
        """
        return cls.from_json(data.decode("utf-8", errors="replace"))

    def apply(self, fields: dict, warnings: list[str]) -> None:
        """Move the tags the mapping names to their fields; read the record's
        own single fields through their tables. A second, different value for a
        single field is left out with a warning."""
        for field in self.values:
            if fields.get(field):
                fields[field] = self.values[field].get(key(fields[field]), fields[field])
        kept = []
        for tag in fields.get("tags") or []:
            field, value = self._target(tag)
            if field is None or field == "tags":
                kept.append(value if field else tag)
            elif field in LIST_TARGETS:
                if value not in (fields.get(field) or []):
                    fields[field] = [*(fields.get(field) or []), value]
            elif not fields.get(field):
                fields[field] = value
            elif fields[field] != value:
                warnings.append(f"tag “{tag[:60]}” left out: the {field.replace('_', ' ')} is already "
                                f"“{fields[field][:60]}”")
        if "tags" in fields:
            fields["tags"] = kept

    def _target(self, tag: str) -> tuple[str | None, str]:
        name, colon, value = tag.partition(":")
        if colon and value.strip() and key(name) in self.prefixes:
            field, value = self.prefixes[key(name)], " ".join(value.split())
            return field, self.values.get(field, {}).get(key(value)) or _known(field, value)
        field = self.words.get(key(tag))
        return (field, self.values[field][key(tag)]) if field else (None, tag)


def _known(field: str, value: str) -> str:
    """``value`` as kb's own name for it when it is one of the field's values or their labels."""
    for name, label in ALLOWED.get(field, {}).items():
        if key(value) in (key(name), key(label)):
            return name
    return value


DEFAULT = FieldMap()
