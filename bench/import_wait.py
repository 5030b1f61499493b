"""How long a web save waits behind an import, through the real server.

    .venv/bin/python bench/import_wait.py [--db sqlite] [--db postgresql] [--workers 3]

For each database: an empty migrated instance served by ``kb serve`` (127.0.0.1,
a free port); ``kb import --status published`` of every file of the shared corpus
(``../shared/corpus/*.jsonl``) runs in its own process while a client creates a
story through the API every 0.2 s (each save commits, then brings the search
index up to date, as a web save does). Prints the import's seconds and, for the
saves made while it ran, how many, p50, p95 and the longest wait, with the load
average, and whether every save is there and ``kb index verify`` is clean
afterwards. PostgreSQL uses ``KB_BENCH_DATABASE_URL`` or ``kb_bench`` on
127.0.0.1 (its ``public`` schema is dropped and made again). Asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import CORPUS_DIR  # noqa: E402
from bench.live import KB, LiveServer  # noqa: E402
from bench.load import postgresql_url, prepare, request  # noqa: E402


def run(label: str, url: str | None, workers: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"kb-import-wait-{label}-"))
    env, tokens = prepare(folder, url, 0)
    waits: list[tuple[float, float]] = []  # (started, seconds)
    slugs: list[str] = []
    stop = threading.Event()

    def saver() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            body = {"title": f"Saved during an import zqsave{n}", "kind": "talk", "summary": f"zqsave{n}"}
            started = time.perf_counter()
            status, answer = request(f"{server.url}/api/v1/stories", "POST", body, tokens["writer1"])
            waits.append((started, time.perf_counter() - started))
            if status == 201:
                slugs.append(json.loads(answer)["slug"])
            stop.wait(0.2)

    with LiveServer(env, workers=workers, timeout=600) as server:
        thread = threading.Thread(target=saver)
        thread.start()
        time.sleep(2)
        load_before = os.getloadavg()
        began = time.perf_counter()
        for path in sorted(CORPUS_DIR.glob("*.jsonl")):
            subprocess.run([KB, "import", str(path), "--status", "published"], env=env, check=True,
                           capture_output=True, timeout=1800)
        ended = time.perf_counter()
        load_after = os.getloadavg()
        time.sleep(1)
        stop.set()
        thread.join(120)
        missing = [slug for slug in slugs
                   if request(f"{server.url}/api/v1/stories/{slug}", token=tokens["writer1"])[0] != 200]
    verify = subprocess.run([KB, "index", "verify"], env=env, capture_output=True, text=True, timeout=600)
    during = sorted(seconds for started, seconds in waits if began <= started <= ended) or [0.0]
    print(f"\n{label}: import {ended - began:.1f} s; load average {load_before[0]:.2f} -> {load_after[0]:.2f} "
          f"({os.cpu_count()} cores)")
    print(f"saves during the import: {len(during)}, p50 {statistics.median(during) * 1000:.0f} ms, "
          f"p95 {during[min(len(during) - 1, int(len(during) * 0.95))] * 1000:.0f} ms, "
          f"longest {during[-1] * 1000:.0f} ms")
    print(f"saves missing afterwards: {len(missing)} (of {len(slugs)}); "
          f"kb index verify clean: {verify.returncode == 0}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgresql"], help="repeat for both")
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    for db in dict.fromkeys(args.db or ["sqlite"]):
        run("SQLite" if db == "sqlite" else "PostgreSQL", None if db == "sqlite" else postgresql_url(), args.workers)


if __name__ == "__main__":
    main()
