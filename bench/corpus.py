"""A benchmark corpus: the real stories of ``../shared/corpus/*.jsonl``, scaled up
with synthetic stories whose text comes from a word-bigram model of the real
ones (so word frequencies, vocabulary and lengths look like real stories).

    from bench.corpus import generate, load_into
    stories = generate(5000, seed=1)      # list of dicts
    load_into(app, stories)               # bulk insert into an empty, migrated kb database

Bulk inserts go straight to the tables (a benchmark needs 50,000 stories in
seconds, not through the services' revisions and audit trail).
"""
from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

from kb import dates

ROOT = Path(__file__).resolve().parent.parent
# ``../shared`` beside the repository, or beside a folder holding it (a worktree).
SHARED = next((parent / "shared" for parent in ROOT.parents if (parent / "shared" / "corpus").is_dir()),
              ROOT.parent / "shared")
CORPUS_DIR = SHARED / "corpus"
KINDS = ["report", "camp_writeup", "talk", "blog_post", "case_study", "reading_list", "link"]
STAGES = ["", "idea", "pilot", "implemented", "scaling", "mainstream"]
AREAS = ["conditions", "culture", "networks", "evaluation"]
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+|[.,;:]")


def real_records(folder: Path = CORPUS_DIR) -> list[dict]:
    records = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            records.extend(json.loads(line) for line in handle if line.strip())
    return records


class Bigrams:
    """Generates text word by word from the bigrams of real text."""

    def __init__(self, texts, rng: random.Random) -> None:
        following = defaultdict(list)
        for text in texts:
            words = _WORD.findall(text)
            for a, b in zip(words, words[1:]):
                following[a].append(b)
        self.following = dict(following)
        self.starts = [w for w in self.following if w[0].isupper()] or list(self.following)
        self.rng = rng

    def words(self, n: int) -> list[str]:
        rng, following = self.rng, self.following
        word = rng.choice(self.starts)
        out = [word]
        while len(out) < n:
            nxt = following.get(word)
            word = rng.choice(nxt) if nxt else rng.choice(self.starts)
            out.append(word)
        return out

    def text(self, n: int) -> str:
        text = " ".join(self.words(n))
        return re.sub(r" ([.,;:])", r"\1", text)


def _story_from_record(record: dict, rng: random.Random) -> dict:
    try:
        published = dates.parse(record.get("date"))
    except ValueError:
        published = None
    kind = record.get("kind") if record.get("kind") in KINDS else rng.choice(KINDS)
    org = record.get("organisation") or ""
    return {
        "title": (record.get("title") or "Untitled")[:300],
        "summary": (record.get("summary") or "")[:1000],
        "body": record.get("body") or "",
        "place": (record.get("place") or "")[:200],
        "kind": kind,
        "stage": rng.choice(STAGES),
        "published_on": published,
        "tags": [t.strip()[:100] for t in record.get("tags") or [] if t and t.strip()][:6],
        "organisations": [org[:200]] if org else [],
        "areas": rng.sample(AREAS, rng.randint(1, 2)),
    }


def generate(size: int, seed: int = 1) -> list[dict]:
    """``size`` stories: the real ones first, then synthetic ones."""
    rng = random.Random(seed)
    records = real_records()
    stories = [_story_from_record(r, rng) for r in records[:size]]
    if len(stories) >= size:
        return stories
    bodies = Bigrams(((r.get("body") or "") + " " + (r.get("summary") or "") for r in records), rng)
    titles = Bigrams(((r.get("title") or "") + "." for r in records), rng)
    tags = sorted({t for s in stories for t in s["tags"]}) or ["innovation"]
    orgs = sorted({o for s in stories for o in s["organisations"]}) or ["Council"]
    while len(stories) < size:
        body_words = int(rng.lognormvariate(6.0, 0.6))  # median ~400 words, long tail
        stories.append({
            "title": titles.text(rng.randint(4, 11)).rstrip(".,;:")[:300],
            "summary": bodies.text(rng.randint(15, 40))[:1000],
            "body": bodies.text(min(body_words, 5000)),
            "place": "",
            "kind": rng.choice(KINDS),
            "stage": rng.choice(STAGES),
            "published_on": dates.PartialDate(date(rng.randint(2005, 2024), rng.randint(1, 12), rng.randint(1, 28))),
            "tags": rng.sample(tags, rng.randint(1, 4)),
            "organisations": [rng.choice(orgs)],
            "areas": rng.sample(AREAS, rng.randint(1, 2)),
        })
    return stories


def load_into(app, stories: list[dict]) -> None:
    """Insert ``stories`` (published) into the app's empty, migrated database
    (then ANALYZE it on PostgreSQL)."""
    from datetime import datetime, timezone

    from sqlalchemy import insert, select

    from kb.extensions import db
    from kb.models import ActionArea, Organisation, Story, Tag
    from kb.models.story import StoryActionArea, StoryOrganisation, story_tags
    from kb.services.taxonomy import make_slug

    now = datetime.now(timezone.utc)
    with app.app_context():
        session = db.session
        for n, slug in enumerate(AREAS, start=1):
            session.execute(insert(ActionArea).values(slug=slug, position=n, name=slug.capitalize(), wording=slug))
        tag_ids = _named(session, Tag, {t for s in stories for t in s["tags"]}, now, make_slug)
        org_ids = _named(session, Organisation, {o for s in stories for o in s["organisations"]}, now, make_slug)
        area_ids = dict(session.execute(select(ActionArea.slug, ActionArea.id)).all())
        for start in range(0, len(stories), 2000):
            chunk = stories[start:start + 2000]
            rows = [{
                "id": start + i + 1, "title": s["title"], "slug": f"story-{start + i + 1}", "kind": s["kind"],
                "summary": s["summary"], "body": s["body"], "status": "published",
                "published_on": s["published_on"] and s["published_on"].day,
                "published_on_precision": s["published_on"] and s["published_on"].precision or "", "place": s["place"], "sector": "", "stage": s["stage"],
                "results": "", "featured": False, "review_note": "", "suggested_tags": [], "suggested_areas": [],
                "source": "bench", "source_id": str(start + i + 1), "created_at": now, "updated_at": now,
            } for i, s in enumerate(chunk)]
            session.execute(insert(Story), rows)
            session.execute(insert(story_tags), [
                {"story_id": r["id"], "tag_id": tag_ids[t]} for r, s in zip(rows, chunk) for t in dict.fromkeys(s["tags"])
                if t in tag_ids])
            org_rows = [{"story_id": r["id"], "organisation_id": org_ids[o], "position": 0}
                        for r, s in zip(rows, chunk) for o in s["organisations"][:1] if o in org_ids]
            if org_rows:
                session.execute(insert(StoryOrganisation), org_rows)
            session.execute(insert(StoryActionArea), [
                {"story_id": r["id"], "action_area_id": area_ids[a], "reason": ""} for r, s in zip(rows, chunk)
                for a in s["areas"]])
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            # Planner statistics for the rows just loaded, as autovacuum would
            # gather them on a server where it runs; without them PostgreSQL
            # plans for nearly empty tables (nested loops over 5,000 stories).
            from sqlalchemy import text

            session.execute(text("ANALYZE"))
            session.commit()


def _named(session, model, names, now, make_slug) -> dict[str, int]:
    from sqlalchemy import insert

    ids, slugs = {}, set()
    rows = []
    for name in sorted(n for n in names if n):
        slug = make_slug(name, 100)
        if slug in slugs:
            continue
        slugs.add(slug)
        ids[name] = len(rows) + 1
        rows.append({"id": len(rows) + 1, "name": name[:100], "slug": slug, "description": "",
                     "created_at": now, "updated_at": now, **({"url": ""} if hasattr(model, "url") else {})})
    if rows:
        session.execute(insert(model), rows)
    return ids
