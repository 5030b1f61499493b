"""What the JSON API lists besides stories: tags and organisations, with how
many published stories each has. Read only."""
from __future__ import annotations

from sqlalchemy import func, select

from kb.extensions import db
from kb.models import Organisation, Story, Tag
from kb.models.story import StoryOrganisation, story_tags
from kb.services.listing import Page


def _page(query, count_query, page: int, per_page: int) -> Page:
    total = db.session.scalar(count_query) or 0
    rows = db.session.execute(query.limit(per_page).offset((max(1, page) - 1) * per_page)).all()
    return Page([(row[0], row[1]) for row in rows], total, max(1, page), per_page)


def tags_with_counts(page: int, per_page: int) -> Page:
    """Live (unmerged) tags by name, each as (tag, published story count)."""
    count = (
        select(func.count())
        .select_from(story_tags)
        .join(Story, Story.id == story_tags.c.story_id)
        .where(story_tags.c.tag_id == Tag.id, Story.is_published)
        .scalar_subquery()
    )
    query = select(Tag, count).where(Tag.merged_into_id.is_(None)).order_by(Tag.name, Tag.id)
    total = select(func.count(Tag.id)).where(Tag.merged_into_id.is_(None))
    return _page(query, total, page, per_page)


def organisations_with_counts(page: int, per_page: int) -> Page:
    """Organisations by name, each as (organisation, published story count)."""
    count = (
        select(func.count())
        .select_from(StoryOrganisation)
        .join(Story, Story.id == StoryOrganisation.story_id)
        .where(StoryOrganisation.organisation_id == Organisation.id, Story.is_published)
        .scalar_subquery()
    )
    query = select(Organisation, count).order_by(Organisation.name, Organisation.id)
    total = select(func.count(Organisation.id))
    return _page(query, total, page, per_page)
