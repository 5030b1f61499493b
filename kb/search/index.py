"""The index folder: generations, the one writer, and reusable searchers.

``INDEX_DIR`` holds one or more generations (``ix-*`` folders, each a whole
Whoosh index) and a ``CURRENT`` file naming the live one. A rebuild writes a
new generation and swaps ``CURRENT`` atomically when it is complete, so a
rebuild killed half-way leaves the old generation serving.

Searchers are pooled per process and reopened only when the index has
changed, never opened per request. Segments are
written uncompound (``compound=False``), so opening one costs a file open,
not a copy into memory.
"""
from __future__ import annotations

import atexit
import os
import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import secrets

from whoosh import index as whoosh_index
from whoosh.codec import base as whoosh_codec
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.util import IDCHARS

from kb.search.schema import META_ID, build_schema, meta_document

CURRENT = "CURRENT"
PREFIX = "ix-"


def _segment_id(cls, size: int = 16) -> str:
    return "".join(secrets.choice(IDCHARS) for _ in range(size))


# Whoosh names new segments with the global `random` generator. Anything that
# reseeds it (Hypothesis does, for every example) makes two writers pick the
# same name and corrupt the index; names from the system's generator cannot collide.
whoosh_codec.Segment._random_id = classmethod(_segment_id)


class IndexBusy(RuntimeError):
    """Another process held the index's write lock for longer than the timeout."""


class IndexHome:
    """The index folder of one app (``INDEX_DIR``)."""

    def __init__(self, folder) -> None:
        self.folder = Path(folder)

    def current_name(self) -> str | None:
        try:
            name = (self.folder / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        return name if name and (self.folder / name).is_dir() else None

    def current_path(self) -> Path | None:
        name = self.current_name()
        return self.folder / name if name else None

    def exists(self) -> bool:
        return self.current_path() is not None

    def new_generation(self, with_meta: bool = True) -> Path:
        """An empty index in a new folder, not yet live (watermark 0 if ``with_meta``)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{PREFIX}{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        ix = FileStorage(str(path)).create_index(build_schema())
        if with_meta:
            with ix.writer() as w:
                w.add_document(**meta_document(0))
        ix.close()
        return path

    def swap(self, path: Path) -> None:
        """Make ``path`` the live generation and remove all but the previous one."""
        previous = self.current_name()
        temp = self.folder / f"{CURRENT}.{uuid.uuid4().hex}"
        temp.write_text(path.name)
        os.replace(temp, self.folder / CURRENT)
        keep = {path.name, previous}
        for child in self.folder.iterdir():
            if child.is_dir() and child.name.startswith(PREFIX) and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)

    def open(self):
        path = self.current_path()
        if path is None:
            return None
        return _reopening(lambda: whoosh_index.open_dir(str(path)))

    @contextmanager
    def rebuild_lock(self):
        """Held by a rebuild; a second rebuild at the same time fails at once."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileStorage(str(self.folder)).lock("REBUILD")
        if not lock.acquire(blocking=False):
            raise IndexBusy("Another rebuild of this index is running.")
        try:
            yield
        finally:
            lock.release()


# Segments are merged by size tier (decimal magnitude of their document count):
# once a tier holds MERGE_TIER segments they become one, unless that would
# write more than MAX_MERGED_DOCS documents. Whoosh's own policy (MERGE_SMALL)
# merges every segment, the largest included, once there are about twenty:
# at 50,000 stories one save then rewrote the whole index (253 s). Segments
# too big to merge here are merged by the next ``kb index rebuild``.
MERGE_TIER = 8
MAX_MERGED_DOCS = 2_000


def merge_tiers(w, segments) -> list:
    """A Whoosh merge policy: merge each full tier of small segments, keep the rest."""
    from whoosh.reading import SegmentReader

    tiers: dict[int, list] = {}
    for segment in segments:
        tiers.setdefault(len(str(max(1, segment.doc_count_all()))), []).append(segment)
    unchanged = []
    for group in tiers.values():
        if len(group) >= MERGE_TIER and sum(s.doc_count_all() for s in group) <= MAX_MERGED_DOCS:
            for segment in group:
                reader = SegmentReader(w.storage, w.schema, segment)
                w.add_reader(reader)
                reader.close()
        else:
            unchanged.extend(group)
    return unchanged


@contextmanager
def writer(ix, timeout: float):
    """The index's one writer, waiting up to ``timeout`` seconds for the lock.

    Commits on success (uncompound segments, small segments merged by
    ``merge_tiers``), cancels on error.

    :raise IndexBusy: if the lock stayed taken for ``timeout`` seconds.
    """
    try:
        w = ix.writer(timeout=timeout, delay=0.02, compound=False)
    except LockError as exc:
        raise IndexBusy(f"The search index stayed locked for {timeout:g} s.") from exc
    try:
        yield w
    except BaseException:
        w.cancel()
        raise
    w.commit(mergetype=merge_tiers)


def read_watermark(searcher) -> int:
    """The id of the last change applied to the index this searcher reads."""
    fields = searcher.document(id=META_ID)
    return int(fields.get("watermark", 0)) if fields else 0


def read_analysis(searcher) -> str | None:
    """How the index this searcher reads made its terms (``schema.ANALYSIS`` when it was built)."""
    fields = searcher.document(id=META_ID)
    return fields.get("analysis") if fields else None


# Idle searchers by index folder, shared by the threads of this process: a
# thread takes one (no two threads read through the same file handles) and
# gives it back. Searchers of an old index version are closed, not reused.
_lock = threading.Lock()
_idle: dict[str, list[tuple[str, object]]] = {}
_MAX_IDLE = 4
_MAX_FOLDERS = 8


@contextmanager
def searcher(home: IndexHome):
    """A searcher on the live generation, reused across requests until the index changes.

    Yields None if there is no index yet. (Whoosh's own ``Searcher.refresh()``
    is not used: in whoosh-reloaded 2.7.5 the refreshed reader keeps the
    segments merged away, so documents are counted twice. With uncompound
    segments, opening a fresh reader costs about a millisecond a segment.)
    """
    key = str(home.folder)
    name = home.current_name()
    if name is None:
        yield None
        return
    current = _take(key, name)
    if current is None:
        path = home.folder / name
        current = _reopening(lambda: _open_searcher(path))
    try:
        yield current
    finally:
        _give_back(key, name, current)


# Opening a searcher reads the newest table of contents, then its segments'
# files; another process's commit may delete either in between (it replaced
# them). Opening again finds the new ones.
OPEN_ATTEMPTS = 5


def _reopening(open_index):
    """``open_index()``, again if a file it read was replaced meanwhile."""
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return open_index()
        except FileNotFoundError:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


def _open_searcher(path: Path):
    """A searcher whose segments' files are all open, on segments the newest
    commit still holds.

    Whoosh opens a segment's column files (stored fields, field lengths,
    ``meta``) when they are first read, by name; by then another process's
    commit may have merged the segment away and deleted its files, and the read
    failed (``TypeError``: a search answered 503) or found no column (lengths
    and facet values read as empty). Opened here, a file deleted later is still
    read through its open handle. Segments missing from the newest table of
    contents may have lost files before they were opened: ``FileNotFoundError``,
    so ``_reopening`` opens the newest generation instead.
    """
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN, _lenfield

    ix = whoosh_index.open_dir(str(path))
    s = ix.searcher()
    try:
        reader = s.reader()
        segreaders = [reader] if reader.is_atomic() else [r for r, _ in reader.leaf_readers()]
        lengths = s.schema.scorable_names()
        for segreader in segreaders:
            perdoc = segreader._perdoc
            perdoc._cached_reader("_stored", STORED_COLUMN)
            for field in lengths:
                perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
            if perdoc.has_column("meta"):
                perdoc.column_reader("meta", s.schema["meta"].column_type)
        newest = {segment.segment_id() for segment in ix._read_toc().segments}
        gone = [r.segment().segment_id() for r in segreaders if r.segment().segment_id() not in newest]
        if gone:
            raise FileNotFoundError(f"segments merged away while opening: {', '.join(gone)}")
    except BaseException:
        s.close()
        raise
    return s


def meta_values(segreader) -> list | None:
    """Each document's ``meta`` value in a segment (None if it has no such
    column), read through the file its searcher opened (``_open_searcher``),
    which may have been deleted since."""
    perdoc = segreader._perdoc
    if "meta" not in perdoc._colfiles and not perdoc.has_column("meta"):
        return None
    return list(perdoc.column_reader("meta", segreader.schema["meta"].column_type))


def _take(key: str, name: str):
    stale = []
    found = None
    with _lock:
        idle = _idle.get(key, [])
        while idle and found is None:
            idle_name, candidate = idle.pop()
            if idle_name == name and _is_latest(candidate):
                found = candidate
            else:
                stale.append(candidate)
    for old in stale:
        old.close()
    return found


def _give_back(key: str, name: str, s) -> None:
    closing = []
    with _lock:
        idle = _idle.pop(key, [])
        idle.append((name, s))
        _idle[key] = idle  # most recently used folder last
        while len(idle) > _MAX_IDLE:
            closing.append(idle.pop(0)[1])
        while len(_idle) > _MAX_FOLDERS:
            closing.extend(item[1] for item in _idle.pop(next(iter(_idle))))
    for old in closing:
        old.close()


def _is_latest(s) -> bool:
    try:
        return s._ix.latest_generation() == s.reader().generation()
    except OSError:  # the generation was removed by a rebuild
        return False


def close_searchers() -> None:
    """Close every idle searcher of this process (tests, and before deleting a folder)."""
    with _lock:
        closing = [item[1] for idle in _idle.values() for item in idle]
        _idle.clear()
    for old in closing:
        old.close()


atexit.register(close_searchers)
