"""How well kb files stories under the four action areas.

    bench/classify.py TRAIN_DIR [TEST_DIR] [--json] [--folds 5]

Each directory is a labelled set in the format of ``shared/eval/areas``
(``items.jsonl`` as in the corpus, ``labels.jsonl`` with ``areas`` and
``disputed`` per record). With one directory: 5-fold cross-validation
(shuffled, seed 0); with two: train on the first, test on the second.

kb is measured through the code that makes the curators' suggestions, in a
temporary instance per fold: every record is imported as a published story
(``kb.importers``), the training records are filed under their areas and
their other areas declined, as curators would (``kb.services.filing``), and
``suggestions.refresh`` retrains and suggests; the test records' stored
suggestions are then scored. Both of kb's methods (``wording``, ``learned``)
run on the same instance, beside the plain baseline of the set's README
(TF-IDF + logistic regression per area, threshold 0.5).

Scores leave out disputed (record, area) pairs. Bulk precision and coverage
are those of the suggestions at the bulk-filing confidence: how many of them
are true filings, and what share of all true filings they reach.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb import classifier  # noqa: E402

AREAS = classifier.AREAS


def read_set(folder: Path) -> list[dict]:
    items = [json.loads(line) for line in (folder / "items.jsonl").open() if line.strip()]
    labels = {(r["source"], r["source_id"]): r for r in map(json.loads, (folder / "labels.jsonl").open())}
    out = []
    for item in items:
        label = labels.get((item["source"], item["source_id"]))
        if label is not None:
            out.append({"item": item, "areas": set(label["areas"]), "disputed": set(label.get("disputed", []))})
    return out


def folds(records: list, k: int) -> list[tuple[list, list]]:
    """The README's folds: shuffled with seed 0 as scikit-learn's KFold does."""
    from sklearn.model_selection import KFold

    return [([records[i] for i in train], [records[i] for i in test])
            for train, test in KFold(k, shuffle=True, random_state=0).split(records)]


# kb -----------------------------------------------------------------------------

def kb_predictions(train: list, test: list, methods=classifier.METHODS) -> dict[str, list[dict[str, float]]]:
    """Per method, per test record, the stored confidence of each area."""
    from sqlalchemy import select

    from kb import create_app, database
    from kb.extensions import db
    from kb.importers.pipeline import import_file
    from kb.models import AreaSuggestion, Story
    from kb.policy import SYSTEM
    from kb.services import filing, seed, stories, suggestions

    with tempfile.TemporaryDirectory(prefix="kb-classify-") as tmp:
        folder = Path(tmp)
        app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
                          "SEARCH_SYNC_ON_START": False, "TESTING": True})
        with app.app_context():
            database.upgrade()
            seed.load_action_areas(SYSTEM)
            database.commit(app)
            data = "\n".join(json.dumps(r["item"]) for r in train + test).encode()
            report = import_file(SYSTEM, data, "jsonl", status="published", app=app)
            if report.count("imported") != len(train) + len(test):
                raise SystemExit(f"import: {report.counts}")
            key = {(s.source, s.source_id): s for s in db.session.scalars(select(Story))}
            for record in train:
                story = key[(record["item"]["source"], record["item"]["source_id"])]
                if record["areas"]:
                    stories.update_story(SYSTEM, story, {"action_areas": [
                        {"slug": a, "reason": ""} for a in AREAS if a in record["areas"]]})
                for area in AREAS:
                    if area not in record["areas"] and area not in record["disputed"]:
                        filing.decline_area(SYSTEM, story, area)
            database.commit(app)
            out = {}
            for method in methods:
                app.config["SUGGEST_METHOD"] = method
                suggestions.refresh(SYSTEM)
                database.commit(app)
                stored = {}
                for row in db.session.scalars(select(AreaSuggestion)):
                    stored.setdefault(row.story_id, {})[row.action_area.slug] = row.confidence
                out[method] = [stored.get(key[(r["item"]["source"], r["item"]["source_id"])].id, {}) for r in test]
            db.session.remove()
            db.engine.dispose()
    return out


# The plain baseline of the README --------------------------------------------------

def baseline_predictions(train: list, test: list) -> list[dict[str, float]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    def text(item):
        return " ".join((item["title"], item["title"], item.get("summary", ""), item.get("body", "")))

    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2, stop_words="english")
    x_train = vectorizer.fit_transform([text(r["item"]) for r in train])
    x_test = vectorizer.transform([text(r["item"]) for r in test])
    out = [{} for _ in test]
    for area in AREAS:
        rows = [i for i, r in enumerate(train) if area not in r["disputed"]]
        labels = [area in train[i]["areas"] for i in rows]
        model = LogisticRegression(C=4, class_weight="balanced", max_iter=5000).fit(x_train[rows], labels)
        for row, p in zip(out, model.predict_proba(x_test)[:, list(model.classes_).index(True)]):
            row[area] = float(p)
    return out


# Scoring --------------------------------------------------------------------------

def score(records: list, predictions: list[dict[str, float]], show: float, bulk: float) -> dict:
    counts = {a: [0, 0, 0] for a in AREAS}
    bulk_tp = bulk_fp = positives = 0
    for record, predicted in zip(records, predictions):
        for area in AREAS:
            if area in record["disputed"]:
                continue
            truth = area in record["areas"]
            confidence = predicted.get(area, 0.0)
            c = counts[area]
            c[0] += truth and confidence >= show
            c[1] += confidence >= show and not truth
            c[2] += truth and confidence < show
            positives += truth
            if confidence >= bulk:
                bulk_tp += truth
                bulk_fp += not truth

    def f1(tp, fp, fn):
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    per_area = {a: round(f1(*counts[a]), 4) for a in AREAS}
    pooled = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {
        "macro_f1": round(sum(per_area.values()) / len(AREAS), 4),
        "micro_f1": round(f1(*pooled), 4),
        "per_area": per_area,
        "bulk_precision": round(bulk_tp / (bulk_tp + bulk_fp), 4) if bulk_tp + bulk_fp else 0.0,
        "bulk_coverage": round(bulk_tp / positives, 4) if positives else 0.0,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train_dir", type=Path)
    parser.add_argument("test_dir", type=Path, nargs="?")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)

    records = read_set(args.train_dir)
    splits = [(records, read_set(args.test_dir))] if args.test_dir else folds(records, args.folds)
    tested: list = []
    kb_out = {m: [] for m in classifier.METHODS}
    base_out: list = []
    started = time.perf_counter()
    for number, (train, test) in enumerate(splits, start=1):
        print(f"split {number}/{len(splits)}: train {len(train)}, test {len(test)}", file=sys.stderr, flush=True)
        for method, predicted in kb_predictions(train, test).items():
            kb_out[method].extend(predicted)
        base_out.extend(baseline_predictions(train, test))
        tested.extend(test)
    elapsed = time.perf_counter() - started

    show, bulk = classifier.SHOW_CONFIDENCE, classifier.BULK_CONFIDENCE
    results = {f"kb {m}": score(tested, kb_out[m], show, bulk) for m in classifier.METHODS}
    results["baseline"] = score(tested, base_out, 0.5, bulk)
    kind = "train/test" if args.test_dir else f"{args.folds}-fold cross-validation"
    print(f"{len(tested)} records, {kind}; suggestion shown from {show:.2f}, bulk filing from {bulk:.2f}; "
          f"{elapsed:.0f} s")
    header = ["method", *AREAS, "macro-F1", "micro-F1", "bulk precision", "bulk coverage"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, r in results.items():
        cells = [name, *(f"{r['per_area'][a]:.3f}" for a in AREAS), f"{r['macro_f1']:.3f}", f"{r['micro_f1']:.3f}",
                 f"{r['bulk_precision']:.3f}", f"{r['bulk_coverage']:.3f}"]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        print(json.dumps({"kb": results[f"kb {classifier.DEFAULT_METHOD}"], "baseline": results["baseline"],
                          "methods": {m: results[f"kb {m}"] for m in classifier.METHODS}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
