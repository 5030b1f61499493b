"""Reading import files: each format becomes rows of story fields in the
domain's field names, each row with the line it came from.

A parser never raises for a bad row: the row carries its error instead, so the
good rows around it still go in. A file that is not of the format at all raises
``FileProblem``. docs/import-formats.md describes every format. JSON Lines
and CSV are read here, bookmark HTML and Pinboard JSON in bookmarks.py; the
row and the readers of values they share are in records.py.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re

from kb.importers.bookmarks import parse_bookmarks, parse_pinboard
from kb.importers.records import MAX_TAG_LENGTH, FileProblem, Row, as_list, as_text, split_list
from kb.models import KINDS, SECTIONS, STAGES
from kb.services.story_input import is_web_url

FORMATS = {
    "jsonl": "kb JSON Lines",
    "csv": "CSV with a header row",
    "bookmarks": "Netscape bookmark HTML (browsers, Delicious, Pinboard)",
    "pinboard": "Pinboard JSON",
}
LIST_FIELDS = ("organisations", "people", "tags", "suggested_tags", "suggested_areas", "related", "methods")
TEXT_FIELDS = ("title", "kind", "summary", "body", "place", "sector", "stage", "government_level", "evidence", *SECTIONS,
               "evidence_level", "proposed_evidence_level", "evidence_level_reason", "contact_name", "contact_role",
               "contact_organisation", "contact_email", "contact_url", "country", "authority_code", "adapted_from",
               "source", "source_id", "url", "published_on")
BOOLEAN_FIELDS = ("featured", "contact_agreed", "contact_hidden")
# Fields kb's own export writes that an import reads but does not take over.
IGNORED_FIELDS = ("id", "slug", "status", "page_url", "api_url", "attachments", "created_at", "updated_at",
                  "review_note", "first_published_at")
ALIASES = {"organisation": "organisations", "organization": "organisations", "organizations": "organisations",
           "date": "published_on", "person": "people", "tag": "tags", "author": "people", "authors": "people",
           "description": "summary", "link": "url", "href": "url", "action_area": "action_areas",
           "areas": "action_areas", "authority": "authority_code", "local_authority": "authority_code",
           "adopted_by": "adoptions"}
# What an import's ``kind`` becomes when it is not one of kb's kinds (keys) or
# their labels. docs/import-formats.md shows this table; keep the two the same.
KIND_MAP = {
    "case": "case_study", "project": "case_study", "case study": "case_study", "casestudy": "case_study",
    "blog": "blog_post", "post": "blog_post", "blog post": "blog_post", "article": "blog_post",
    "news": "blog_post", "news item": "blog_post", "press release": "blog_post", "announcement": "blog_post",
    "bookmark": "link", "camp write-up": "camp_writeup", "camp writeup": "camp_writeup",
    "unconference": "camp_writeup", "presentation": "talk", "video": "talk", "podcast": "talk",
    "reading list": "reading_list",
    "events": "event", "camp": "event", "webinar": "event", "conference": "event", "meetup": "event",
    "workshop": "event", "hackathon": "event", "seminar": "event", "summit": "event",
    "publication": "report", "paper": "report", "white paper": "report", "study": "report",
    "guide": "report", "toolkit": "report",
}
# The general kind a record gets when its kind is missing or unknown (with a warning).
FALLBACK_KIND = "report"


# Decoding ---------------------------------------------------------------------------

def decode(data: bytes, warnings: list[str]) -> str:
    """The file's text: UTF-8 (with or without a byte order mark), else Windows-1252 with a warning."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        warnings.append("The file is not UTF-8; it was read as Windows-1252. Check accented letters.")
    if "\x00" in text:
        text = text.replace("\x00", "")
        warnings.append("The file held NUL characters; they were removed.")
    return text


def detect_format(filename: str, data: bytes) -> str:
    """The format a file is in, from its name and then its first bytes.

    :raise FileProblem: if it looks like none of them.
    """
    name = (filename or "").lower()
    for suffix, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".csv", "csv"), (".tsv", "csv"),
                        (".html", "bookmarks"), (".htm", "bookmarks")):
        if name.endswith(suffix):
            return fmt
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<!doctype netscape") or head.startswith(b"<"):
        return "bookmarks"
    if head.startswith(b"["):
        return "pinboard"
    if head.startswith(b"{"):
        return "jsonl"
    if b"," in head or b";" in head or b"\t" in head:
        return "csv"
    raise FileProblem("Cannot tell the file's format: choose one.")


def parse(fmt: str, data: bytes, *, include_private: bool = False) -> tuple[list[Row], list[str]]:
    """The rows of an import file and warnings about the whole file.

    :raise FileProblem: if the file is not of format ``fmt``.
    """
    warnings: list[str] = []
    text = decode(data, warnings)
    if not text.strip():
        raise FileProblem("The file is empty.")
    if fmt == "jsonl":
        rows = parse_jsonl(text)
    elif fmt == "csv":
        rows = parse_csv(text, warnings)
    elif fmt == "bookmarks":
        rows = parse_bookmarks(text, include_private=include_private)
    elif fmt == "pinboard":
        rows = parse_pinboard(text, include_private=include_private)
    else:
        raise FileProblem(f"Unknown format “{fmt}”: use one of {', '.join(FORMATS)}.")
    return rows, warnings


# Shared field cleaning ------------------------------------------------------------------

def kind_of(value: str) -> str:
    """A kind from its key, its label or the mapping table (KIND_MAP: "case",
    "project", "webinar"); the value as it was when none of them knows it."""
    text = _kind_words(value)
    for key, label in KINDS.items():
        if text in (_kind_words(key), _kind_words(label)):
            return key
    mapped = {_kind_words(name): kind for name, kind in KIND_MAP.items()}
    return mapped.get(text, mapped.get(text.replace(" ", ""), value))


def _kind_words(value: str) -> str:
    return " ".join(value.replace("_", " ").replace("-", " ").split()).lower()


def stage_of(value: str) -> str:
    text = value.strip().lower()
    return text if text in STAGES else value


def _links(value, problems: list[str]) -> list[dict]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list):
        problems.append("links must be a list")
        return []
    links = []
    for item in value:
        if isinstance(item, str):
            url, _, title = item.strip().partition(" ")
            item = {"url": url, "title": title.strip()}
        if not isinstance(item, dict) or not isinstance(item.get("url", ""), str):
            problems.append("each link must be an object with a url")
            continue
        tags = as_list("link tags", item.get("tags"), problems, " ,")
        links.append({"url": item.get("url", ""), "title": as_text("link title", item.get("title"), problems),
                      "rel": as_text("link rel", item.get("rel"), problems) or "related", "tags": tags})
    return links


ADOPTION_KEYS = ("organisation", "year", "story", "note")


def _adoptions(value, problems: list[str]) -> list[dict]:
    """Adoptions from a list of objects, or (in CSV) a line each of
    "organisation | year | story | note" with the later parts optional."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [dict(zip(ADOPTION_KEYS, (part.strip() for part in line.split("|"))))
                 for line in value.splitlines() if line.strip()]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        problems.append("adoptions must be a list of objects with an organisation, year, story and note")
        return []
    return [{key: item.get(key) for key in ADOPTION_KEYS} for item in value]


def _action_areas(value, problems: list[str]) -> list:
    if isinstance(value, str):
        return split_list(value, ",; ")
    if isinstance(value, list) and all(isinstance(item, (str, dict)) for item in value):
        return [item if isinstance(item, str) else {"slug": str(item.get("slug", "")),
                                                     "reason": str(item.get("reason") or "")}
                for item in value]
    if value is not None:
        problems.append("action_areas must be a list of action area slugs")
    return []


def story_fields(record: dict, warnings: list[str]) -> tuple[dict, list[str]]:
    """A record in kb's field names (or the corpus's: url, organisation, date)
    as the fields create_story takes, and the problems that make it unusable."""
    problems: list[str] = []
    fields: dict = {}
    for raw_key, value in record.items():
        key = ALIASES.get(str(raw_key).strip().lower().replace(" ", "_"), str(raw_key).strip().lower().replace(" ", "_"))
        if key in TEXT_FIELDS:
            fields[key] = as_text(key, value, problems).strip()
        elif key in LIST_FIELDS:
            fields[key] = fields.get(key, []) + as_list(key, value, problems)
        elif key == "links":
            fields["links"] = _links(value, problems)
        elif key == "action_areas":
            fields["action_areas"] = _action_areas(value, problems)
        elif key in BOOLEAN_FIELDS:
            fields[key] = value in (True, 1, "1", "true", "yes", "True")
        elif key == "adoptions":
            fields["adoptions"] = _adoptions(value, problems)
        elif key not in IGNORED_FIELDS and value not in (None, "", []):
            warnings.append(f"ignored the field “{raw_key}”")
    if fields.get("kind"):
        fields["kind"] = kind_of(fields["kind"])
    if fields.get("stage"):
        fields["stage"] = stage_of(fields["stage"])
    _source_links(fields, fields.pop("url", ""), warnings)
    long_tags = [t for t in fields.get("tags", []) if len(t) > MAX_TAG_LENGTH]
    if long_tags:
        warnings.append(f"left out {len(long_tags)} tag(s) longer than {MAX_TAG_LENGTH} characters")
        fields["tags"] = [t for t in fields["tags"] if len(t) <= MAX_TAG_LENGTH]
    return fields, problems


def _web_url(text: str) -> bool:
    try:
        return is_web_url(text)
    except ValueError:  # a malformed IPv6 host
        return False


def _source_links(fields: dict, url: str, warnings: list[str]) -> None:
    """The ``url`` field as the story's source link. Real records hold several
    addresses in it, or words instead of one: the first web address is the
    source, the others further reading, and text that is no address is left out."""
    if not url:
        return
    found = [part.strip(".,;") for part in re.split(r"[\s,;]+", url) if part.strip(".,;")]
    web = [part for part in found if _web_url(part)]
    if len(web) != len(found):
        shown = url if len(url) <= 60 else url[:57] + "..."
        warnings.append(f"url “{shown}” holds text that is not a web address; it was left out")
    links = fields.setdefault("links", [])
    known = {link["url"] for link in links}
    for n, address in enumerate(dict.fromkeys(web)):
        if address not in known:
            rel, title = ("source", fields.get("title", "") or address) if n == 0 else ("related", address)
            links.insert(n, {"url": address, "title": title, "rel": rel, "tags": []})


def content_id(fields: dict) -> str:
    """A stable id for a record that has neither a source id nor a URL, so that
    importing the same file twice still finds it the second time."""
    key = "\x1f".join([fields.get("title", "").casefold(), fields.get("summary", "").casefold(),
                       str(fields.get("published_on") or "")])
    return "sha1:" + hashlib.sha1(key.encode("utf-8")).hexdigest()


def _row_from_record(line: int, record, label: str = "") -> Row:
    if not isinstance(record, dict):
        return Row(line, error="not a JSON object", label=label)
    row = Row(line, label=label)
    row.fields, problems = story_fields(record, row.warnings)
    # A value of the wrong shape costs the record that value, not the record.
    row.warnings.extend(f"{problem}: left out" for problem in dict.fromkeys(problems))
    return row


# kb JSON Lines ---------------------------------------------------------------------------------

def parse_jsonl(text: str) -> list[Row]:
    """One JSON object a line; blank lines are passed over."""
    rows = []
    # Only a line feed ends a record: str.splitlines would also split inside
    # strings that hold U+2028 or other Unicode line separators.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            rows.append(Row(number, error=f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        rows.append(_row_from_record(number, record))
    if rows and all(row.error.startswith("not valid JSON") for row in rows):
        raise FileProblem("No line of the file is a JSON object: is it JSON Lines?")
    return rows


# CSV -----------------------------------------------------------------------------------------------

CSV_COLUMNS = ("title", "kind", "summary", "body", "url", "published_on", "organisations", "people", "place",
               "country", "authority_code", "sector", "stage", *SECTIONS, "evidence_level",
               "proposed_evidence_level", "evidence_level_reason", "contact_name", "contact_role", "contact_organisation", "contact_email",
               "contact_url", "contact_agreed", "adapted_from", "adoptions", "tags", "action_areas", "links",
               "source", "source_id")
# Read from CSV too: the old name of results.
CSV_EXTRA_COLUMNS = ("evidence",)
# A spreadsheet runs a cell that starts with one of these as a formula; exports
# put an apostrophe before it, and imports take that apostrophe off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def unescape_cell(value: str) -> str:
    if value.startswith("'") and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def _sniff_dialect(header: str):
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get)
    return delimiter if counts[delimiter] else ","


def parse_csv(text: str, warnings: list[str]) -> list[Row]:
    """A header row naming columns (see CSV_COLUMNS), then one story a row.
    Lists inside a cell are separated by semicolons or line breaks.

    :raise FileProblem: if there is no title column.
    """
    csv.field_size_limit(10 * 1024 * 1024)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_dialect(first_line))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FileProblem(f"The header row cannot be read: {exc}") from None
    columns = [ALIASES.get(h.strip().lower().replace(" ", "_"), h.strip().lower().replace(" ", "_")) for h in header]
    if "title" not in columns:
        raise FileProblem("The header row has no “title” column. "
                          f"Columns kb reads: {', '.join(CSV_COLUMNS)}.")
    unknown = [h for h, c in zip(header, columns) if c not in CSV_COLUMNS and c not in LIST_FIELDS
               and c not in IGNORED_FIELDS and c not in BOOLEAN_FIELDS and c not in CSV_EXTRA_COLUMNS]
    if unknown:
        warnings.append(f"Columns kb does not read were left out: {', '.join(unknown)}.")
    rows = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append(Row(line, error=f"the row cannot be read as CSV ({exc})"))
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            rows.append(Row(line, error=f"the row has {len(cells)} cells but the header has {len(columns)}"))
            continue
        record = {}
        for column, cell in zip(columns, cells):
            if column in CSV_COLUMNS or column in LIST_FIELDS or column in BOOLEAN_FIELDS or column in CSV_EXTRA_COLUMNS:
                cell = unescape_cell(cell)
                record[column] = split_list(cell) if column in LIST_FIELDS else cell
        rows.append(_row_from_record(line, record))
    return rows
