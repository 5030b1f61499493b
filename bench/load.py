"""Load on the real server: ``kb serve`` (gunicorn, several workers) on SQLite
and on PostgreSQL, driven from 127.0.0.1 only, for a bounded time.

    .venv/bin/python bench/load.py --stories 5000 --db sqlite --db postgresql
        [--clients 20] [--seconds 45] [--workers 4] [--hostile]

PostgreSQL uses ``KB_BENCH_DATABASE_URL``, or else a database ``kb_bench`` on
127.0.0.1 (made if missing); the bench drops and recreates its ``public`` schema.

Each run:
1. loads a generated corpus (``bench/corpus.py``) into a fresh instance, indexes
   it, and starts ``kb serve`` on a free loopback port;
2. asks every search of the mix once, as a single client (the API search with
   its facets, the search page's count), then restarts the server, so the load
   starts from a freshly started server;
3. runs ``--clients`` readers (home, search pages with facets, story pages, API
   searches with facets): the first third of ``--seconds`` alone, then with 2
   writers creating and submitting stories through the API and a curator
   publishing them; with ``--hostile``, 3 more clients send costly searches
   (``q=*``, ``q=[a TO z]``) the whole time;
4. compares every search answer under load with the single client's: totals
   and facet counts always (the writers' stories use words no read search
   contains, so they must not change), the order of results only while no
   writer runs (new stories change every word's weight, so the order may change);
5. afterwards checks that every story written is in the database with the
   status it was given, that every published one is found by search, and that
   ``kb index verify`` is clean.

It prints requests, req/s, p50, p95, max and errors by status for each kind of
request, with the load average. Nothing is asserted on time.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import AREAS, KINDS, generate  # noqa: E402
from bench.live import KB, LiveServer, make_instance  # noqa: E402

QUERIES = ["open data", "agile procurement", "user research", "digital inclusion", "cloud hosting",
           "housing", "service design", "health", "social care", "procurement", "accessibility",
           "local government", "data sharing", "community"]
HOSTILE = ["*", "[a TO z]"]
PASSWORD = "correct horse battery staple"


# HTTP --------------------------------------------------------------------------

def request(url: str, method: str = "GET", body: dict | None = None, token: str = "") -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def api_answer(body: bytes) -> tuple[str, str]:
    """(total and facet counts, result order) of an API search answer."""
    found = json.loads(body)
    counts = json.dumps({"total": found["total"], "facets": found["facets"]}, sort_keys=True)
    return counts, json.dumps([r["id"] for r in found["results"]])


_TOTAL = re.compile(rb"<strong>([\d,]+)</strong> stor(?:y|ies)")


def page_answer(body: bytes) -> tuple[str, str]:
    """(the count of stories found, the order of the stories linked) of a search page."""
    total = _TOTAL.search(body)
    return (total.group(1).decode() if total else "no count",
            json.dumps(re.findall(rb'href="/stories/(story-\d+)', body)[:40], default=bytes.decode))


def search_mix(seed: int = 7) -> list[dict]:
    """The searches readers make: each query alone, and with facet filters (an area, perhaps a kind)."""
    rng = random.Random(seed)
    mix = [{"q": q} for q in QUERIES]
    for q in QUERIES:
        for _ in range(3):
            params = {"q": q, "area": rng.choice(AREAS)}
            if rng.random() < 0.5:
                params["kind"] = rng.choice(KINDS)
            mix.append(params)
    return mix


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.compared = Counter()  # (what, writers running) -> answers compared
        self.wrong = Counter()     # the same -> answers that differ
        self.writers_running = False

    def record(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            self.statuses[kind][status] += 1

    def compare(self, got: tuple[str, str], want: tuple[str, str]) -> None:
        """Counts always; the order of results only while no writer runs."""
        with self.lock:
            writing = self.writers_running
            self.compared["totals and facets"] += 1
            self.wrong["totals and facets"] += got[0] != want[0]
            if not writing:
                self.compared["order (no writers)"] += 1
                self.wrong["order (no writers)"] += got[1] != want[1]


def timed(stats: Stats, kind: str, url: str, **kwargs) -> tuple[int, bytes]:
    start = time.perf_counter()
    status, body = request(url, **kwargs)
    stats.record(kind, time.perf_counter() - start, status)
    return status, body


# The instance ------------------------------------------------------------------

def prepare(folder: Path, url: str | None, size: int) -> tuple[dict, dict]:
    """A loaded, indexed instance; returns its environment and the API tokens."""
    if url:
        from sqlalchemy import create_engine, text

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    env = make_instance(folder, url, generate(size), extra_env={"KB_SECRET_KEY": "bench-" + "x" * 32})
    from kb import create_app, database
    from kb.extensions import db
    from kb.policy import SYSTEM
    from kb.services import tokens, users

    config = {"INSTANCE_PATH": str(folder)}
    if url:
        config["SQLALCHEMY_DATABASE_URI"] = url
    app = create_app(config)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            _advance_sequences()
        made = {}
        for name, role in (("writer1", "contributor"), ("writer2", "contributor"), ("curator", "curator")):
            user = users.create_user(SYSTEM, f"{name}@example.org", PASSWORD, display_name=name, role=role)
            database.commit(app)
            made[name] = tokens.create_token(user, "load")[1]
            database.commit(app)
        db.session.remove()
        db.engine.dispose()
    return env, made


def _advance_sequences() -> None:
    """The corpus is inserted with explicit ids; move PostgreSQL's sequences past them."""
    from sqlalchemy import text

    from kb.extensions import db

    for table in ("stories", "tags", "organisations"):
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 1))"))
    db.session.commit()


# The load ----------------------------------------------------------------------

def reader(base: str, stop: threading.Event, stats: Stats, expected: dict, size: int, seed: int) -> None:
    rng = random.Random(seed)
    mix = search_mix()
    while not stop.is_set():
        pick = rng.random()
        params = rng.choice(mix)
        query = urllib.parse.urlencode(params)
        if pick < 0.15:
            timed(stats, "home", f"{base}/")
        elif pick < 0.45:
            status, body = timed(stats, "search page", f"{base}/search?{query}")
            if status == 200:
                stats.compare(page_answer(body), expected["page", query])
        elif pick < 0.70:
            timed(stats, "story page", f"{base}/stories/story-{rng.randint(1, size)}")
        else:
            status, body = timed(stats, "api search", f"{base}/api/v1/search?{query}")
            if status == 200:
                stats.compare(api_answer(body), expected["api", query])


def hostile(base: str, stop: threading.Event, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        timed(stats, "hostile search", f"{base}/search?{urllib.parse.urlencode({'q': rng.choice(HOSTILE)})}")


def writer(base: str, stop: threading.Event, stats: Stats, token: str, name: str, submitted, written) -> None:
    """Creates a story and submits it, every half a second (a contributor's saves)."""
    n = 0
    while not stop.is_set():
        n += 1
        marker = f"zq{name}x{n}"
        body = {"title": f"Loadwrite {marker}", "kind": "talk", "summary": f"Written under load {marker}."}
        status, answer = timed(stats, "write", f"{base}/api/v1/stories", method="POST", body=body, token=token)
        if status != 201:
            continue
        slug = json.loads(answer)["slug"]
        status, _ = timed(stats, "write", f"{base}/api/v1/stories/{slug}/submit", method="POST", token=token)
        written.append((slug, marker, "submitted" if status == 200 else "draft"))
        if status == 200:
            submitted.append(slug)
        stop.wait(0.5)


def curator(base: str, stop: threading.Event, stats: Stats, token: str, submitted, published) -> None:
    while not stop.is_set() or submitted:
        if not submitted:
            stop.wait(0.2)
            continue
        slug = submitted.pop(0)
        status, _ = timed(stats, "publish", f"{base}/api/v1/stories/{slug}/publish", method="POST", token=token)
        if status == 200:
            published.add(slug)


def single_client(base: str) -> dict:
    """Every search of the mix asked once, by one client: the answers load must match."""
    expected = {}
    for params in search_mix():
        query = urllib.parse.urlencode(params)
        status, body = request(f"{base}/api/v1/search?{query}")
        assert status == 200, (query, status)
        expected["api", query] = api_answer(body)
        status, body = request(f"{base}/search?{query}")
        assert status == 200, (query, status)
        expected["page", query] = page_answer(body)
    return expected


def run(label: str, url: str | None, args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"kb-load-{label}-"))
    print(f"\n== {label}: {args.stories} stories, {args.workers} workers, {args.clients} clients, "
          f"{args.seconds:g} s{', with hostile searches' if args.hostile else ''} ==", flush=True)
    started = time.perf_counter()
    env, tokens = prepare(folder, url, args.stories)
    print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)
    server = LiveServer(env, workers=args.workers, timeout=600).start()
    try:
        expected = single_client(server.url)
        server.restart()
        stats, stop, writers_stop = Stats(), threading.Event(), threading.Event()
        submitted, written, published = [], [], set()
        threads = [threading.Thread(target=reader, args=(server.url, stop, stats, expected, args.stories, n))
                   for n in range(args.clients)]
        if args.hostile:
            threads += [threading.Thread(target=hostile, args=(server.url, stop, stats, n)) for n in range(3)]
        writers = [threading.Thread(target=writer, args=(server.url, writers_stop, stats, tokens[w], w, submitted,
                                                         written)) for w in ("writer1", "writer2")]
        writers.append(threading.Thread(target=curator, args=(server.url, writers_stop, stats, tokens["curator"],
                                                               submitted, published)))
        load_before = os.getloadavg()
        begin = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds / 3)
        with stats.lock:
            stats.writers_running = True
        for thread in writers:
            thread.start()
        time.sleep(args.seconds * 2 / 3)
        writers_stop.set()
        stop.set()
        for thread in threads + writers:
            thread.join(max(1.0, begin + args.seconds + 180 - time.perf_counter()))
        elapsed = time.perf_counter() - begin
        load_after = os.getloadavg()
        checks = after_checks(server.url, env, written, published)
    finally:
        server.stop()
    report(label, stats, elapsed, checks, (load_before, load_after))
    return {"label": label, "elapsed": elapsed, "checks": checks}


def after_checks(base: str, env: dict, written, published) -> dict:
    """Every write is in the database with its status and findable; the index verifies clean."""
    missing, unfound = [], []
    for slug, marker, status in written:
        status_code, body = request(f"{base}/api/v1/search?{urllib.parse.urlencode({'q': marker})}")
        found = status_code == 200 and any(r["slug"] == slug for r in json.loads(body)["results"])
        if slug in published and not found:
            unfound.append(slug)
    from sqlalchemy import create_engine, text

    db_url = env.get("KB_DATABASE_URL") or f"sqlite:///{env['KB_INSTANCE_PATH']}/kb.sqlite3"
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT slug, status FROM stories WHERE source IS NULL OR source != 'bench'")).all())
    engine.dispose()
    for slug, _, status in written:
        want = "published" if slug in published else status
        if rows.get(slug) != want:
            missing.append((slug, rows.get(slug), want))
    verify = subprocess.run([KB, "index", "verify"], env=env, capture_output=True, text=True, timeout=600)
    return {"written": len(written), "published": len(published), "not in the database as written": missing,
            "published but not found": unfound, "index verify": verify.returncode == 0,
            "verify output": (verify.stdout + verify.stderr).strip()[-300:]}


def report(label: str, stats: Stats, elapsed: float, checks: dict, load: tuple) -> None:
    print(f"\n{label}: {elapsed:.1f} s of load; load average before {load[0][0]:.2f} {load[0][1]:.2f} "
          f"{load[0][2]:.2f}, after {load[1][0]:.2f} {load[1][1]:.2f} {load[1][2]:.2f} (1, 5, 15 min), "
          f"{os.cpu_count()} cores")
    print(f"{'request':<16}{'n':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  errors by status")
    everything: list[float] = []
    errors_all: Counter = Counter()
    for kind in sorted(stats.times):
        times = stats.times[kind]
        everything += times
        errors = {s: n for s, n in stats.statuses[kind].items() if s >= 400 or s == 0}
        errors_all.update(errors)
        print(_row(kind, times, elapsed, errors))
    print(_row("all", everything, elapsed, dict(errors_all)))
    for what in stats.compared:
        print(f"search answers compared with a single client's, {what}: {stats.compared[what]}, "
              f"different: {stats.wrong[what]}")
    ordered = sorted(everything) or [0.0]
    fives = sum(n for status, n in errors_all.items() if status >= 500)
    rate = len(everything) / elapsed
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(f"target (>= 100 req/s, p95 <= 400 ms, no 5xx): {rate:.1f} req/s, p95 {p95 * 1000:.0f} ms, "
          f"{fives} 5xx: {'met' if rate >= 100 and p95 <= 0.4 and not fives else 'not met'}")
    print(f"writes: {checks['written']} stories, {checks['published']} published; "
          f"not in the database as written: {len(checks['not in the database as written'])}; "
          f"published but not found: {len(checks['published but not found'])}; "
          f"kb index verify clean: {checks['index verify']}")
    if not checks["index verify"]:
        print(checks["verify output"])


def _row(kind: str, times: list[float], elapsed: float, errors: dict) -> str:
    if not times:
        return f"{kind:<16}{0:>7}"
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    text = ", ".join(f"{s or 'no answer'}: {n}" for s, n in sorted(errors.items())) or "none"
    return (f"{kind:<16}{len(times):>7}{len(times) / elapsed:>8.1f}{statistics.median(ordered) * 1000:>9.0f}"
            f"{p95 * 1000:>9.0f}{ordered[-1] * 1000:>9.0f}  {text}")


def postgresql_url() -> str:
    """``KB_BENCH_DATABASE_URL``, or ``kb_bench`` on 127.0.0.1, made if missing."""
    url = os.environ.get("KB_BENCH_DATABASE_URL", "")
    if url:
        return url
    from sqlalchemy import create_engine, text

    server = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = 'kb_bench'")):
            connection.execute(text("CREATE DATABASE kb_bench"))
    server.dispose()
    return "postgresql://postgres@127.0.0.1:5432/kb_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", "--size", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=45, help="of load: a third readers alone, then writers too")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--db", action="append", choices=["sqlite", "postgresql"],
                        help="repeat for both (the default)")
    parser.add_argument("--hostile", action="store_true", help="3 more clients sending costly searches")
    args = parser.parse_args()
    for db in dict.fromkeys(args.db or ["sqlite", "postgresql"]):
        if db == "sqlite":
            run("SQLite", None, args)
        else:
            run("PostgreSQL", postgresql_url(), args)


if __name__ == "__main__":
    main()
