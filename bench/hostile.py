"""Five hostile searches at once against a real `kb serve`: how much slower do
other pages get?

    .venv/bin/python bench/hostile.py [--size 5000] [--seconds 20]

Builds an instance of SIZE generated stories (bench/corpus.py) in a temporary
folder, serves it with gunicorn (`kb serve`, 127.0.0.1, a free port, 3
workers), times the home page and an ordinary search alone, then again while
five clients loop over the costliest searches (lone and short wildcards, a
range, 10,000 characters of common words, a long phrase, many prefixes), and
prints the p50/p95 of each and the ratio. As a control, the same pages are also
timed beside five clients looping over ordinary searches: on a machine with
fewer cores than busy clients, any five clients slow other pages, and what
hostile searches must not do is slow them more than ordinary ones. Bounded in
time by --seconds.
"""
from __future__ import annotations

import argparse
from collections import Counter
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.corpus import generate, load_into  # noqa: E402

KB = str(Path(sys.executable).with_name("kb"))
COMMON = ("council data service community digital public people local government health project design "
          "support research school team programme work users information access system process ").split()


def hostile() -> list[str]:
    words = " ".join(COMMON * 200)[:10_000].rsplit(" ", 1)[0]
    return ["*", "co*", "[a TO z]", words, f'"{words[:3000]}"', " ".join(f"{w[:3]}*" for w in COMMON * 10),
            " OR ".join(COMMON * 30), "NOT zzzz", "?" * 10_000]


def ordinary() -> list[str]:
    return ["open data", "digital inclusion", "social care", "user research", "housing", "community health",
            "local government procurement", "service design"]


STATUSES: Counter = Counter()


def fetch(url: str) -> float:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    if "q=" in url:
        STATUSES[status] += 1
    return time.perf_counter() - started


def timings(urls: list[str], seconds: float) -> list[float]:
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        for url in urls:
            out.append(fetch(url))
    return out


def summary(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.95))]


def instance(size: int, folder: Path) -> dict:
    env = {**os.environ, "KB_INSTANCE_PATH": str(folder), "KB_DATABASE_URL": f"sqlite:///{folder / 'kb.sqlite3'}"}
    env.pop("KB_ENV", None)
    (folder / "config.py").write_text("SEARCH_SYNC_ON_START = False\n")
    from kb import create_app, database

    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": env["KB_DATABASE_URL"],
                      "SEARCH_SYNC_ON_START": False})
    with app.app_context():
        database.upgrade()
    load_into(app, generate(size, seed=5))
    subprocess.run([KB, "index", "rebuild"], env=env, check=True, capture_output=True)
    return env


def beside(base: str, pages: list[str], queries: list[str], seconds: float) -> tuple[list[float], list[float]]:
    """Timings of ``pages`` while five clients loop over ``queries``, and theirs."""
    stop = threading.Event()
    times: list[float] = []

    def client(n: int) -> None:
        while not stop.is_set():
            times.append(fetch(base + "/search?" + urllib.parse.urlencode({"q": queries[n % len(queries)]})))
            n += 1

    clients = [threading.Thread(target=client, args=(n,)) for n in range(5)]
    for thread in clients:
        thread.start()
    try:
        return timings(pages, seconds), times
    finally:
        stop.set()
        for thread in clients:
            thread.join()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="kb-hostile-"))
    env = instance(args.size, folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([KB, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "3"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # a start syncs the index and trains the suggestion model first
        while time.monotonic() < deadline:
            try:
                fetch(base + "/")
                break
            except OSError:
                time.sleep(0.5)
        pages = [base + "/", base + "/search?q=digital+inclusion+in+libraries"]
        for url in pages + [base + "/search?" + urllib.parse.urlencode({"q": q}) for q in hostile()]:
            fetch(url)  # warm every worker's caches a little
        alone = timings(pages, args.seconds)
        control, _ = beside(base, pages, ordinary(), args.seconds)
        loaded, hostile_times = beside(base, pages, hostile(), args.seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    a50, a95 = summary(alone)
    c50, c95 = summary(control)
    l50, l95 = summary(loaded)
    h50, h95 = summary(hostile_times or [0.0])
    print(f"{args.size:,} stories, 3 workers, {args.seconds:.0f} s each")
    print("| other pages | p50 ms | p95 ms |")
    print("|---|---|---|")
    print(f"| alone | {a50 * 1000:.0f} | {a95 * 1000:.0f} |")
    print(f"| beside 5 ordinary searches | {c50 * 1000:.0f} | {c95 * 1000:.0f} |")
    print(f"| beside 5 hostile searches | {l50 * 1000:.0f} | {l95 * 1000:.0f} |")
    print(f"| ratio, hostile / alone | {l50 / a50:.2f}x | {l95 / a95:.2f}x |")
    print(f"| ratio, hostile / ordinary | {l50 / c50:.2f}x | {l95 / c95:.2f}x |")
    print(f"hostile searches: {len(hostile_times)}, p50 {h50 * 1000:.0f} ms, p95 {h95 * 1000:.0f} ms")
    print(f"searches by status: {dict(sorted(STATUSES.items()))} (429: a costly search refused while the "
          f"node's places for them were taken); load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
