"""Search benchmark: kb's Whoosh search beside SQLite FTS5 doing the same work.

    .venv/bin/python bench/search.py                  # 5,000 stories
    .venv/bin/python bench/search.py --size 50000     # a few minutes
    .venv/bin/python bench/search.py --size 5000 --size 50000 --queries 300

For each size it builds a corpus (the real stories of ../shared/corpus, scaled
up with synthetic ones, see bench/corpus.py) in a fresh SQLite database, then
measures, for kb and for FTS5 (porter tokenizer, bm25()):
  - rebuild throughput (stories/s) and index size;
  - the search page's work over mixed queries (query, facet counts over the
    whole result set, snippets, the page's rows, similar stories), p50/p95;
  - edit to searchable: save one story and find it by a new word.
"""
from __future__ import annotations

import argparse
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

from bench.corpus import AREAS, KINDS, generate, load_into, real_records  # noqa: E402

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


def kb_page(q: dict):
    """The search page's work: results, facets, snippets, rows, similar stories."""
    from kb import search

    results = search.search_stories(q["q"], q["filters"], q["sort"], 1, 20)
    rows = search.load_hits(results)
    if rows:
        search.similar_stories(rows[0][0].id, 5)
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
    found = search.search_stories(word, snippets=False).total
    elapsed = time.perf_counter() - started
    assert found == 1, f"edited story not found ({found})"
    return elapsed


# FTS5 -------------------------------------------------------------------------

def fts_build(kb_db: Path, path: Path) -> tuple[float, int]:
    """Build an FTS5 index and a facet table from the kb database's stories."""
    con = sqlite3.connect(path)
    con.execute(f"ATTACH DATABASE '{kb_db}' AS kb")
    started = time.perf_counter()
    con.executescript("""
        CREATE VIRTUAL TABLE docs USING fts5(title, content, tokenize='porter unicode61');
        CREATE TABLE stories(id INTEGER PRIMARY KEY, day TEXT, status TEXT);
        CREATE TABLE facets(story_id INTEGER, name TEXT, value TEXT);
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
    con.executemany("INSERT INTO facets VALUES (?, ?, ?)", facets)
    con.execute("""INSERT INTO facets SELECT st.story_id, 'tag', t.slug FROM kb.story_tags st JOIN kb.tags t ON t.id = st.tag_id""")
    con.execute("""INSERT INTO facets SELECT so.story_id, 'org', o.slug FROM kb.story_organisations so
                   JOIN kb.organisations o ON o.id = so.organisation_id""")
    con.execute("""INSERT INTO facets SELECT sa.story_id, 'area', a.slug FROM kb.story_action_areas sa
                   JOIN kb.action_areas a ON a.id = sa.action_area_id""")
    con.execute("CREATE INDEX facets_story ON facets(story_id)")
    con.execute("CREATE INDEX facets_value ON facets(name, value)")
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


def fts_page(con, q: dict):
    match = fts_match(q["q"])
    where, params = ["s.status = 'published'"], []
    if match:
        where.append("s.id IN (SELECT rowid FROM docs WHERE docs MATCH ?)")
        params.append(match)
    for name, values in q["filters"].items():
        for value in values:
            where.append("s.id IN (SELECT story_id FROM facets WHERE name = ? AND value = ?)")
            params += [name, value]
    matched = f"SELECT s.id FROM stories s WHERE {' AND '.join(where)}"
    total = con.execute(f"SELECT count(*) FROM ({matched})", params).fetchone()[0]
    con.execute(f"SELECT name, value, count(*) FROM facets WHERE story_id IN ({matched}) GROUP BY name, value",
                params).fetchall()
    if match and q["sort"] == "relevance":
        rows = con.execute(
            f"SELECT rowid, snippet(docs, 1, '<mark>', '</mark>', '…', 24) FROM docs WHERE docs MATCH ? "
            f"AND rowid IN ({matched}) ORDER BY bm25(docs, 2.0, 1.0) LIMIT 20", [match] + params).fetchall()
    elif match:
        rows = con.execute(
            f"SELECT d.rowid, snippet(docs, 1, '<mark>', '</mark>', '…', 24) FROM docs d JOIN stories s ON s.id = d.rowid "
            f"WHERE docs MATCH ? AND d.rowid IN ({matched}) ORDER BY s.day DESC LIMIT 20", [match] + params).fetchall()
    else:
        rows = con.execute(f"{matched} ORDER BY s.day DESC, s.id DESC LIMIT 20", params).fetchall()
    if rows:
        fts_similar(con, rows[0][0])
    return total


def fts_similar(con, story_id: int):
    title, content = con.execute("SELECT title, content FROM docs WHERE rowid = ?", (story_id,)).fetchone()
    words = [w for w in re.findall(r"[a-z]+", (title + " " + content[:5000]).lower()) if w not in STOP and len(w) > 3]
    terms = [w for w, _ in Counter(words).most_common(12)]
    if not terms:
        return []
    match = " OR ".join(f'"{t}"' for t in terms)
    return con.execute("SELECT rowid FROM docs WHERE docs MATCH ? AND rowid != ? ORDER BY bm25(docs) LIMIT 5",
                       (match, story_id)).fetchall()


def fts_edit(con, n: int) -> float:
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

def timed(fn, items):
    times = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def run(size: int, n_queries: int, keep: Path | None, fts_queries: int) -> list[tuple]:
    folder = Path(tempfile.mkdtemp(prefix=f"kb-bench-{size}-"))
    try:
        print(f"[{size:,} stories] generating corpus in {folder} ...", file=sys.stderr, flush=True)
        app = kb_app(folder)
        load_into(app, generate(size))
        print(f"[{size:,} stories] rebuilding the kb index ...", file=sys.stderr, flush=True)
        kb_rate, kb_size = kb_rebuild(app)
        print(f"[{size:,} stories] building FTS5 ...", file=sys.stderr, flush=True)
        fts_rate, fts_size = fts_build(folder / "kb.sqlite3", folder / "fts.sqlite3")
        queries = make_queries(n_queries)
        con = sqlite3.connect(folder / "fts.sqlite3")
        with app.test_request_context():
            print(f"[{size:,} stories] {len(queries)} searches ...", file=sys.stderr, flush=True)
            for q in queries[:10]:  # warm both: the first search reads each segment's columns
                kb_page(q)
                fts_page(con, q)
            kb_times = timed(kb_page, queries)
            # FTS5's similar-stories query (12 words OR-ed, ranked by bm25) is slow
            # on big corpora, so it runs the first --fts-queries of the same mix.
            fts_times = timed(lambda q: fts_page(con, q), queries[:fts_queries])
            kb_edits = [kb_edit(app, n) * 1000 for n in range(1, 11)]
            fts_edits = [fts_edit(con, n) * 1000 for n in range(1, 11)]
        con.close()
        rows = [
            ("rebuild (stories/s)", f"{kb_rate:,.0f}", f"{fts_rate:,.0f}"),
            ("index size (MB)", f"{kb_size / 1e6:,.1f}", f"{fts_size / 1e6:,.1f}"),
            ("search page p50 (ms)", f"{statistics.median(kb_times):.1f}", f"{statistics.median(fts_times):.1f}"),
            ("search page p95 (ms)", f"{percentile(kb_times, 95):.1f}", f"{percentile(fts_times, 95):.1f}"),
            ("search page max (ms)", f"{max(kb_times):.1f}", f"{max(fts_times):.1f}"),
            ("edit to searchable p50 (ms)", f"{statistics.median(kb_edits):.1f}", f"{statistics.median(fts_edits):.1f}"),
            ("edit to searchable max (ms)", f"{max(kb_edits):.1f}", f"{max(fts_edits):.1f}"),
        ]
        return rows
    finally:
        if keep is None:
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
    parser.add_argument("--fts-queries", type=int, default=60, help="searches timed on FTS5 (default 60)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    for size in args.size or [5000]:
        rows = run(size, args.queries, Path("keep") if args.keep else None, args.fts_queries)
        print_table(size, f"{args.queries} mixed searches (FTS5: the first {min(args.queries, args.fts_queries)})", rows)


if __name__ == "__main__":
    main()
