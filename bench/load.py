"""Load on the real server: ``kb serve`` (gunicorn, several workers) on SQLite
and on PostgreSQL, driven from 127.0.0.1 only, for a bounded time.

    .venv/bin/python bench/load.py [--size 2300] [--clients 20] [--seconds 30]
        [--workers 4] [--database sqlite|postgresql|both] [--hostile]

PostgreSQL needs ``KB_BENCH_DATABASE_URL`` (an empty database it may wipe:
the bench drops and recreates its ``public`` schema).

Each run:
1. loads a generated corpus (``bench/corpus.py``) into a fresh instance, indexes
   it, and starts ``kb serve`` on a free loopback port;
2. asks every search of the mix once, as a single client, then restarts the
   server, so the load starts from a freshly started server;
3. runs ``--clients`` readers (home, search pages with facets, story pages, API
   searches) with 2 writers creating and submitting stories through the API and
   a curator publishing them, for ``--seconds``; with ``--hostile``, 3 more
   clients send costly searches (``q=*``, ``q=[a TO z]``) the whole time;
4. compares every API search answer under load with the single client's (the
   writers' stories use words no read search contains, so the answers must not
   change);
5. afterwards checks that every story written is in the database with the
   status it was given and is found by search, and that ``kb index verify``
   is clean.

It prints requests, req/s, p50, p95, max and errors by status for each kind of
request. Nothing is asserted on time.
"""
from __future__ import annotations

import argparse
import json
import os
import random
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


def api_answer(base: str, body: bytes) -> str:
    """The part of an API search answer that must not change under load."""
    found = json.loads(body)
    kept = {"total": found["total"], "ids": [r["id"] for r in found["results"]], "facets": found["facets"]}
    return json.dumps(kept, sort_keys=True)


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.wrong = 0
        self.compared = 0

    def record(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            self.statuses[kind][status] += 1


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
    while not stop.is_set():
        pick = rng.random()
        q = rng.choice(QUERIES)
        if pick < 0.15:
            timed(stats, "home", f"{base}/")
        elif pick < 0.45:
            params = {"q": q, "area": rng.choice(AREAS)}
            if rng.random() < 0.5:
                params["kind"] = rng.choice(KINDS)
            timed(stats, "search page", f"{base}/search?{urllib.parse.urlencode(params)}")
        elif pick < 0.70:
            timed(stats, "story page", f"{base}/stories/story-{rng.randint(1, size)}")
        else:
            status, body = timed(stats, "api search", f"{base}/api/v1/search?{urllib.parse.urlencode({'q': q})}")
            if status == 200:
                with stats.lock:
                    stats.compared += 1
                    stats.wrong += api_answer(base, body) != expected[q]


def hostile(base: str, stop: threading.Event, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        timed(stats, "hostile search", f"{base}/search?{urllib.parse.urlencode({'q': rng.choice(HOSTILE)})}")


def writer(base: str, stop: threading.Event, stats: Stats, token: str, name: str, submitted, written) -> None:
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


def run(label: str, url: str | None, args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"kb-load-{label}-"))
    print(f"\n== {label}: {args.size} stories, {args.workers} workers, {args.clients} clients, "
          f"{args.seconds} s{', with hostile searches' if args.hostile else ''} ==", flush=True)
    started = time.perf_counter()
    env, tokens = prepare(folder, url, args.size)
    print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)
    server = LiveServer(env, workers=args.workers).start()
    try:
        expected = {}
        for q in QUERIES:
            status, body = request(f"{server.url}/api/v1/search?{urllib.parse.urlencode({'q': q})}")
            assert status == 200, (q, status)
            expected[q] = api_answer(server.url, body)
        server.restart()
        stats, stop = Stats(), threading.Event()
        submitted, written, published = [], [], set()
        threads = [threading.Thread(target=reader, args=(server.url, stop, stats, expected, args.size, n))
                   for n in range(args.clients)]
        threads += [threading.Thread(target=writer, args=(server.url, stop, stats, tokens[w], w, submitted, written))
                    for w in ("writer1", "writer2")]
        threads.append(threading.Thread(target=curator,
                                        args=(server.url, stop, stats, tokens["curator"], submitted, published)))
        if args.hostile:
            threads += [threading.Thread(target=hostile, args=(server.url, stop, stats, n)) for n in range(3)]
        begin = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join(180)
        elapsed = time.perf_counter() - begin
        checks = after_checks(server.url, env, written, published)
    finally:
        server.stop()
    report(label, stats, elapsed, checks)
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


def report(label: str, stats: Stats, elapsed: float, checks: dict) -> None:
    print(f"\n{label}: {elapsed:.1f} s of load")
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
    print(f"API search answers compared with a single client's: {stats.compared}, different: {stats.wrong}")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2300)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--hostile", action="store_true", help="3 more clients sending costly searches")
    args = parser.parse_args()
    pg = os.environ.get("KB_BENCH_DATABASE_URL", "")
    if args.database in ("sqlite", "both"):
        run("SQLite", None, args)
    if args.database in ("postgresql", "both"):
        if not pg:
            print("\nPostgreSQL skipped: set KB_BENCH_DATABASE_URL to an empty database the bench may wipe.")
        else:
            run("PostgreSQL", pg, args)


if __name__ == "__main__":
    main()
