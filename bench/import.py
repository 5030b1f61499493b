"""How fast the shared corpus imports, on SQLite and on PostgreSQL, in one run.

    .venv/bin/python bench/import.py [--corpus ../shared/corpus] [--postgres URL] [--limit N]

For each backend, each corpus file is imported as published into an empty
instance (a new SQLite file; for PostgreSQL the database at URL, which the
bench EMPTIES: give it a database of its own, e.g. the test database), then all
files together into one, while another thread saves a story every 0.2 s as the
web would and times how long each save waits. Prints, per file, imported /
skipped / failed, the near-duplicates flagged for curators, seconds, records/s (wall clock) and records per CPU second
of this process (the machine's other load does not change that figure much),
the one-minute load average beside them,
and whether ``kb index verify`` is clean. The PostgreSQL URL defaults to
KB_BENCH_DATABASE_URL, then KB_TEST_DATABASE_URL; without one only SQLite runs.
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb import create_app, database, search  # noqa: E402
from kb.extensions import db  # noqa: E402
from kb.importers import import_file  # noqa: E402
from kb.models import Story  # noqa: E402
from kb.policy import SYSTEM  # noqa: E402
from kb.services import seed, stories  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# ../shared/corpus beside the checkout (or beside the folder of worktrees).
CORPUS = next((folder / "shared" / "corpus" for folder in ROOT.parents[:2] if (folder / "shared" / "corpus").is_dir()),
              ROOT.parent / "shared" / "corpus")


def postgres_url(url: str) -> str:
    return "postgresql+psycopg://" + url[len("postgresql://"):] if url.startswith("postgresql://") else url


def empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def fresh_app(backend: str, pg_url: str):
    folder = Path(tempfile.mkdtemp(prefix=f"kb-bench-import-{backend}-"))
    config = {"INSTANCE_PATH": str(folder), "SEARCH_SYNC_ON_START": False}
    if backend == "postgresql":
        empty_postgres(pg_url)
        config["SQLALCHEMY_DATABASE_URI"] = pg_url
    else:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{folder / 'kb.sqlite3'}"
    app = create_app(config)
    with app.app_context():
        database.upgrade()
        seed.load_action_areas(SYSTEM)
        database.commit(app)
    return app, folder


class WebWrites(threading.Thread):
    """Saves one story every 0.2 s, as a web request would, and keeps how long each save took."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.waits, self.stopped = app, [], threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            story = stories.create_story(SYSTEM, {"title": "Edited during the import", "kind": "report",
                                                  "summary": "A story the web keeps saving."})
            database.commit(self.app)
            n = 0
            while not self.stopped.wait(0.2):
                n += 1
                started = time.perf_counter()
                stories.update_story(SYSTEM, story, {"summary": f"Saved {n} times during the import."})
                database.commit(self.app)
                self.waits.append(time.perf_counter() - started)
            db.session.remove()


def run(app, files: list[Path], limit: int, web: bool = False) -> dict:
    data = b"".join(_read(path, limit) for path in files)
    writes = WebWrites(app) if web else None
    with app.app_context():
        if writes:
            writes.start()
            time.sleep(0.3)
        cpu, wall = time.process_time(), time.perf_counter()
        report = import_file(SYSTEM, data, "jsonl", status="published", app=app)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if writes:
            writes.stopped.set()
            writes.join()
        drift = search.verify(app)
        flagged = db.session.scalar(select(func.count()).select_from(Story).where(Story.duplicate_of_id.is_not(None)))
        db.session.remove()
        db.engine.dispose()
    rows = len(report.rows)
    return {**report.counts, "flagged": flagged, "seconds": wall, "rate": rows / wall, "cpu_rate": rows / cpu if cpu else 0.0,
            "verify": "clean" if drift.clean else "DRIFT: " + "; ".join(drift.lines())[:200],
            "waits": writes.waits if writes else []}


def _read(path: Path, limit: int) -> bytes:
    lines = path.read_bytes().splitlines(keepends=True)
    chunk = b"".join(lines[:limit] if limit else lines)
    return chunk if chunk.endswith(b"\n") else chunk + b"\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--postgres", default=os.environ.get("KB_BENCH_DATABASE_URL")
                        or os.environ.get("KB_TEST_DATABASE_URL", ""))
    parser.add_argument("--limit", type=int, default=0, help="Records read from each file (default: all).")
    args = parser.parse_args()
    files = sorted(Path(args.corpus).glob("*.jsonl"))
    if not files:
        sys.exit(f"No .jsonl files in {args.corpus}")
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    pg_url = postgres_url(args.postgres)
    print(f"{'backend':<11} {'file':<20} {'imported':>8} {'skipped':>8} {'failed':>7} {'flagged':>7} {'s':>7} "
          f"{'rec/s':>7} {'rec/cpu-s':>9} {'load':>5}  index")
    for backend in backends:
        for label, chosen in [*((path.name, [path]) for path in files), ("all files", files)]:
            app, folder = fresh_app(backend, pg_url)
            result = run(app, chosen, args.limit, web=label == "all files")
            print(f"{backend:<11} {label:<20} {result['imported']:>8} {result['skipped']:>8} {result['failed']:>7} "
                  f"{result['flagged']:>7} "
                  f"{result['seconds']:>7.1f} {result['rate']:>7.0f} {result['cpu_rate']:>9.0f} "
                  f"{os.getloadavg()[0]:>5.1f}  {result['verify']}")
            if result["waits"]:
                waits = sorted(result["waits"])
                print(f"{'':<11} web saves during the import: {len(waits)}, median {waits[len(waits) // 2]:.2f} s, "
                      f"longest {waits[-1]:.2f} s")
            shutil.rmtree(folder, ignore_errors=True)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
