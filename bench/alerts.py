"""Alerts benchmark: how long ``kb alerts send`` takes for many saved searches.

    .venv/bin/python bench/alerts.py                          # 2,276 stories, 100 saved searches
    .venv/bin/python bench/alerts.py --size 5000 --searches 500 --new 20

Builds a corpus (the real stories of ../shared/corpus, scaled up with
synthetic ones, see bench/corpus.py) in a fresh SQLite database and index,
saves searches (words of real titles, some with a filter) for as many people,
publishes new stories through the services, then times ``send_alerts`` (the
alerts queued and written as .eml files, as without KB_SMTP_URL): the first run,
which finds and sends, and a second run, which must send nothing.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import generate, load_into  # noqa: E402

STOP = set("a an and are as at be by for from has have in is it its of on or that the this to was were will "
           "with we our you your how what why".split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2276)
    parser.add_argument("--searches", type=int, default=100)
    parser.add_argument("--new", type=int, default=20, help="stories published after the searches were saved")
    options = parser.parse_args()

    from kb import create_app, database, search
    from kb.policy import SYSTEM
    from kb.services import alerts, stories, users

    rng = random.Random(7)
    folder = Path(tempfile.mkdtemp(prefix="kb-bench-alerts-"))
    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
                      "SEARCH_SYNC_ON_START": False, "SMTP_URL": "", "BASE_URL": "http://127.0.0.1:5000"})
    corpus = generate(options.size + options.new)
    old, new = corpus[:options.size], corpus[options.size:]
    with app.app_context():
        database.upgrade()
    load_into(app, old)
    with app.app_context():
        started = time.perf_counter()
        search.rebuild(app)
        print(f"corpus: {len(old):,} stories, indexed in {time.perf_counter() - started:.1f} s")
        words = [w for s in old for w in re.findall(r"[a-z]{4,}", s["title"].lower()) if w not in STOP]
        for n in range(options.searches):
            user = users.create_user(SYSTEM, f"reader{n}@example.org", "a long enough password 1")
            q = " ".join(rng.sample(words, rng.choice((1, 1, 2))))
            filters = {"kind": [rng.choice(("case_study", "report", "blog_post"))]} if n % 4 == 0 else {}
            alerts.save_search(user, {"q": q, "filters": filters}, f"Search {n}", "immediately")
        database.commit(app)
        for record in new:
            story = stories.create_story(SYSTEM, {"title": record["title"], "kind": "case_study",
                                                  "summary": record["summary"] or record["title"],
                                                  "body": record["body"]})
            stories.publish_story(SYSTEM, story)
        database.commit(app)
        print(f"saved searches: {options.searches:,}; new stories: {len(new)}")

        commit = lambda: database.commit(app)  # noqa: E731
        for label in ("first run", "second run"):
            started = time.perf_counter()
            run = alerts.send_alerts(commit)
            elapsed = time.perf_counter() - started
            sent = sum(count for _, _, count in run.sent)
            print(f"{label}: {elapsed:.2f} s, {run.checked} searches checked "
                  f"({1000 * elapsed / max(1, run.checked):.1f} ms each), {len(run.sent)} alerts, {sent} story mentions")


if __name__ == "__main__":
    main()
