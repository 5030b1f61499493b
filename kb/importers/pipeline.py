"""The one import pipeline: parse -> validate -> services, row by row.

Every row is its own unit (a SAVEPOINT): a row that fails is rolled back and
reported with its line and reason, and never takes the good rows with it.
Rows are committed in batches through ``kb.database.commit`` so the search
index follows. A dry run does everything and then rolls it all back.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kb import dates, database, policy, unit_of_work
from kb.errors import DomainError, Forbidden, Invalid
from kb.extensions import db
from kb.models import GOVERNMENT_LEVELS, KINDS, STAGES
from kb.models.story import LIMITS, PUBLISHED
from kb.search.follower import IndexFollower
from kb.importers import cleaning
from kb.importers.mapping import DEFAULT as DEFAULT_MAP, FieldMap
from kb.importers.bookmarks import title_from_url
from kb.importers.formats import FALLBACK_KIND, Row, content_id, parse
from kb.importers.known import KnownStories, source_urls
from kb.importers.report import Report
from kb.services import importing, stories, story_input, suggestions, taxonomy
from kb.services.sources import normalise_url
from kb.services.story_input import is_web_url

log = logging.getLogger(__name__)

STATUSES = ("draft", "submitted", PUBLISHED)
BATCH_SIZE = 200
# A batch's transaction ends after this long, so that a web write (which waits
# for the change log's lock on PostgreSQL) never waits much more than a second.
BATCH_SECONDS = 0.5
# The search index takes the committed stories this many at a time (and the rest
# at the end): one Whoosh commit, and one merge of its segments, per index batch.
# Kept near a batch, so that a web save, whose commit brings the index up to
# date, never has many of the import's stories to index first.
INDEX_BATCH = 200
# An import of at least this many rows has its index batches applied by a child
# process (kb/search/follower.py) while it goes on with the next rows; a smaller
# one indexes them itself (starting the child costs about a second).
FOLLOWER_ROWS = 1_000
# Plain-text fields (entities decoded, tags stripped); the body is Markdown and keeps its HTML.
PLAIN_FIELDS = ("title", "summary", "place", "sector", "stage", "government_level", "evidence")
PLAIN_LISTS = ("organisations", "people", "tags", "suggested_tags", "methods")
FIELD_LIMITS = {**story_input.TEXT_FIELDS, "source": LIMITS["source"], "source_id": LIMITS["source_id"]}
SHORTENED_AT_A_WORD = ("title", "summary", "place", "sector", "evidence")


# Validate ------------------------------------------------------------------------------------

def prepare(actor, row: Row, fmt: str, tags: dict | None = None, field_map: FieldMap = DEFAULT_MAP) -> dict:
    """The row's fields ready for the services: cleaned (see cleaning.py), with
    identity, a kind, a summary, values that fit, and tags through the vocabulary
    (suggestions only, for those who may not tag), and the tags that are other
    fields moved there by ``field_map`` (mapping.py). Each change is a warning on the row.

    :raise Invalid: if the row has neither a title nor an address.
    """
    fields = dict(row.fields)
    _clean(fields, row, field_map)
    if not fields.get("source"):
        fields["source"] = fmt
    if not fields.get("source_id"):
        urls = source_urls(fields)
        fields["source_id"] = normalise_url(urls[0]) if urls else content_id(fields)
    _fit(fields, row)
    _vocabulary(actor, fields, row, {} if tags is None else tags)
    return fields


def _clean(fields: dict, row: Row, field_map: FieldMap = DEFAULT_MAP) -> None:
    """The same cleaning for every format: plain text where text is plain, a body
    whose links lead somewhere, and what review needs (title, kind, summary)."""
    for name in PLAIN_FIELDS:
        if fields.get(name):
            fields[name] = cleaning.plain(fields[name])
    for name in PLAIN_LISTS:
        if fields.get(name):
            fields[name] = [text for text in (cleaning.plain(item) for item in fields[name]) if text]
    if fields.get("source") != "kb":  # kb's own export has every field in its place
        field_map.apply(fields, row.warnings)
    urls = source_urls(fields)
    if not fields.get("title"):
        if not urls:
            raise Invalid("The record has neither a title nor an address.",
                          {"title": "Enter a title (or give the record's address)."})
        fields["title"] = title_from_url(urls[0])
        row.warnings.append("no title: the address was used as the title")
    if fields.get("body"):
        if urls:
            fields["body"] = cleaning.resolve_links(fields["body"], urls[0])
        fields["body"] = cleaning.drop_repeated_summary(fields.get("summary", ""), fields["body"])
    if fields.get("published_on"):
        try:
            dates.parse(fields["published_on"])
        except (ValueError, TypeError):
            row.warnings.append(f"date “{str(fields['published_on'])[:40]}” is not a date: left out")
            del fields["published_on"]
    if fields.get("stage") and fields["stage"] not in STAGES:
        row.warnings.append(f"stage “{fields.pop('stage')[:60]}” is not one of {', '.join(STAGES)}: left out")
    if fields.get("government_level") and fields["government_level"] not in GOVERNMENT_LEVELS:
        row.warnings.append(f"level of government “{fields.pop('government_level')[:60]}” is not one of "
                            f"{', '.join(GOVERNMENT_LEVELS)}: left out")
    bad_links = [link for link in fields.get("links") or [] if not is_web_url(link.get("url", ""))]
    if bad_links:
        fields["links"] = [link for link in fields["links"] if link not in bad_links]
        row.warnings.append(f"left out {len(bad_links)} link(s) that are not web addresses")
    if not fields.get("kind"):
        fields["kind"] = FALLBACK_KIND
        row.warnings.append(f"no kind: imported as {KINDS[FALLBACK_KIND]}")
    elif fields["kind"] not in KINDS:
        row.warnings.append(f"kind “{fields['kind'][:60]}” is not one of {', '.join(KINDS)}: "
                            f"imported as {KINDS[FALLBACK_KIND]}")
        fields["kind"] = FALLBACK_KIND
    if not fields.get("summary"):
        fields["summary"] = cleaning.summary_from_body(fields.get("body", "")) or fields["title"]
        row.warnings.append("no summary: taken from the " + ("body" if fields.get("body") else "title"))


def _fit(fields: dict, row: Row) -> None:
    """Values longer than kb keeps, shortened at a word, each with a warning."""
    for name, limit in FIELD_LIMITS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            fields[name] = cleaning.shorten(value, limit) if name in SHORTENED_AT_A_WORD else value[:limit]
            row.warnings.append(f"{name.replace('_', ' ')} shortened to {limit:,} characters")


def _vocabulary(actor, fields: dict, row: Row, known_tags: dict) -> None:
    """Tags as the vocabulary names them; ``known_tags`` keeps the names looked up so far."""
    tags, suggested = [], list(fields.get("suggested_tags") or [])
    for name in fields.get("tags") or []:
        if name not in known_tags:
            # None: not in the vocabulary when first met (made by this import, if at all).
            tag = taxonomy.find_tag(name)
            known_tags[name] = tag.name if tag is not None else None
        if known_tags[name] is not None:
            tags.append(known_tags[name])
        elif policy.can_create_tag(actor):
            tags.append(name)
        else:
            suggested.append(name)
    if not policy.can_curate_story(actor):
        suggested = tags + suggested
        tags = []
        areas = [a if isinstance(a, str) else a.get("slug", "") for a in fields.pop("action_areas", None) or []]
        fields["suggested_areas"] = list(fields.get("suggested_areas") or []) + areas
        for field in ("featured", "related", "contact_hidden"):
            if fields.pop(field, None):
                row.warnings.append(f"{field} left out: only curators set it")
        level = fields.pop("evidence_level", None)
        if level not in (None, "", "0", 0) and fields.get("proposed_evidence_level") in (None, ""):
            fields["proposed_evidence_level"] = level
            row.warnings.append("evidence_level kept as the proposed level: curators set the level")
    fields.pop("tags", None)
    if tags:
        fields["tags"] = tags
    if suggested:
        fields["suggested_tags"] = list(dict.fromkeys(suggested))


# Services ------------------------------------------------------------------------------------------

def save(actor, fields: dict, status: str, fmt: str):
    """Create the story straight in ``status``, through the services, written at once."""
    with db.session.no_autoflush:
        return importing.import_story(actor, fields, status, reason=_reason_of(fmt))


def _reason_of(fmt: str) -> str:
    return f"Imported ({fmt})"


def _reason(exc: DomainError) -> str:
    if exc.errors:
        return "; ".join(f"{field}: {message}" for field, message in exc.errors.items())
    return exc.message or "not accepted"


def _open_transaction() -> None:
    """Make sure a real transaction is open before the first SAVEPOINT.

    Python's sqlite3 module opens a transaction only before a data change, so a
    SAVEPOINT issued first would be the outermost one, and releasing it would
    commit: a dry run would keep its rows. A change that changes nothing opens it.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("DELETE FROM index_changes WHERE 1 = 0"))


def import_rows(actor, rows: list[Row], fmt: str, *, status: str = "submitted", dry_run: bool = False,
                app=None, progress: Callable[[int], None] | None = None, report: Report | None = None,
                field_map: FieldMap = DEFAULT_MAP) -> Report:
    """Turn rows into stories as ``actor``; returns the report (imported, skipped, failed).

    Rows go in batches of at most BATCH_SIZE rows or BATCH_SECONDS, each batch
    committed (through ``database.commit(app)``), or everything rolled back for
    a dry run. The search index follows every INDEX_BATCH rows and at the end
    (an import of FOLLOWER_ROWS rows or more has a child process index each
    batch while it goes on with the next: kb/search/follower.py). A batch
    runs without per-row savepoints; when one of its rows fails, the batch is
    rolled back and run again with a savepoint per row, to keep the others.

    :raise Forbidden: if ``status`` is published and the actor may not publish imports.
    :raise Invalid: if ``status`` is not draft, submitted or published.
    """
    if status not in STATUSES:
        raise Invalid(f"Status must be one of {', '.join(STATUSES)}.", {"status": "Choose a status."})
    if status == PUBLISHED and not policy.can_publish_imported(actor):
        raise Forbidden("Only curators can import stories as published.")
    policy.require(policy.can_create_story(actor), "Sign in to import stories.")
    report = report or Report(fmt=fmt, status=status, dry_run=dry_run)
    run = _Run(actor, fmt, status, report, field_map)
    # Each chunk of work in a short transaction of its own, so that a web write
    # never waits long behind the import (None: one transaction, a dry run's).
    commit = None if dry_run or app is None else (lambda: database.commit(app, sync=False))
    follower = IndexFollower(app) if commit and len(rows) >= FOLLOWER_ROWS else None
    start = waiting = 0
    try:
        while start < len(rows):
            before = len(run.imported)
            done = run.batch(rows, start)
            start, waiting = start + done, waiting + done
            if commit:
                index_now = waiting >= INDEX_BATCH
                database.commit(app, sync=index_now and follower is None)
                if index_now and follower:
                    follower.kick()
                waiting = 0 if index_now else waiting
                # The batch's filing suggestions, so that an import stopped later leaves none without.
                suggestions.refresh_stories(run.imported[before:], after_chunk=commit)
            if progress:
                progress(done)
        if run.known.pending_links:
            _open_transaction()
            _link_stories(actor, run.known.pending_links, after_chunk=commit)
    finally:
        if follower:
            follower.finish()
    if dry_run:
        database.rollback()
        return report
    if app is None:
        suggestions.refresh_stories(run.imported)
    else:
        database.commit(app)
    return report


class _BatchFailed(Exception):
    """A row of a batch run without savepoints failed: run the batch again, isolating each row."""


class _Run:
    """One import: what kb holds, the tags looked up, and the report, batch by batch."""

    def __init__(self, actor, fmt: str, status: str, report: Report, field_map: FieldMap = DEFAULT_MAP):
        self.actor, self.fmt, self.status, self.report = actor, fmt, status, report
        self.field_map = field_map
        self.known = KnownStories()
        self.lookup = importing.Lookup(self.known.slugs)
        self.tags: dict[str, str | None] = {}
        self.built: list = []
        self.imported: list = []  # the stories made, for their filing suggestions at the end
        self.flags: list = []  # (story, slug of the story it looks like) for the batch's near-duplicates

    def batch(self, rows: list[Row], start: int) -> int:
        """Import rows from ``start`` on, for at most BATCH_SIZE rows or BATCH_SECONDS; returns how many.

        The rows' stories are built and then written together (``importing.finish``).
        """
        kept = (self.known.copy(), len(self.report.rows), len(self.known.pending_links), len(self.imported))
        warnings = [list(row.warnings) for row in rows[start:start + BATCH_SIZE]]
        ended = time.monotonic() + BATCH_SECONDS
        done = 0
        try:
            # Built with reads only; the write lock (SQLite) and the change log's
            # lock (PostgreSQL) are taken for the write alone, so a web save waits
            # for that and not for the batch's cleaning and checking.
            with db.session.no_autoflush:
                for row in rows[start:start + BATCH_SIZE]:
                    done += 1
                    self.row(row, isolate=False)
                    if time.monotonic() > ended:
                        break
            _open_transaction()
            with db.session.begin_nested():
                try:
                    with db.session.no_autoflush:
                        importing.finish(self.actor, self.built, _reason_of(self.fmt))
                        importing.flag_near_duplicates(self.flags)
                except (DomainError, SQLAlchemyError) as exc:
                    raise _BatchFailed() from exc
            self.built, self.flags = [], []
            self._ids_from(kept)
            return done
        except _BatchFailed:
            _after_rollback()
            for made in list(db.session.new):
                if made in db.session:  # expunging a story also expunges its links
                    db.session.expunge(made)
        self.built, self.flags = [], []
        self.known, self.tags = kept[0], {}
        self.lookup.forget(self.known.slugs)
        del self.report.rows[kept[1]:]
        del self.known.pending_links[kept[2]:]
        del self.imported[kept[3]:]
        for row, before in zip(rows[start:start + done], warnings):
            row.warnings[:] = before
        _open_transaction()
        for row in rows[start:start + done]:
            self.row(row, isolate=True)
        importing.flag_near_duplicates(self.flags)
        self.flags = []
        self._ids_from(kept)
        return done

    def _ids_from(self, kept: tuple) -> None:
        """The batch's stories by id (those awaiting their links by address) once
        written, so that no expired object is loaded again for one."""
        self.imported[kept[3]:] = [story.id for story in self.imported[kept[3]:]]
        pending = self.known.pending_links
        pending[kept[2]:] = [(story.slug, links, result) for story, links, result in pending[kept[2]:]]

    def row(self, row: Row, *, isolate: bool) -> None:
        report = self.report
        title = str(row.fields.get("title", ""))[:300]
        if row.error:
            report.failed(row, title, row.error)
            return
        if row.skip:
            report.skipped(row, title, row.skip)
            return
        try:
            fields = prepare(self.actor, row, self.fmt, self.tags, self.field_map)
        except DomainError as exc:
            report.failed(row, title, _reason(exc))
            return
        title = fields["title"]
        duplicate = self.known.duplicate_of(fields)
        if duplicate:
            report.skipped(row, title, "already in kb", duplicate)
            return
        # Taken out of every record, empty or not: a story whose "adapted from" was
        # set, even to nothing, is written after the batch's others, out of file order.
        links = {field: value for field in STORY_LINK_FIELDS if (value := fields.pop(field, None))}
        if not isolate:
            try:
                with db.session.no_autoflush:
                    story, actions = importing.build_story(self.actor, fields, self.status, self.lookup)
            except (DomainError, SQLAlchemyError) as exc:
                raise _BatchFailed() from exc
            self.built.append((story, actions))
        else:
            try:
                with db.session.begin_nested():
                    story = save(self.actor, fields, self.status, self.fmt)
            except DomainError as exc:
                _after_rollback()
                report.failed(row, title, _reason(exc))
                return
            except SQLAlchemyError as exc:
                _after_rollback()
                log.warning("Import row at %s could not be saved: %s", row.where, exc)
                report.failed(row, title, "the database refused the record (a value may be too long)")
                return
        near = self.known.near_duplicate_of(fields)
        if near:
            self.flags.append((story, near))
            row.warnings.append(f"same title and organisations as the story “{near}”: flagged for curators")
        self.known.add(fields, story.slug)
        self.imported.append(story)
        report.imported(row, story.title, story.slug)
        if links:
            self.known.pending_links.append((story, links, report.rows[-1]))


# Fields that name other stories by slug: set once every record is in, so a
# record may name a story further down the file, or earlier in its batch.
STORY_LINK_FIELDS = ("adapted_from", "adoptions", "related")


def _link_stories(actor, pending: list, after_chunk=None) -> None:
    """Set each imported story's related stories, "adapted from" and adoptions; a
    story named that kb does not hold is left out with a warning on the record.
    ``after_chunk()`` after every BATCH_SIZE stories (an import commits there)."""
    for n, (slug, links, result) in enumerate(pending, start=1):
        if after_chunk and n % BATCH_SIZE == 0:
            after_chunk()
            _open_transaction()
        story = stories.get_story(actor, slug)
        known = stories.existing_slugs(_linked_slugs(links))
        if links.get("adapted_from") and links["adapted_from"] not in known:
            result.warnings.append(f"adapted_from left out: there is no story “{links.pop('adapted_from')}”")
        for item in links.get("adoptions") or []:
            if isinstance(item, dict) and item.get("story") and item["story"] not in known:
                result.warnings.append(f"the link of an adoption to “{item['story']}” was left out: no such story")
                item["story"] = ""
        if "related" in links:
            missing = [name for name in links["related"] if name not in known]
            if missing:
                result.warnings.append("related stories left out, there are none at: " + ", ".join(missing))
                links["related"] = [name for name in links["related"] if name in known]
        try:
            with db.session.begin_nested():
                stories.update_story(actor, story, links, reason="Imported: links to other stories")
        except DomainError as exc:
            _after_rollback()
            result.warnings.append(f"links to other stories left out: {_reason(exc)}")


def _linked_slugs(links: dict) -> list[str]:
    slugs = [links.get("adapted_from") or "", *(links.get("related") or [])]
    slugs += [str(item.get("story") or "") for item in links.get("adoptions") or [] if isinstance(item, dict)]
    return [slug for slug in slugs if slug]


def _after_rollback() -> None:
    # Rolling back to the savepoint also released the change log's advisory lock
    # if this row took it, so the next row must take it again.
    unit_of_work.forget_log_lock(db.session)


def import_file(actor, data: bytes, fmt: str, *, status: str = "submitted", dry_run: bool = False,
                include_private: bool = False, app=None, progress=None, on_rows=None,
                field_map: FieldMap = DEFAULT_MAP) -> Report:
    """Parse ``data`` as ``fmt`` and import its rows; see ``import_rows``.

    :raise FileProblem: if the file is not of that format at all.
    """
    rows, warnings = parse(fmt, data, include_private=include_private)
    report = Report(fmt=fmt, status=status, dry_run=dry_run, file_warnings=warnings)
    if on_rows:
        on_rows(len(rows))
    return import_rows(actor, rows, fmt, status=status, dry_run=dry_run, app=app, progress=progress,
                       report=report, field_map=field_map)
