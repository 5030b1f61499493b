"""The index kept in step by a second process while a long import writes.

An import is one Python process: its cleaning and writing and Whoosh's
indexing of what it wrote took turns on one core, the other left idle. A long
import hands the indexing to a child process that applies the change log
(``sync``, the one mechanism that keeps the index in step) each time the import
says it has committed another index batch, while the import goes on with the
next rows. Nothing else changes: the changes are in the log, the watermark
says what is applied, the index's write lock keeps one writer, and the
import's last commit syncs whatever is left (all of it, if the child died).

The child is a new interpreter (``python -m kb.search.follower_process``), not a fork:
an import may run in a thread of a web worker, whose open files and database
connections a fork would share, and multiprocessing's other ways of starting
a process run the parent's main script again. It builds its own app from the
parent's settings, read from its standard input, then reads one line per sync.
"""
from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

SYNC, STOP = b"sync\n", b"stop\n"
# Seconds the import waits, at its end, for the child to finish the sync it is on.
FINISH_WAIT = 300.0
_ROOT = str(Path(__file__).resolve().parents[2])


class IndexFollower:
    """A child process that syncs the index each time it is asked (``kick``)."""

    def __init__(self, app):
        settings = {"INSTANCE_PATH": app.instance_path, **_picklable(app.config)}
        path = os.pathsep.join(filter(None, (_ROOT, os.environ.get("PYTHONPATH"))))
        self._process = subprocess.Popen([sys.executable, "-m", "kb.search.follower_process"], stdin=subprocess.PIPE,
                                         env={**os.environ, "PYTHONPATH": path})
        self._send(pickle.dumps(settings))

    def kick(self) -> None:
        """Ask for a sync (applied in turn, after any the child is on)."""
        self._send(SYNC)

    def finish(self, wait: float = FINISH_WAIT) -> None:
        """Let the child end its syncs and stop (stopped by force after ``wait`` seconds)."""
        self._send(STOP)
        try:
            self._process.stdin.close()
        except OSError:
            pass
        try:
            self._process.wait(wait)
        except subprocess.TimeoutExpired:
            log.warning("The import's index process did not stop within %g s; stopping it", wait)
            self._process.kill()
            self._process.wait()

    def _send(self, message: bytes) -> None:
        try:
            self._process.stdin.write(message)
            self._process.stdin.flush()
        except (OSError, ValueError):  # the child has gone: the import's last commit syncs everything
            log.warning("The import's index process has stopped; the import's last commit indexes the rest")


def _picklable(config) -> dict:
    out = {}
    for key, value in config.items():
        try:
            pickle.dumps(value)
        except Exception:
            continue
        out[key] = value
    return out
