"""The index schema and the mapping from a story to its search document.

One document per story, whatever its status; a special document (``id`` =
``META_ID``) carries the watermark, so it commits atomically with the
documents it describes.

Every story document also carries a ``meta`` column, a tuple read back in
bulk per segment for filters, facet counts and date sorting (see
``facets.py``): no per-hit stored-field lookups.
"""
from __future__ import annotations

import hashlib
from collections import namedtuple
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer
from whoosh import columns, fields, formats
from whoosh.analysis import (LowercaseFilter, RegexTokenizer, StandardAnalyzer, StemFilter, StemmingAnalyzer,
                             StopFilter)
from whoosh.analysis.tokenizers import default_pattern
from whoosh.lang.porter2 import stem as snowball_english
from whoosh.lang.stopwords import stoplists

from kb import reference
from kb.extensions import db
from kb.models import SECTIONS, Attachment, Story, Tag

META_ID = "__meta__"

# Stemmed English, stop words removed (Whoosh's fuller English list, 127
# words, so that question words in natural-language queries do not count);
# the stem cache makes indexing quicker. The stemmer is Snowball's English
# (Porter2), the revision of Porter's by its author: Whoosh's Porter leaves
# some endings ("crystalline" and "crystallin" were two words).
STOPS = frozenset(stoplists["en"])
STEMMED = StemmingAnalyzer(stoplist=STOPS, stemfn=snowball_english, cachesize=100_000)
# Whoosh's own stem cache is Python (it counts every use): a third of the cost
# of a snippet. kb's copy of the analyzer (queries, snippets, similar stories)
# stems through functools' cache instead; the stems are the same, and an
# index's pickled schema is unchanged (a StemFilter never pickles its cache).
stem = lru_cache(maxsize=100_000)(snowball_english)
for _filter in STEMMED.items:
    if isinstance(_filter, StemFilter):
        _filter._stem = stem
# Names how words become index terms. An index built otherwise holds other
# terms, so the next sync rebuilds it (its meta document records this name).
ANALYSIS = "snowball-english"
# Unstemmed words, for "did you mean" suggestions that read as real words.
WORDS = StandardAnalyzer()


class StemmedPositions(formats.Positions):
    """Whoosh's ``Positions``, but the terms and positions of a text analysed by
    ``STEMMED`` (or an analyzer made like it, such as an index's unpickled
    copy) are made in one loop, without Whoosh's chain of token generators:
    the same terms and positions, about a third of the work. Indexing is what
    an import or a rebuild spends most on. Anything else goes to Whoosh."""

    def word_values(self, value, analyzer, **kwargs):
        stops = _stops_if_stemmed(analyzer)
        if stops is None or not isinstance(value, str) or set(kwargs) - {"mode"}:
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        for word, positions in _stemmed_positions(value, stops).items():
            yield word, len(positions), len(positions) * boost, self.encode(positions)


def _stemmed_positions(value: str, stops: frozenset) -> dict[str, list[int]]:
    """Each stem of ``value`` with its positions, as ``STEMMED`` numbers them:
    the words after the first one kept are numbered on from it without gaps."""
    out: dict[str, list[int]] = {}
    position = None
    for n, match in enumerate(default_pattern.finditer(value)):
        word_stem = term_of(match.group(0).lower(), stops)
        if word_stem is None:
            continue
        position = n if position is None else position + 1
        found = out.get(word_stem)
        if found is None:
            out[word_stem] = [position]
        else:
            found.append(position)
    return out


def term_of(word: str, stops: frozenset = STOPS) -> str | None:
    """The index term ``STEMMED`` makes of a lower-cased word of its tokenizer's
    (None for a stop word or a letter alone)."""
    if len(word) < 2 or word in stops:
        return None
    return stem(word)


def _stops_if_stemmed(analyzer) -> frozenset | None:
    """The stop words of an analyzer made as ``STEMMED`` is (a regular-expression
    tokenizer with Whoosh's default pattern, lower case, stop words of two
    letters and up, renumbered, the Snowball English stemmer), else None."""
    items = getattr(analyzer, "items", None)
    if not items or [type(item) for item in items] != [RegexTokenizer, LowercaseFilter, StopFilter, StemFilter]:
        return None
    tokens, _, stop, stemming = items
    if (tokens.gaps or tokens.expression.pattern != default_pattern.pattern or stop.min != 2
            or stop.max is not None or not stop.renumber or stemming.stemfn is not snowball_english
            or stemming.ignore or getattr(stemming, "lang", None)):
        return None
    return stop.stops

# Fields a reader may name in a query (``tag:open-data``), and where they go.
FIELD_ALIASES = {
    "title": "title",
    "tag": "tags",
    "tags": "tags",
    "org": "orgs",
    "organisation": "orgs",
    "organization": "orgs",
    "area": "areas",
    "kind": "kind",
    "stage": "stage",
    "year": "year",
    "status": "status",
    # The case record's sections (``results:measured``); "evidence" was the old name of results.
    **{name: name for name in SECTIONS},
    "evidence": "results",
}

# Per-document values for filters, facets and sorting, in the ``meta`` column.
# ``digest`` fingerprints the text, so that ``verify`` sees any stale document.
# ``level`` is the evidence level (0-5); ``places`` the country code, then in the UK
# the nation, the region (England) and the authority's code, as far as known.
Meta = namedtuple("Meta", "story_id status kind stage year day areas tags orgs level places digest")


def _stemmed_text() -> fields.TEXT:
    field = fields.TEXT(analyzer=STEMMED, phrase=True)
    field.format = StemmedPositions(field_boost=field.format.field_boost)
    return field


def build_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=_stemmed_text(),
        # Everything a reader might search for, title included, so that one
        # field decides whether a story matches and BM25 sees whole stories.
        content=_stemmed_text(),
        tags=_stemmed_text(),
        orgs=_stemmed_text(),
        areas=_stemmed_text(),
        **{name: _stemmed_text() for name in SECTIONS},
        words=fields.TEXT(analyzer=WORDS, phrase=False, spelling=True),
        kind=fields.ID,
        status=fields.ID,
        stage=fields.ID,
        year=fields.ID,
        meta=fields.COLUMN(columns.PickleColumn(columns.VarBytesColumn())),
        watermark=fields.STORED,
        analysis=fields.STORED,
    )


def tag_names(tag_ids=None) -> dict[int, list[str]]:
    """Every name a tag is known by: its own, its aliases, and those of tags merged into it.

    For every tag, or (``tag_ids``) for those tags, read with the tags merged
    into them: a sync of a few stories reads their tags, not the vocabulary."""
    if tag_ids is None:
        tags = list(db.session.scalars(select(Tag).order_by(Tag.id).options(selectinload(Tag.aliases))))
    else:
        wanted, frontier = set(tag_ids), set(tag_ids)
        while frontier:
            frontier = set(db.session.scalars(select(Tag.id).where(Tag.merged_into_id.in_(frontier)))) - wanted
            wanted |= frontier
        tags = list(
            db.session.scalars(select(Tag).where(Tag.id.in_(wanted)).order_by(Tag.id).options(selectinload(Tag.aliases)))
        )
    names = {tag.id: [tag.name, *(alias.name for alias in tag.aliases)] for tag in tags}
    by_id = {tag.id: tag for tag in tags}
    for tag in tags:
        survivor, seen = tag, set()
        while survivor.merged_into_id in by_id and survivor.id not in seen:
            seen.add(survivor.id)
            survivor = by_id[survivor.merged_into_id]
        if survivor.merged_into_id is not None and survivor.merged_into_id not in by_id:
            continue  # merged on into a tag not read, whose names these are not
        if survivor is not tag:
            names[survivor.id].extend(names[tag.id])
    return names


def load_stories(ids) -> list[Story]:
    """The stories with these ids, with everything their documents need loaded."""
    query = (
        select(Story)
        .where(Story.id.in_(list(ids)))
        .options(
            selectinload(Story.organisation_links),
            selectinload(Story.person_links),
            selectinload(Story.area_links),
            selectinload(Story.links),
            selectinload(Story.attachments).options(undefer(Attachment.text)),
            selectinload(Story.tags).selectinload(Tag.merged_into),
            selectinload(Story.adoptions),
        )
    )
    return list(db.session.scalars(query))


def places(story: Story) -> tuple[str, ...]:
    """Where the story happened, broadest first: its country, then in the UK its nation,
    region and authority. A story with no authority takes its first organisation's home one."""
    code = story.authority_code or next(
        (link.organisation.home_authority_code for link in story.organisation_links
         if link.organisation.home_authority_code), "")
    found = reference.authority(code)
    if found is None:
        return (story.country,) if story.country else ()
    return tuple(dict.fromkeys(value for value in (reference.UK, found.nation, found.region, found.code) if value))


def document(story: Story, names: dict[int, list[str]]) -> dict:
    """The search document of one story (``names`` from ``tag_names()``)."""
    tags = [tag.survivor for tag in story.tags]
    tag_text = " ; ".join(name for tag in story.tags for name in names.get(tag.id, [tag.name]))
    orgs = [link.organisation for link in story.organisation_links]
    areas = [link.action_area for link in story.area_links]
    area_text = " ; ".join(f"{area.slug} {area.name}" for area in areas)
    org_text = " ; ".join(org.name for org in orgs)
    people = " ; ".join(link.person.name for link in story.person_links)
    content = "\n".join(
        part
        for part in (
            story.title, story.summary, story.body, *(getattr(story, name) for name in SECTIONS),
            tag_text, org_text, people,
            story.place, story.sector, area_text,
            *(f"{link.title}" for link in story.links),
            *(attachment.text or "" for attachment in story.attachments),
        )
        if part
    )
    day = story.published_on
    words = " ".join((story.title, story.summary, tag_text, org_text, people, story.place))
    digest = hashlib.blake2b("\x1f".join((story.title, content, tag_text, org_text, area_text)).encode(),
                             digest_size=8).hexdigest()
    return {
        "id": str(story.id),
        "title": story.title,
        "content": content,
        "tags": tag_text,
        "orgs": org_text,
        "areas": area_text,
        **{name: getattr(story, name) or "" for name in SECTIONS},
        "words": words,
        "kind": story.kind or "none",
        "status": story.status,
        "stage": story.stage or "none",
        "year": str(day.year) if day else "none",
        "meta": tuple(Meta(
            story.id, story.status, story.kind, story.stage, day.year if day else None,
            day.toordinal() if day else 0,
            tuple(area.slug for area in areas),
            tuple(dict.fromkeys(tag.slug for tag in tags)),
            tuple(org.slug for org in orgs),
            story.evidence_level or 0,
            places(story),
            digest,
        )),
    }


def meta_document(watermark: int) -> dict:
    return {"id": META_ID, "watermark": watermark, "analysis": ANALYSIS}
