"""A per-search allowance of CPU time.

Matching, ranking and phrase checks look at the budget between units of work
(a word, a story); once it is spent they stop and the search returns what it
has, with ``MESSAGE`` for the reader. CPU time of the thread, not wall time,
so a busy machine does not cut searches short.
"""
from __future__ import annotations

import time

MESSAGE = ("This search took too long to finish, so the results may be incomplete. "
           "Try fewer or more specific words.")


class Budget:
    """``seconds`` of this thread's CPU time from now (None: unlimited)."""

    def __init__(self, seconds: float | None = None):
        self.seconds = seconds
        self.started = time.thread_time()
        self.spent = False

    def over(self) -> bool:
        """True (and from then on) once the allowance is used up."""
        if not self.spent and self.seconds is not None:
            self.spent = time.thread_time() - self.started > self.seconds
        return self.spent


UNLIMITED = Budget()
