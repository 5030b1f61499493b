"""What kb already holds, for an import to skip the records it imported before."""
from __future__ import annotations

from collections import defaultdict

from kb import likeness
from kb.services import sources, taxonomy
from kb.services.sources import normalise_url


class KnownStories:
    """What kb already holds, to skip records imported before: by (source,
    source id), and by normalised source URL; and by near-duplicate key (title
    and organisations, ``kb.likeness.title_key``), to flag look-alikes."""

    def __init__(self):
        self.by_source: dict[tuple[str, str], str] = {}
        self.by_url: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        self.slugs: set[str] = set()
        self.by_key: dict[tuple, str] = {}
        # (story slug, {field: value}, the record's result) for STORY_LINK_FIELDS, set at the end.
        self.pending_links: list = []
        for source, source_id, slug, url in sources.source_keys():
            self.slugs.add(slug)
            if source_id:
                self.by_source[(source, source_id)] = slug
            if url:
                self.by_url[normalise_url(url)].append((source, source_id, slug))
        organisations: dict[str, tuple[str, list]] = {}
        for slug, title, organisation in sources.title_rows():
            organisations.setdefault(slug, (title, []))[1].append(organisation)
        for slug, (title, found) in organisations.items():
            self.by_key.setdefault(likeness.title_key(title, [o for o in found if o]), slug)

    def duplicate_of(self, fields: dict) -> str | None:
        """The slug of the story this record repeats, or None.

        A record repeats a story with the same source and source id, or one whose
        source link is the same page, unless the same source gives the two
        different ids (one report can describe several cases).
        """
        source, source_id = fields.get("source", ""), fields.get("source_id", "")
        if source_id and (source, source_id) in self.by_source:
            return self.by_source[(source, source_id)]
        if source == "kb" and source_id in self.slugs:
            return source_id
        for url in source_urls(fields):
            for known_source, known_id, slug in self.by_url.get(normalise_url(url), []):
                if known_source == source and known_id and source_id and known_id != source_id:
                    continue
                return slug
        return None

    def near_duplicate_of(self, fields: dict) -> str | None:
        """The slug of a story with the record's title and organisations (normalised), or None."""
        return self.by_key.get(_key(fields))

    def copy(self) -> "KnownStories":
        other = object.__new__(KnownStories)
        other.by_source, other.slugs = dict(self.by_source), set(self.slugs)
        other.by_key = dict(self.by_key)
        other.pending_links = list(self.pending_links)
        other.by_url = defaultdict(list, {url: list(found) for url, found in self.by_url.items()})
        return other

    def add(self, fields: dict, slug: str) -> None:
        source, source_id = fields.get("source", ""), fields.get("source_id", "")
        self.slugs.add(slug)
        if source_id:
            self.by_source[(source, source_id)] = slug
        for url in source_urls(fields):
            self.by_url[normalise_url(url)].append((source, source_id, slug))
        self.by_key.setdefault(_key(fields), slug)


def _key(fields: dict) -> tuple:
    names = [taxonomy.clean_name(str(name)) for name in fields.get("organisations") or []]
    return likeness.title_key(fields.get("title", ""), [taxonomy.make_slug(name, 200) for name in names if name])


def source_urls(fields: dict) -> list[str]:
    return [link["url"] for link in fields.get("links") or [] if link.get("rel") == "source" and link.get("url")]
