from sqlalchemy import func, select

from kb.extensions import db
from kb.models import Revision, Story


def snapshot(story: Story) -> dict:
    """Everything a revision keeps of a story, in the domain's field names."""
    return {
        "title": story.title,
        "slug": story.slug,
        "kind": story.kind,
        "summary": story.summary or "",
        "body": story.body or "",
        "status": story.status,
        "published_on": story.published_on.isoformat() if story.published_on else None,
        "organisations": [o.name for o in story.organisations],
        "people": [p.name for p in story.people],
        "place": story.place or "",
        "sector": story.sector or "",
        "stage": story.stage or "",
        "evidence": story.evidence or "",
        "links": [
            {"url": link.url, "title": link.title, "rel": link.rel, "tags": list(link.tags or [])}
            for link in story.links
        ],
        "attachments": [
            {"filename": a.filename, "sha256": a.sha256, "size": a.size, "content_type": a.content_type}
            for a in story.attachments
        ],
        "action_areas": [
            {"slug": link.action_area.slug, "reason": link.reason or ""}
            for link in sorted(story.area_links, key=lambda link: link.action_area.position)
        ],
        "tags": [t.name for t in story.tags],
        "related": [s.slug for s in story.related],
        "featured": bool(story.featured),
        "suggested_tags": list(story.suggested_tags or []),
        "suggested_areas": list(story.suggested_areas or []),
    }


def record_revision(actor, story: Story, reason: str) -> Revision:
    """Keep the story's state as it is now, as its next revision."""
    db.session.flush()
    last = db.session.scalar(select(func.max(Revision.number)).where(Revision.story_id == story.id))
    revision = Revision(
        story_id=story.id,
        number=(last or 0) + 1,
        user_id=getattr(actor, "id", None),
        reason=reason,
        snapshot=snapshot(story),
    )
    db.session.add(revision)
    return revision
