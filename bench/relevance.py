"""Ranking quality of kb's search on a test collection, beside SQLite FTS5.

    .venv/bin/python bench/relevance.py                 # every collection in ../shared/eval
    .venv/bin/python bench/relevance.py ../shared/eval/cranfield --json

The collection folder holds ``docs.jsonl`` ({"id", "title", "text"}),
``queries.jsonl`` ({"id", "text"}) and ``qrels.tsv`` (query, doc, graded
relevance); with no folder named, every collection in ``../shared/eval`` that
has a ``docs.jsonl`` is measured, one table each and then their mean. Each
document becomes a published story (title, and its text as
the body) in a fresh SQLite database; each query goes through
``kb.search.search_stories``, the function the search page calls. FTS5
(porter tokenizer, title and text columns weighted as kb weighs them, bm25(),
query words OR-ed) ranks the same documents.
Prints nDCG@10, MAP@100 and Recall@100 with trec_eval's definitions.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sqlite3
import sys
import tempfile
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.corpus import SHARED  # noqa: E402


def read_collection(folder: Path):
    docs = [json.loads(line) for line in (folder / "docs.jsonl").open(encoding="utf-8") if line.strip()]
    queries = [json.loads(line) for line in (folder / "queries.jsonl").open(encoding="utf-8") if line.strip()]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for line in (folder / "qrels.tsv").open(encoding="utf-8"):
        parts = line.split()
        if len(parts) >= 3 and parts[2].lstrip("-").isdigit():
            qrels[parts[0]][parts[1]] = int(parts[2])
    return docs, queries, qrels


def ndcg(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    dcg = sum(judged.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def average_precision(ranked: list[str], judged: dict[str, int], k: int = 100) -> float:
    relevant = {doc for doc, g in judged.items() if g > 0}
    hits, total = 0, 0.0
    for i, doc in enumerate(ranked[:k]):
        if doc in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / len(relevant) if relevant else 0.0


def recall(ranked: list[str], judged: dict[str, int], k: int = 100) -> float:
    relevant = {doc for doc, g in judged.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def scores(runs: dict[str, list[str]], qrels) -> dict[str, float]:
    judged = [q for q in runs if qrels.get(q)]
    mean = lambda fn: sum(fn(runs[q], qrels[q]) for q in judged) / len(judged)  # noqa: E731
    return {"ndcg@10": round(mean(ndcg), 4), "map@100": round(mean(average_precision), 4),
            "recall@100": round(mean(recall), 4)}


def kb_runs(folder: Path, docs, queries) -> dict[str, list[str]]:
    from sqlalchemy import insert

    from kb import create_app, database, search
    from kb.extensions import db
    from kb.models import Story

    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
                      "SEARCH_SYNC_ON_START": False, "TESTING": True})
    now = datetime.now(timezone.utc)
    with app.app_context():
        database.upgrade()
        db.session.execute(insert(Story), [{
            "id": n, "title": (doc.get("title") or "")[:300] or f"Document {doc['id']}", "slug": f"doc-{n}",
            "kind": "report", "summary": "", "body": doc.get("text") or "", "status": "published",
            "place": "", "sector": "", "stage": "", "results": "", "featured": False, "review_note": "",
            "suggested_tags": [], "suggested_areas": [], "source": "eval", "source_id": str(doc["id"]),
            "created_at": now, "updated_at": now,
        } for n, doc in enumerate(docs, start=1)])
        db.session.commit()
        search.rebuild(app)
        doc_id = {n: str(doc["id"]) for n, doc in enumerate(docs, start=1)}
        runs = {}
        with app.test_request_context():
            for q in queries:
                results = search.search_stories(app, q["text"], per_page=100, snippets=False, suggest=False)
                runs[str(q["id"])] = [doc_id[i] for i in results.story_ids]
    return runs


def fts_runs(folder: Path, docs, queries) -> dict[str, list[str]]:
    """FTS5 over the title and the text, the title weighted as kb weighs it
    (kb's text field holds the title too, and the title field adds its weight)."""
    from kb.search.rank import FIELDS

    con = sqlite3.connect(folder / "fts.sqlite3")
    con.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, text, tokenize='porter unicode61')")
    con.executemany("INSERT INTO docs VALUES (?, ?, ?)",
                    [(str(d["id"]), d.get("title") or "", d.get("text") or "") for d in docs])
    ranking = f"bm25(docs, 0, {FIELDS['title']}, {FIELDS['content']})"
    runs = {}
    for q in queries:
        words = re.findall(r"\w+", q["text"].lower())
        match = " OR ".join(f'"{w}"' for w in words)
        rows = con.execute(f"SELECT id FROM docs WHERE docs MATCH ? ORDER BY {ranking} LIMIT 100",
                           (match,)).fetchall() if words else []
        runs[str(q["id"])] = [r[0] for r in rows]
    con.close()
    return runs


EVAL = SHARED / "eval"
SYSTEMS = (("kb", "kb (search_stories)"), ("fts5", "SQLite FTS5 bm25()"))
METRICS = ("ndcg@10", "map@100", "recall@100")


def collections(named: list[Path]) -> list[Path]:
    """The folders named, or every collection under ``EVAL`` with a docs.jsonl."""
    if named:
        return named
    return sorted(folder for folder in EVAL.iterdir() if (folder / "docs.jsonl").is_file())


def measure(collection: Path) -> dict:
    docs, queries, qrels = read_collection(collection)
    folder = Path(tempfile.mkdtemp(prefix="kb-relevance-"))
    try:
        return {"documents": len(docs), "queries": len(queries),
                "kb": scores(kb_runs(folder, docs, queries), qrels),
                "fts5": scores(fts_runs(folder, docs, queries), qrels)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def table(title: str, result: dict) -> str:
    lines = [title, f"| {'system':<22} | {'nDCG@10':>8} | {'MAP@100':>8} | {'Recall@100':>10} |",
             f"|{'-' * 24}|{'-' * 10}|{'-' * 10}|{'-' * 12}|"]
    for name, label in SYSTEMS:
        r = result[name]
        lines.append(f"| {label:<22} | {r['ndcg@10']:>8.3f} | {r['map@100']:>8.3f} | {r['recall@100']:>10.3f} |")
    diff = result["kb"]["ndcg@10"] - result["fts5"]["ndcg@10"]
    lines.append(f"kb - FTS5 nDCG@10: {diff:+.3f}")
    return "\n".join(lines)


def mean(results: dict) -> dict:
    return {name: {m: round(sum(r[name][m] for r in results.values()) / len(results), 4) for m in METRICS}
            for name, _ in SYSTEMS}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="nDCG@10, MAP@100 and Recall@100 of kb search and FTS5")
    parser.add_argument("collection", type=Path, nargs="*",
                        help="folders with docs.jsonl, queries.jsonl, qrels.tsv (default: every one in ../shared/eval)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args(argv)
    results = {}
    for collection in collections(args.collection):
        results[collection.name] = result = measure(collection)
        if not args.json:
            print(table(f"{collection.name}: {result['documents']:,} documents, {result['queries']} queries", result))
            print(flush=True)
    if args.json:
        print(json.dumps({"collections": results, "mean": mean(results)}))
    elif len(results) > 1:
        print(table(f"mean of {len(results)} collections", mean(results)))


if __name__ == "__main__":
    main()
