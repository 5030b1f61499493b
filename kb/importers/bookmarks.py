"""Bookmark imports: Netscape bookmark HTML (browsers, Delicious, Pinboard's
HTML export) and Pinboard JSON. Every bookmark becomes a story of kind link
whose source link is the bookmark."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from html.parser import HTMLParser

from kb.importers.records import MAX_TAG_LENGTH, FileProblem, Row, as_list, as_text
from kb.services.sources import normalise_url


# Netscape bookmark HTML ---------------------------------------------------------------------------

def bookmark_date(value: str) -> str | None:
    """A Unix time in seconds (or milliseconds, or microseconds) as YYYY-MM-DD, or None."""
    try:
        stamp = int(str(value).strip())
    except ValueError:
        return None
    for scale in (1, 1_000, 1_000_000):
        if stamp / scale < 32_503_680_000:  # before the year 3000
            try:
                return datetime.fromtimestamp(stamp / scale, tz=timezone.utc).date().isoformat()
            except (OverflowError, OSError, ValueError):
                return None
    return None


def title_from_url(url: str) -> str:
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.strip(), flags=re.I).rstrip("/")
    return text[:300] or "Untitled bookmark"


def bookmark_row(line: int, *, url: str, title: str, note: str, tags: list[str], day: str | None,
                 source: str, source_id: str = "", label: str = "") -> Row:
    """A bookmark as a story of kind link, whose source link is the bookmark."""
    row = Row(line, label=label)
    url = url.strip()
    if not url:
        row.error = "the bookmark has no address"
        return row
    title = " ".join(title.split()) or title_from_url(url)
    summary = " ".join(note.split())
    row.fields = {
        "title": title[:300],
        "kind": "link",
        "summary": summary or title[:1000],
        "links": [{"url": url, "title": title[:500], "rel": "source", "tags": []}],
        "tags": [t for t in tags if len(t) <= MAX_TAG_LENGTH],
        "source": source,
        "source_id": source_id or normalise_url(url)[:300],
    }
    if day:
        row.fields["published_on"] = day
    return row


class _BookmarkParser(HTMLParser):
    def __init__(self, include_private: bool):
        super().__init__(convert_charrefs=True)
        self.include_private = include_private
        self.items: list[dict] = []
        self.current: dict | None = None
        self.in_anchor = False
        self.note_for: dict | None = None

    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        if tag == "a":
            attributes = {k.lower(): (v or "") for k, v in attrs}
            self.current = {"line": self.getpos()[0], "attrs": attributes, "title": [], "note": []}
            self.items.append(self.current)
            self.in_anchor = True
            self.note_for = None
        elif tag == "dd" and self.items:
            self.note_for = self.items[-1]
        elif tag in ("dt", "dl", "h3"):
            self.note_for = None
        elif tag == "br" and self.note_for is not None:
            self.note_for["note"].append("\n")

    def handle_endtag(self, tag):
        if tag.lower() == "a":
            self.in_anchor = False
        elif tag.lower() in ("dl", "dd"):
            self.note_for = None

    def handle_data(self, data):
        if self.in_anchor and self.current is not None:
            self.current["title"].append(data)
        elif self.note_for is not None:
            self.note_for["note"].append(data)


def parse_bookmarks(text: str, *, include_private: bool = False) -> list[Row]:
    """<DT><A HREF ADD_DATE TAGS PRIVATE>title</A> with an optional <DD>note.
    Private bookmarks are skipped unless ``include_private``.

    :raise FileProblem: if the file holds no bookmark at all.
    """
    parser = _BookmarkParser(include_private)
    parser.feed(text)
    parser.close()
    if not parser.items:
        raise FileProblem("The file holds no bookmarks (<A HREF=...> entries): is it a bookmark export?")
    rows = []
    for item in parser.items:
        attrs = item["attrs"]
        if attrs.get("private", "0").strip() not in ("", "0") and not include_private:
            rows.append(Row(item["line"], skip="private bookmark (import with private bookmarks to include it)",
                            fields={"title": "".join(item["title"]).strip()}))
            continue
        row = bookmark_row(
            item["line"], url=attrs.get("href", ""), title="".join(item["title"]), note="".join(item["note"]),
            tags=[t.strip() for t in attrs.get("tags", "").split(",") if t.strip()],
            day=bookmark_date(attrs.get("add_date", "")), source="bookmarks",
        )
        if attrs.get("add_date") and bookmark_date(attrs["add_date"]) is None:
            row.warnings.append(f"ADD_DATE “{attrs['add_date'][:40]}” is not a time; the date was left empty")
        rows.append(row)
    return rows


# Pinboard JSON -------------------------------------------------------------------------------------

@dataclass
class _Unreadable:
    reason: str


def _json_items(text: str):
    """(line, item number, value) for each element of a top-level JSON array."""
    decoder = json.JSONDecoder()
    index = len(text) - len(text.lstrip())
    if not text.startswith("[", index):
        raise FileProblem("Pinboard JSON is a list of bookmarks in [ ]: this file does not start with [.")
    index += 1
    number = 0
    while True:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        if index >= len(text):
            yield text.count("\n") + 1, number + 1, _Unreadable("the JSON list is not closed with ]")
            return
        if text[index] == "]":
            return
        number += 1
        line = text.count("\n", 0, index) + 1
        try:
            value, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            yield line, number, _Unreadable(f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}); "
                                            "the rest of the file cannot be read")
            return
        yield line, number, value


def parse_pinboard(text: str, *, include_private: bool = False) -> list[Row]:
    """Pinboard's JSON export: a list of {href, description, extended, tags,
    time, shared, toread, hash}. Bookmarks not shared are skipped unless ``include_private``."""
    rows = []
    for line, number, item in _json_items(text):
        label = f"bookmark {number}"
        if isinstance(item, _Unreadable):
            rows.append(Row(line, error=item.reason, label=label))
            break
        if not isinstance(item, dict):
            rows.append(Row(line, error="not a JSON object", label=label))
            continue
        problems: list[str] = []
        url = as_text("href", item.get("href"), problems)
        title = as_text("description", item.get("description"), problems)
        note = as_text("extended", item.get("extended"), problems)
        tags = as_list("tags", item.get("tags"), problems, " ")
        if problems:
            rows.append(Row(line, error="; ".join(problems), label=label))
            continue
        if str(item.get("shared", "yes")).lower() in ("no", "false", "0") and not include_private:
            rows.append(Row(line, skip="private bookmark (import with private bookmarks to include it)",
                            fields={"title": title}, label=label))
            continue
        day = None
        warnings = []
        if item.get("time"):
            try:
                day = datetime.fromisoformat(str(item["time"]).replace("Z", "+00:00")).date().isoformat()
            except ValueError:
                warnings.append(f"time “{str(item['time'])[:40]}” is not a date; the date was left empty")
        source_id = item.get("hash") if isinstance(item.get("hash"), str) else ""
        row = bookmark_row(line, url=url, title=title, note=note, tags=tags, day=day, source="pinboard",
                           source_id=source_id, label=label)
        row.warnings.extend(warnings)
        rows.append(row)
    return rows
