"""Exporting published stories as kb JSON Lines or CSV: the formats the
importer reads, so an export imported into an empty instance gives back the
same stories."""
from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Iterator

from flask import current_app
from sqlalchemy import select

from kb import policy, search
from kb.extensions import db
from kb.importers.formats import ADOPTION_KEYS, CSV_COLUMNS, FORMULA_START
from kb.models import Story
from kb.policy import SYSTEM
from kb.services.revisions import snapshot

EXPORT_FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv"}
CHUNK = 200
CONTACT_TEXT = ("contact_name", "contact_role", "contact_organisation", "contact_email", "contact_url")


def published_stories(q: str = "", filters: dict | None = None) -> Iterator[Story]:
    """Every published story, oldest first; or, with a query or filters, the
    search's results (the same search as the search page), best first."""
    if not (q or "").strip() and not search.clean_filters(filters):
        query = select(Story.id).where(Story.is_published).order_by(Story.id)
        ids = list(db.session.scalars(query))
    else:
        ids = search.all_story_ids(current_app, q, filters)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = {s.id: s for s in db.session.scalars(select(Story).where(Story.id.in_(chunk)))}
        yield from (rows[i] for i in chunk if i in rows and rows[i].is_published)


def record(story: Story) -> dict:
    """A story in kb's JSON Lines fields (a superset of the shared corpus's fields)."""
    fields = snapshot(story)
    for kept_private in ("status", "attachments", "suggested_tags", "suggested_areas", "contact_hidden"):
        del fields[kept_private]
    if not story.contact_shown:
        # Only a contact who agreed, and whom no curator hid, leaves kb.
        fields.update({name: "" for name in CONTACT_TEXT}, contact_agreed=False)
    published = {s.slug for s in (story.adapted_from, *(a.adopter_story for a in story.adoptions))
                 if s is not None and s.is_published}
    if fields["adapted_from"] not in published:
        fields["adapted_from"] = ""
    for item in fields["adoptions"]:
        if item["story"] not in published:
            item["story"] = ""
    source_link = next((link for link in story.links if link.rel == "source"), None)
    fields.update(
        url=source_link.url if source_link else "",
        published_on=fields["published_on"] or "",
        related=[s.slug for s in policy.visible_related(SYSTEM, story)],
        source=story.source or "kb",
        source_id=story.source_id or story.slug,
    )
    return fields


def to_jsonl(stories: Iterable[Story]) -> Iterator[str]:
    for story in stories:
        yield json.dumps(record(story), ensure_ascii=False) + "\n"


def _cell(value: str) -> str:
    return "'" + value if value[:1] in FORMULA_START else value


def _list_cell(items: list[str]) -> str:
    return "\n".join(items) if any(";" in item for item in items) else "; ".join(items)


def csv_row(story: Story) -> list[str]:
    data = record(story)
    other_links = [link for link in data["links"] if link["url"] != data["url"] or link["rel"] != "source"]
    values = {
        **{key: data[key] for key in CSV_COLUMNS if isinstance(data.get(key), str)},
        "organisations": _list_cell(data["organisations"]),
        "people": _list_cell(data["people"]),
        "tags": _list_cell(data["tags"]),
        "action_areas": "; ".join(area["slug"] for area in data["action_areas"]),
        "evidence_level": str(data["evidence_level"]),
        "proposed_evidence_level": "" if data["proposed_evidence_level"] is None else str(data["proposed_evidence_level"]),
        "contact_agreed": "true" if data["contact_agreed"] else "",
        "adoptions": "\n".join(" | ".join(str(item[key] or "").replace("|", "/") for key in ADOPTION_KEYS).rstrip(" |")
                               for item in data["adoptions"]),
        "links": "\n".join(f"{link['url']} {link['title']}".strip() for link in other_links),
    }
    return [_cell(values.get(column, "")) for column in CSV_COLUMNS]


def to_csv(stories: Iterable[Story]) -> Iterator[str]:
    """The CSV header, then one row a story (see docs/import-formats.md)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for story in stories:
        writer.writerow(csv_row(story))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def export(fmt: str, stories: Iterable[Story]) -> Iterator[str]:
    """The stories as ``fmt`` (jsonl or csv), a piece at a time."""
    return to_jsonl(stories) if fmt == "jsonl" else to_csv(stories)
