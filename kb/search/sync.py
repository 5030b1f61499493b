"""Keeping the index in step with the database: apply the change log, rebuild, verify.

The database is the truth and the index a projection of it. Services append
``index_changes`` rows in the transaction that changes a story; ``sync``
applies every change past the index's watermark (stored in the index, so it
commits atomically with the documents) and is idempotent. On PostgreSQL the
log is gap-free: appends are serialised by a transaction-scoped advisory
lock (kb/services/changes.py), so a change id is never seen before a smaller
one commits.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from sqlalchemy import func, inspect, select

from kb.extensions import db
from kb.models import IndexChange, Story
from kb.search import facets
from kb.search.index import IndexBusy, IndexHome, read_analysis, read_watermark, searcher, writer
from kb.search.schema import ANALYSIS, META_ID, build_schema, document, load_stories, meta_document, tag_names

log = logging.getLogger(__name__)
BATCH = 500
REBUILD_BATCH = 500


def home(app) -> IndexHome:
    return IndexHome(app.config["INDEX_DIR"])


def latest_change() -> int:
    """The newest change id in the log (0 if empty): one indexed query."""
    return db.session.scalar(select(func.max(IndexChange.id))) or 0


def log_exists() -> bool:
    return inspect(db.engine).has_table(IndexChange.__tablename__)


def watermark(app) -> int | None:
    """The id of the last change the live index has applied, or None if there is no index."""
    with searcher(home(app)) as s:
        return None if s is None else read_watermark(s)


def sync(app, wait: float | None = None) -> int:
    """Apply every change past the watermark; return how many changes were applied.

    Creates the index by a full rebuild if there is none.

    :raise IndexBusy: if another process held the write lock for ``wait`` seconds
        (default INDEX_WRITE_TIMEOUT).
    """
    index_home = home(app)
    if not index_home.exists() or is_outdated(index_home):
        return rebuild(app)
    applied = 0
    while True:
        current = watermark(app) or 0
        if latest_change() <= current:
            return applied
        count = _apply_batch(app, index_home, wait)
        if not count:
            return applied
        applied += count


def is_outdated(index_home: IndexHome) -> bool:
    """Whether the live index was built with fewer fields, or makes its terms
    otherwise (another stemmer), than this version of kb (such an upgrade needs
    a rebuild, done by the next sync)."""
    with searcher(index_home) as s:
        return s is not None and (not _FIELDS <= set(s.schema.names()) or read_analysis(s) != ANALYSIS)


_FIELDS = frozenset(build_schema().names())


def _apply_batch(app, index_home: IndexHome, wait: float | None = None) -> int:
    ix = index_home.open()
    try:
        with writer(ix, float(app.config["INDEX_WRITE_TIMEOUT"] if wait is None else wait)) as w:
            # Read again under the lock: another process may have applied these.
            with w.searcher() as s:
                current = read_watermark(s)
            rows = db.session.execute(
                select(IndexChange.id, IndexChange.story_id)
                .where(IndexChange.id > current).order_by(IndexChange.id).limit(BATCH)
            ).all()
            if not rows:
                return 0
            write_stories(w, {row.story_id for row in rows})
            w.update_document(**meta_document(rows[-1].id))
        return len(rows)
    finally:
        ix.close()


def write_stories(w, story_ids) -> None:
    """Replace the documents of these stories (deleting those no longer in the database)."""
    stories = {story.id: story for story in load_stories(story_ids)}
    names = tag_names({tag.id for story in stories.values() for tag in story.tags}) if stories else {}
    for story_id in sorted(story_ids):
        story = stories.get(story_id)
        if story is None:
            w.delete_by_term("id", str(story_id))
        else:
            w.update_document(**document(story, names))


def sync_quietly(app, wait: float | None = None) -> int:
    """``sync``, logging a failure instead of raising it (a save has already succeeded).

    With the write lock held elsewhere for ``wait`` seconds, the change waits in
    the log: the holder's next sync, or the next search's, applies it."""
    try:
        return sync(app, wait)
    except IndexBusy:
        log.info("The search index is being written by another process; its next sync applies the change")
        return 0
    except Exception:
        log.exception("Search index sync failed; it will be retried on the next sync")
        return 0


def sync_if_behind(app) -> None:
    """Sync before answering a search if the log has moved past this node's index
    (or it is outdated). The index's own state is read once per index version."""
    index_home = home(app)
    with searcher(index_home) as s:
        state = None if s is None else _index_state(str(s._ix.storage.folder), s)
    if state is None or state[1] or latest_change() > state[0]:
        sync_quietly(app, float(app.config["INDEX_REQUEST_WAIT"]))


_states: dict[tuple, tuple[int, bool]] = {}


def _index_state(folder: str, s) -> tuple[int, bool]:
    """(watermark, outdated) of the index version this searcher reads."""
    key = (folder, s.reader().generation())
    found = _states.get(key)
    if found is None:
        found = (read_watermark(s), not _FIELDS <= set(s.schema.names()) or read_analysis(s) != ANALYSIS)
        if len(_states) >= 64:
            _states.clear()
        _states[key] = found
    return found


# Rebuild -----------------------------------------------------------------------

def rebuild(app, progress=None, procs: int | None = None) -> int:
    """Build a whole new index from the database and swap it in when complete.

    Search keeps using the old index meanwhile; a rebuild that dies half-way
    leaves it serving. ``progress(n)`` is called as stories are written.
    Returns how many stories were indexed.

    :raise IndexBusy: if another rebuild of this index is running.
    """
    index_home = home(app)
    with index_home.rebuild_lock():
        start = latest_change()
        ids = list(db.session.scalars(select(Story.id).order_by(Story.id)))
        path = index_home.new_generation(with_meta=False)
        from whoosh import index as whoosh_index

        ix = whoosh_index.open_dir(str(path))
        procs = procs or _rebuild_procs(len(ids))
        options = {"procs": procs, "multisegment": True} if procs > 1 else {}
        w = ix.writer(limitmb=128, compound=False, **options)
        try:
            names = tag_names()
            for n in range(0, len(ids), REBUILD_BATCH):
                chunk = ids[n:n + REBUILD_BATCH]
                for story in load_stories(chunk):
                    w.add_document(**document(story, names))
                if progress:
                    progress(len(chunk))
            w.add_document(**meta_document(start))
        except BaseException:
            w.cancel()
            ix.close()
            raise
        w.commit()
        ix.close()
        index_home.swap(path)
    return len(ids)


def _rebuild_procs(count: int) -> int:
    # Worker processes only pay for themselves on big corpora.
    return min(os.cpu_count() or 1, 4) if count >= 2000 else 1


# Verify --------------------------------------------------------------------------

@dataclass
class Drift:
    """What differs between the index and the database."""

    missing: list[int] = field(default_factory=list)      # in the database, not in the index
    extra: list[int] = field(default_factory=list)        # in the index, not in the database
    stale: list[int] = field(default_factory=list)        # in both, but the document differs
    behind: int = 0                                       # changes in the log not yet applied

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale or self.behind)

    def lines(self) -> list[str]:
        out = [f"story {i}: in the database, missing from the index" for i in self.missing]
        out += [f"story {i}: in the index, not in the database" for i in self.extra]
        out += [f"story {i}: the index holds an out-of-date document" for i in self.stale]
        if self.behind:
            out.append(f"{self.behind} change(s) in the log not yet applied (run `kb index sync`)")
        return out


def verify(app) -> Drift:
    """Compare every story's indexed values with the database's."""
    drift = Drift()
    with searcher(home(app)) as s:
        if s is None:
            ids = list(db.session.scalars(select(Story.id)))
            return Drift(missing=ids)
        mark = read_watermark(s)
        drift.behind = db.session.scalar(select(func.count()).where(IndexChange.id > mark)) or 0
        view = facets.view(str(home(app).current_path()), s)
        indexed = {view.metas[d][facets.STORY_ID]: view.metas[d] for d in view.live}
    db_ids = list(db.session.scalars(select(Story.id).order_by(Story.id)))
    drift.missing = [i for i in db_ids if i not in indexed]
    drift.extra = sorted(set(indexed) - set(db_ids))
    names = tag_names()
    for n in range(0, len(db_ids), REBUILD_BATCH):
        for story in load_stories(db_ids[n:n + REBUILD_BATCH]):
            if story.id in indexed and tuple(document(story, names)["meta"]) != tuple(indexed[story.id]):
                drift.stale.append(story.id)
    drift.stale.sort()
    return drift


__all__ = ["sync", "sync_quietly", "sync_if_behind", "rebuild", "verify", "Drift", "META_ID"]
