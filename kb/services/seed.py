"""Loading the seed stories and action areas, through the same services as everything else."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from kb.extensions import db
from kb.models import Story
from kb.services import stories, taxonomy

SEED_DIR = Path(__file__).resolve().parent.parent.parent / "seed_data"


def load_action_areas(actor, seed_dir: Path = SEED_DIR) -> int:
    areas = json.loads((seed_dir / "action_areas.json").read_text(encoding="utf-8"))
    for area in areas:
        taxonomy.upsert_action_area(actor, area["slug"], area["position"], area["name"], area["wording"])
    db.session.flush()
    return len(areas)


def find_imported(source: str, source_id: str) -> Story | None:
    return db.session.scalar(select(Story).where(Story.source == source, Story.source_id == source_id))


def load_seed(actor, seed_dir: Path = SEED_DIR) -> tuple[int, int]:
    """Load action areas and publish every seed story not loaded before.

    Returns (stories added, stories already present); a second run adds none.
    """
    load_action_areas(actor, seed_dir)
    records = json.loads((seed_dir / "stories.json").read_text(encoding="utf-8"))
    added = 0
    for record in records:
        if find_imported(record["source"], record["source_id"]) is not None:
            continue
        story = stories.create_story(actor, record, reason="Seed story")
        stories.publish_story(actor, story)
        added += 1
    return added, len(records) - added
