"""How long a bulk curation change touching many stories takes to be searchable.

    .venv/bin/python bench/bulk_curation.py [--stories 1200] [--database-url URL]

Creates N published stories through the services in a temporary instance
folder (SQLite unless --database-url), then adds a tag to all of them as a
curator would (``review.apply_bulk_change`` and the commit that syncs search),
and prints how long until a search by the new tag finds all of them, and
whether ``kb index verify`` is clean afterwards. Prints figures; asserts nothing
about time.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kb import create_app, database, search
from kb.policy import SYSTEM
from kb.services import review, seed, stories


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=1200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kb-bench-bulk-"))
    config = {"INSTANCE_PATH": str(folder), "SEARCH_SYNC_ON_START": False}
    if args.database_url:
        config["SQLALCHEMY_DATABASE_URI"] = args.database_url
    app = create_app(config)
    with app.app_context():
        database.upgrade()
        seed.load_action_areas(SYSTEM)
        started = time.perf_counter()
        ids = []
        for n in range(args.stories):
            story = stories.create_story(SYSTEM, {"title": f"Bench story {n}", "kind": "case_study",
                                                  "summary": f"Summary {n} about libraries.", "tags": ["Libraries"]})
            stories.publish_story(SYSTEM, story)
            ids.append(story.id)
            if n % 200 == 199:
                database.commit(app)
        database.commit(app)
        print(f"created {len(ids)} published stories in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        plan = review.apply_bulk_change(SYSTEM, ids, "add_tag", "Bulk bench tag")
        changed = time.perf_counter()
        database.commit(app)  # commits, then syncs the index from the change log
        committed = time.perf_counter()
        found = search.search_stories(app, "tag:bulk-bench-tag", per_page=1).total
        searchable = time.perf_counter()
        print(f"bulk change of {len(plan.changing)} stories: services {changed - started:.2f} s, "
              f"commit + index sync {committed - changed:.2f} s, first search {searchable - committed:.2f} s; "
              f"searchable after {searchable - started:.2f} s in all")
        print(f"search by the new tag finds {found} of {len(ids)}")
        started = time.perf_counter()
        drift = search.verify(app)
        print(f"kb index verify: {'clean' if drift.clean else 'DRIFT: ' + '; '.join(drift.lines()[:5])} "
              f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
