"""Search benchmark: kb's Whoosh search beside SQLite FTS5 doing the same work.

    .venv/bin/python bench/search.py                  # 5,000 stories
    .venv/bin/python bench/search.py --size 50000     # about five minutes
    .venv/bin/python bench/search.py --size 5000 --size 50000 --queries 300
    .venv/bin/python bench/search.py --size 50000 --reuse   # searches only, on the last build

For each size it builds a corpus (the real stories of ../shared/corpus, scaled
up with synthetic ones, see bench/corpus.py) in a fresh SQLite database (the
generated database is cached in bench/out/, which git ignores), then measures,
for kb and for FTS5 (porter tokenizer, bm25(); see ``Fts`` for how it works):
  - rebuild throughput (stories/s) and index size;
  - the search page's work over mixed queries (query, facet counts over the
    whole result set, snippets, the page's rows, similar stories), p50/p95;
  - edit to searchable: save one story and find it by a new word.
"""
from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import math
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import AREAS, CORPUS_DIR, KINDS, generate, load_into, real_records  # noqa: E402

STOP = set("a an and are as at be by for from has have in is it its of on or that the this to was were will with we our you your how what why".split())


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def make_queries(n: int, seed: int = 7) -> list[dict]:
    """``n`` mixed searches: short and long natural language, phrases, filters,
    newest first, empty, misspelt, and with operators."""
    rng = random.Random(seed)
    records = real_records()
    titles = [[w for w in re.findall(r"[a-z]+", (r.get("title") or "").lower()) if w not in STOP and len(w) > 2]
              for r in records]
    titles = [t for t in titles if len(t) >= 2]
    summaries = [re.findall(r"[a-z]+", (r.get("summary") or "").lower()) for r in records]
    summaries = [s for s in summaries if len(s) >= 10]
    tags = sorted({t for r in records for t in r.get("tags") or [] if t.strip()})
    out = []
    for i in range(n):
        kind = i % 20
        words = rng.choice(titles)
        start = rng.randrange(len(words))
        short = " ".join(words[start:start + rng.randint(1, 3)])
        q, filters, sort = short, {}, "relevance"
        if kind in (8, 9, 10):
            summary = rng.choice(summaries)
            q = " ".join(summary[:rng.randint(6, 12)])
        elif kind == 11:
            q = f'"{" ".join(words[:2])}"'
        elif kind in (12, 13):
            filters = rng.choice([{"area": [rng.choice(AREAS)]}, {"kind": [rng.choice(KINDS)]}])
        elif kind == 14:
            sort = "newest"
        elif kind == 15:
            q = ""
            filters = {"area": [rng.choice(AREAS)]} if rng.random() < 0.5 else {}
        elif kind == 16:
            w = max(words, key=len)
            j = rng.randrange(1, len(w))
            q = w[:j] + w[j - 1] + w[j:]
        elif kind == 17:
            q = f"{words[0]} AND {words[-1]}" if rng.random() < 0.5 else f"{words[0]} NOT {words[-1]}"
        elif kind == 18 and tags:
            filters = {"tag": [rng.choice(tags)]}
        out.append({"q": q, "filters": filters, "sort": sort})
    return out


# kb ---------------------------------------------------------------------------

def kb_app(folder: Path):
    from kb import create_app, database

    app = create_app({
        "INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
        "SEARCH_SYNC_ON_START": False, "TESTING": True,
    })
    with app.app_context():
        database.upgrade()
    return app


def kb_rebuild(app) -> tuple[float, int]:
    from kb import search

    with app.app_context():
        started = time.perf_counter()
        count = search.rebuild(app)
        elapsed = time.perf_counter() - started
        path = search.home(app).current_path()
    size = sum(p.stat().st_size for p in path.iterdir())
    return count / elapsed, size


def kb_page(app, q: dict):
    """The search page's work: results, facets, snippets, rows, similar stories."""
    from kb import search

    results = search.search_stories(app, q["q"], q["filters"], q["sort"], 1, 20)
    rows = search.load_hits(results)
    if rows:
        search.similar_stories(app, rows[0][0].id, 5)
    return results.total


def kb_edit(app, n: int) -> float:
    from kb import database, search
    from kb.extensions import db
    from kb.models import Story
    from kb.policy import SYSTEM
    from kb.services import stories

    word = f"zqxedit{n}"
    story = db.session.get(Story, 1 + n * 7)
    started = time.perf_counter()
    stories.update_story(SYSTEM, story, {"title": f"{story.title[:200]} {word}"})
    database.commit(app)
    found = search.search_stories(app, word, snippets=False).total
    elapsed = time.perf_counter() - started
    assert found == 1, f"edited story not found ({found})"
    return elapsed


# FTS5 -------------------------------------------------------------------------

def fts_build(kb_db: Path, path: Path) -> tuple[float, int]:
    """Build an FTS5 index and facet tables from the kb database's stories."""
    con = sqlite3.connect(path)
    con.execute(f"ATTACH DATABASE '{kb_db}' AS kb")
    started = time.perf_counter()
    con.executescript("""
        CREATE VIRTUAL TABLE docs USING fts5(title, content, tokenize='porter unicode61');
        CREATE TABLE stories(id INTEGER PRIMARY KEY, day TEXT, status TEXT);
        CREATE TABLE facets(story_id INTEGER, name TEXT, value TEXT, PRIMARY KEY (story_id, name, value)) WITHOUT ROWID;
    """)
    rows = con.execute("""
        SELECT s.id, s.title, s.summary || ' ' || s.body || ' ' || coalesce((SELECT group_concat(t.name, ' ')
               FROM kb.story_tags st JOIN kb.tags t ON t.id = st.tag_id WHERE st.story_id = s.id), '')
               || ' ' || coalesce((SELECT group_concat(o.name, ' ') FROM kb.story_organisations so
               JOIN kb.organisations o ON o.id = so.organisation_id WHERE so.story_id = s.id), ''),
               s.published_on, s.status, s.kind, s.stage
        FROM kb.stories s""").fetchall()
    con.executemany("INSERT INTO docs(rowid, title, content) VALUES (?, ?, ?)", [(r[0], r[1], r[1] + " " + r[2]) for r in rows])
    con.executemany("INSERT INTO stories VALUES (?, ?, ?)", [(r[0], r[3], r[4]) for r in rows])
    facets = [(r[0], "kind", r[5]) for r in rows] + [(r[0], "stage", r[6]) for r in rows if r[6]]
    facets += [(r[0], "year", (r[3] or "")[:4]) for r in rows if r[3]]
    con.executemany("INSERT OR IGNORE INTO facets VALUES (?, ?, ?)", facets)
    con.execute("""INSERT OR IGNORE INTO facets SELECT st.story_id, 'tag', t.slug FROM kb.story_tags st
                   JOIN kb.tags t ON t.id = st.tag_id""")
    con.execute("""INSERT OR IGNORE INTO facets SELECT so.story_id, 'org', o.slug FROM kb.story_organisations so
                   JOIN kb.organisations o ON o.id = so.organisation_id""")
    con.execute("""INSERT OR IGNORE INTO facets SELECT sa.story_id, 'area', a.slug FROM kb.story_action_areas sa
                   JOIN kb.action_areas a ON a.id = sa.action_area_id""")
    con.execute("CREATE INDEX facets_value ON facets(name, value)")
    con.execute("CREATE INDEX stories_day ON stories(day, id)")
    con.commit()
    elapsed = time.perf_counter() - started
    con.execute("DETACH DATABASE kb")
    con.close()
    return len(rows) / elapsed, path.stat().st_size


def fts_match(q: str) -> str | None:
    """The same query in FTS5 syntax: words OR-ed, phrases kept, AND/NOT kept."""
    phrases = re.findall(r'"([^"]+)"', q)
    if phrases:
        return " ".join('"' + " ".join(re.findall(r"\w+", p)) + '"' for p in phrases)
    tokens = re.findall(r"\w+", q)
    if not tokens:
        return None
    if "AND" in tokens or "NOT" in tokens:
        return " ".join(t if t in ("AND", "NOT") else f'"{t.lower()}"' for t in tokens)
    return " OR ".join(f'"{t.lower()}"' for t in tokens if t.lower() not in STOP) or None


class Fts:
    """An FTS5 connection doing the search page's work the way SQLite does it best:
    the MATCH runs once per search into a temporary table with bm25() ranks,
    counts are GROUP BY over that table joined to the facets, snippet() marks
    the shown page, and similar stories are the story's most telling words
    (tf x idf from the fts5vocab table, read once) OR-ed and ranked by bm25()."""

    def __init__(self, path: Path, kb_db: Path) -> None:
        from whoosh.lang.porter import stem  # the Porter stemmer, as FTS5's tokenizer uses

        self.stem = stem
        self.con = con = sqlite3.connect(path, isolation_level=None)  # autocommit: no lock held on kb
        con.execute("ATTACH DATABASE ? AS kb", (str(kb_db),))
        con.executescript("""
            CREATE TEMP TABLE hits(id INTEGER PRIMARY KEY, rank REAL);
            CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, docs, 'row');
        """)
        self.n_docs = con.execute("SELECT count(*) FROM docs").fetchone()[0]
        self.df = dict(con.execute("SELECT term, doc FROM temp.vocab"))
        self.stems: dict[str, str] = {}

    def close(self) -> None:
        self.con.close()

    def page(self, q: dict) -> int:
        con = self.con
        match = fts_match(q["q"])
        where, params = "s.status = 'published'", []
        for name, values in q["filters"].items():
            for value in values:
                where += " AND s.id IN (SELECT story_id FROM facets WHERE name = ? AND value = ?)"
                params += [name, value]
        con.execute("DELETE FROM temp.hits")
        if match:
            con.execute(f"INSERT INTO temp.hits SELECT d.rowid, bm25(docs, 2.0, 1.0) FROM docs d "
                        f"JOIN stories s ON s.id = d.rowid WHERE docs MATCH ? AND {where}", [match] + params)
        else:
            con.execute(f"INSERT INTO temp.hits SELECT s.id, NULL FROM stories s WHERE {where}", params)
        total = con.execute("SELECT count(*) FROM temp.hits").fetchone()[0]
        con.execute("SELECT f.name, f.value, count(*) FROM temp.hits h JOIN facets f ON f.story_id = h.id "
                    "GROUP BY f.name, f.value").fetchall()
        if match and q["sort"] == "relevance":
            top = [r[0] for r in con.execute("SELECT id FROM temp.hits ORDER BY rank, id LIMIT 20")]
        else:
            top = [r[0] for r in con.execute("SELECT h.id FROM temp.hits h JOIN stories s ON s.id = h.id "
                                             "ORDER BY s.day DESC, s.id DESC LIMIT 20")]
        if match:
            for story_id in top:
                con.execute("SELECT snippet(docs, 1, '<mark>', '</mark>', '…', 24) FROM docs "
                            "WHERE docs MATCH ? AND rowid = ?", (match, story_id)).fetchall()
        if top:
            marks = ",".join("?" * len(top))
            con.execute(f"SELECT * FROM kb.stories WHERE id IN ({marks})", top).fetchall()
            self.similar(top[0])
        return total

    def similar(self, story_id: int, limit: int = 5) -> list[int]:
        title, content = self.con.execute("SELECT title, content FROM docs WHERE rowid = ?", (story_id,)).fetchone()
        counts = Counter(self._stem(w) for w in re.findall(r"\w+", (title + " " + title + " " + content[:5000]).lower())
                         if w not in STOP and len(w) > 2)
        weight = {t: tf * math.log(self.n_docs / self.df[t]) for t, tf in counts.items() if t in self.df}
        terms = heapq.nlargest(12, weight, key=weight.get)
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)
        return [r[0] for r in self.con.execute(
            "SELECT d.rowid FROM docs d JOIN stories s ON s.id = d.rowid WHERE docs MATCH ? AND d.rowid != ? "
            "AND s.status = 'published' ORDER BY bm25(docs, 2.0, 1.0) LIMIT ?", (match, story_id, limit))]

    def _stem(self, word: str) -> str:
        found = self.stems.get(word)
        if found is None:
            found = self.stems[word] = self.stem(word)
        return found

    def edit(self, n: int) -> float:
        con = self.con
        word = f"zqxedit{n}"
        story_id = 1 + n * 7
        started = time.perf_counter()
        title, content = con.execute("SELECT title, content FROM docs WHERE rowid = ?", (story_id,)).fetchone()
        con.execute("UPDATE docs SET title = ?, content = ? WHERE rowid = ?", (f"{title} {word}", f"{content} {word}", story_id))
        con.commit()
        found = con.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (f'"{word}"',)).fetchone()[0]
        elapsed = time.perf_counter() - started
        assert found == 1
        return elapsed


# Running ----------------------------------------------------------------------

OUT = Path(__file__).resolve().parent / "out"


def timed(fn, items, cpu: list | None = None):
    """Wall milliseconds of ``fn`` per item; with ``cpu``, its CPU milliseconds
    (this process's, which does all the work of both systems) appended there."""
    times = []
    for item in items:
        started, started_cpu = time.perf_counter(), time.process_time()
        fn(item)
        times.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - started_cpu) * 1000)
    return times


def corpus_key(size: int) -> str:
    """Names a generated corpus by its size and the code and stories it comes from."""
    digest = hashlib.blake2b(digest_size=6)
    for path in [Path(__file__).with_name("corpus.py"), *sorted(CORPUS_DIR.glob("*.jsonl"))]:
        digest.update(path.read_bytes())
    return f"corpus-{size}-{digest.hexdigest()}"


def corpus_database(size: int, folder: Path) -> None:
    """``folder/kb.sqlite3``: a migrated kb database holding ``size`` stories, copied
    from bench/out/ when the same corpus was generated before (it takes minutes)."""
    cached = OUT / corpus_key(size) / "kb.sqlite3"
    if not cached.exists():
        print(f"[{size:,} stories] generating corpus into {cached.parent} ...", file=sys.stderr, flush=True)
        work = Path(tempfile.mkdtemp(prefix=f"kb-corpus-{size}-", dir=OUT))
        load_into(kb_app(work), generate(size))
        cached.parent.mkdir(parents=True, exist_ok=True)
        (work / "kb.sqlite3").replace(cached)
        shutil.rmtree(work, ignore_errors=True)
    shutil.copyfile(cached, folder / "kb.sqlite3")


def build(size: int, folder: Path, reuse: bool) -> dict:
    """The kb database, kb index and FTS5 database in ``folder``, with the build figures.

    With ``reuse``, the last build of this corpus kept in bench/out/ is copied
    instead (its build figures are those measured when it was made)."""
    saved = OUT / corpus_key(size) / "built"
    if reuse and (saved / "figures.json").exists():
        print(f"[{size:,} stories] reusing the build in {saved} ...", file=sys.stderr, flush=True)
        shutil.copytree(saved, folder, dirs_exist_ok=True)
        return json.loads((saved / "figures.json").read_text())
    corpus_database(size, folder)
    app = kb_app(folder)
    print(f"[{size:,} stories] rebuilding the kb index ...", file=sys.stderr, flush=True)
    kb_rate, kb_size = kb_rebuild(app)
    print(f"[{size:,} stories] building FTS5 ...", file=sys.stderr, flush=True)
    fts_rate, fts_size = fts_build(folder / "kb.sqlite3", folder / "fts.sqlite3")
    figures = {"kb_rate": kb_rate, "kb_size": kb_size, "fts_rate": fts_rate, "fts_size": fts_size}
    (folder / "figures.json").write_text(json.dumps(figures))
    shutil.rmtree(saved, ignore_errors=True)
    shutil.copytree(folder, saved)
    return figures


def run(size: int, n_queries: int, keep: bool, reuse: bool) -> list[tuple]:
    OUT.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"kb-bench-{size}-"))
    try:
        figures = build(size, folder, reuse)
        app = kb_app(folder)
        queries = make_queries(n_queries)
        fts = Fts(folder / "fts.sqlite3", folder / "kb.sqlite3")
        with app.test_request_context():
            print(f"[{size:,} stories] {len(queries)} searches ...", file=sys.stderr, flush=True)
            for q in queries[:10]:  # warm both: the first search reads each segment's columns
                kb_page(app, q)
                fts.page(q)
            load = os.getloadavg()[0]
            kb_cpu, fts_cpu = [], []
            kb_times = timed(lambda q: kb_page(app, q), queries, kb_cpu)
            fts_times = timed(fts.page, queries, fts_cpu)
            load = max(load, os.getloadavg()[0])
            # kb serve trains the filing-suggestion model before it forks; here the
            # first save would train it (over a minute at 2,000 stories under load).
            from kb.services import suggestions

            suggestions.current_model()
            kb_edits = [kb_edit(app, n) * 1000 for n in range(1, 11)]
            fts_edits = [fts.edit(n) * 1000 for n in range(1, 11)]
        fts.close()
        return [
            ("rebuild (stories/s)", f"{figures['kb_rate']:,.0f}", f"{figures['fts_rate']:,.0f}"),
            ("index size (MB)", f"{figures['kb_size'] / 1e6:,.1f}", f"{figures['fts_size'] / 1e6:,.1f}"),
            ("search page p50 (ms)", f"{statistics.median(kb_times):.1f}", f"{statistics.median(fts_times):.1f}"),
            ("search page p95 (ms)", f"{percentile(kb_times, 95):.1f}", f"{percentile(fts_times, 95):.1f}"),
            ("search page max (ms)", f"{max(kb_times):.1f}", f"{max(fts_times):.1f}"),
            ("p95 kb / FTS5", f"{percentile(kb_times, 95) / percentile(fts_times, 95):.2f}x", ""),
            ("search page CPU p50 (ms)", f"{statistics.median(kb_cpu):.1f}", f"{statistics.median(fts_cpu):.1f}"),
            ("search page CPU p95 (ms)", f"{percentile(kb_cpu, 95):.1f}", f"{percentile(fts_cpu, 95):.1f}"),
            ("CPU p95 kb / FTS5", f"{percentile(kb_cpu, 95) / percentile(fts_cpu, 95):.2f}x", ""),
            ("load average (1 min, max)", f"{load:.2f}", ""),
            ("edit to searchable p50 (ms)", f"{statistics.median(kb_edits):.1f}", f"{statistics.median(fts_edits):.1f}"),
            ("edit to searchable max (ms)", f"{max(kb_edits):.1f}", f"{max(fts_edits):.1f}"),
        ]
    finally:
        if keep:
            print(f"[{size:,} stories] kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def print_table(size: int, searches: str, rows) -> None:
    print(f"\n{size:,} stories, {searches}")
    print(f"| {'measure':<28} | {'kb (Whoosh)':>12} | {'SQLite FTS5':>12} |")
    print(f"|{'-' * 30}|{'-' * 14}|{'-' * 14}|")
    for name, kb, fts in rows:
        print(f"| {name:<28} | {kb:>12} | {fts:>12} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, action="append", help="stories (repeatable; default 5000)")
    parser.add_argument("--queries", type=int, default=240, help="mixed searches per size (default 240)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the last kb index and FTS5 build of the same corpus from bench/out/")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    for size in args.size or [5000]:
        rows = run(size, args.queries, args.keep, args.reuse)
        print_table(size, f"{args.queries} mixed searches, the same on both", rows)


if __name__ == "__main__":
    main()
