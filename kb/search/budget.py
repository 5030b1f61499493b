"""A per-search allowance of CPU time, and the bounds on costly searches.

Matching, ranking and phrase checks look at the budget between units of work
(a word, a story); once it is spent they stop and the search returns what it
has, with ``MESSAGE`` for the reader. CPU time of the thread, not wall time,
so a busy machine does not cut searches short.

Costly searches (``is_costly``: prefixes, very long queries) could
still take a core each, and five at once starved every other page. So the web
layer runs them through ``costly_slot``: at most ``slots`` of them at once on
this node (across gunicorn's worker processes, by file locks), each with the
smaller allowance ``COSTLY_SECONDS`` (``at_most``); one past that is refused
(the caller answers 429 with a polite page) instead of queueing for a core.
"""
from __future__ import annotations

import contextvars
import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from kb.search import query

MESSAGE = ("This search took too long to finish, so the results may be incomplete. "
           "Try fewer or more specific words.")


class Budget:
    """``seconds`` of this thread's CPU time from now (None: unlimited)."""

    def __init__(self, seconds: float | None = None):
        ceiling = _ceiling.get()
        if ceiling is not None:
            seconds = ceiling if seconds is None else min(seconds, ceiling)
        self.seconds = seconds
        self.started = time.thread_time()
        self.spent = False

    def over(self) -> bool:
        """True (and from then on) once the allowance is used up."""
        if not self.spent and self.seconds is not None:
            self.spent = time.thread_time() - self.started > self.seconds
        return self.spent


_ceiling: contextvars.ContextVar[float | None] = contextvars.ContextVar("kb_search_ceiling", default=None)
UNLIMITED = Budget()

# CPU seconds a costly search may take (an ordinary one: SEARCH_CPU_BUDGET).
COSTLY_SECONDS = 0.25
# A query longer than this (a pasted paragraph) costs like a prefix.
COSTLY_CHARS = 300
BUSY_MESSAGE = ("Too many searches with wildcards or very long text are running at the moment. "
                "Please try again in a minute, or search for a few specific words.")


def is_costly(q: str) -> bool:
    """Whether a query can be expensive as the parser reads it: a prefix
    (``innov*``, expanded to many words) or a very long text. Punctuation the
    parser reads as text (``*`` alone, ``?``, brackets, ``TO``) costs nothing more."""
    q = q or ""
    return len(q) > COSTLY_CHARS or query.has_prefix(q)


@contextmanager
def at_most(seconds: float):
    """Budgets made inside this block allow at most ``seconds``."""
    token = _ceiling.set(seconds)
    try:
        yield
    finally:
        _ceiling.reset(token)


@contextmanager
def costly_slot(folder, slots: int):
    """One of ``slots`` places for a costly search on this node, held by a file
    lock in ``folder`` (released by the kernel if the process dies). Yields
    True with a place taken (and the smaller budget), False if all are taken."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(max(0, slots)):
        fd = os.open(folder / f"costly-search-{n}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            with at_most(COSTLY_SECONDS):
                yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return
    yield False
