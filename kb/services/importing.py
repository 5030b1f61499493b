"""Stories from an import, many at a time.

An import makes hundreds of stories a second, so the work that a web save does
one story at a time is done here for a batch at once: the tags, organisations
and people named are looked up once per import (``Lookup``), a story's address
is chosen from the addresses the import already knows, and the batch is written
with one flush, its revisions, audit events and index changes added together
(``finish``). ``import_story`` is the same for a single story (an import
isolating a record that failed in its batch). Filing suggestions are computed
for the imported stories together at the end (``suggestions.refresh_stories``),
not at each save.
"""
from __future__ import annotations

from sqlalchemy import select

from kb import policy
from kb.extensions import db
from kb.models import Organisation, Story, Tag, TagAlias
from kb.models.base import utcnow
from kb.models.story import PUBLISHED
from kb.services import stories, story_input, taxonomy
from kb.services.audit import record_event
from kb.services.changes import record_index_change
from kb.services.revisions import record_revisions


class Lookup:
    """The tags, organisations and people an import has named so far, by slug,
    and the addresses (slugs) of stories it knows, so that a record costs no
    query for a name seen before. Found through ``taxonomy`` the first time;
    a name new to kb is made once. Used for one batch at a time: a batch rolled
    back starts again from ``copy()`` taken before it."""

    def __init__(self, slugs: set[str]):
        self.slugs = slugs  # shared with the caller, who restores it with a batch rolled back
        self.found: dict[tuple[type, str], object] = {}

    def forget(self, slugs: set[str]) -> None:
        """Start again after a rollback: the objects made since are gone."""
        self.slugs = slugs
        self.found.clear()

    def story_slug(self, title: str) -> str:
        """An address for a new story with this title that no story it knows has."""
        base = taxonomy.make_slug(title)
        slug, n = base, 1
        while slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        self.slugs.add(slug)
        return slug

    def find_or_create_tags(self, actor, names: list[str]) -> list[Tag]:
        names = [taxonomy.clean_name(name)[:100] for name in names]
        slugs = {name: taxonomy.make_slug(name, 120) for name in names}
        missing = {slug for slug in slugs.values() if (Tag, slug) not in self.found}
        if missing:
            for tag in db.session.scalars(select(Tag).where(Tag.slug.in_(missing))):
                self.found[(Tag, tag.slug)] = tag.survivor
            for alias in db.session.scalars(select(TagAlias).where(TagAlias.slug.in_(missing))):
                self.found.setdefault((Tag, alias.slug), alias.tag.survivor)
        tags = []
        for name in names:
            tag = self.found.get((Tag, slugs[name]))
            if tag is None:
                policy.require(policy.can_create_tag(actor), f"Only curators can create the new tag “{name}”.")
                tag = Tag(name=name, slug=slugs[name], description="")
                db.session.add(tag)
                self.found[(Tag, slugs[name])] = tag
            if tag not in tags:
                tags.append(tag)
        return tags

    def find_or_create_named(self, model, names: list[str]) -> list:
        names = [taxonomy.clean_name(name) for name in names]
        slugs = {name: taxonomy.make_slug(name, 200) for name in names}
        missing = {slug for slug in slugs.values() if (model, slug) not in self.found}
        if missing:
            for item in db.session.scalars(select(model).where(model.slug.in_(missing))):
                self.found[(model, item.slug)] = item
        items = []
        for name in names:
            item = self.found.get((model, slugs[name]))
            if item is None:
                item = model(name=name, slug=slugs[name])
                if model is Organisation:
                    taxonomy.fill_home_authority(item)
                db.session.add(item)
                self.found[(model, slugs[name])] = item
            if item not in items:
                items.append(item)
        return items


def build_story(actor, data: dict, status: str, lookup: Lookup | None = None) -> tuple[Story, list[str]]:
    """A new story from an import, made straight in ``status`` (draft,
    submitted or published) with the checks of submitting and publishing, and
    added to the session unflushed; returns it with the review actions taken
    (for ``finish``). With a ``lookup``, names and the address come from it;
    without, from the database.

    :raise Forbidden: if the actor may not create, submit or publish it.
    :raise Invalid: if the fields are not a story, or not one ready for review.
    """
    policy.require(policy.can_create_story(actor), "Sign in to submit a story.")
    fields = story_input.clean_story_input({"title": "", **data}, complete=False)
    slug = lookup.story_slug(fields["title"]) if lookup else taxonomy.unique_slug(Story, fields["title"])
    # Empty collections from the start: a new story has nothing to load.
    story = Story(status="draft", kind="", title=fields["title"], slug=slug,
                  submitted_by_id=getattr(actor, "id", None), attachments=[], related=[], area_links=[],
                  links=[], tags=[], organisation_links=[], person_links=[], adoptions=[])
    with db.session.no_autoflush:
        stories.apply_fields(actor, story, fields, imported=True, names=lookup or taxonomy)
    db.session.add(story)
    actions = []
    if status in ("submitted", PUBLISHED):
        policy.require(policy.can_submit_story(actor, story), "This story cannot be submitted now.")
        stories.check_complete(story)
        story.status, story.submitted_at = "submitted", utcnow()
        actions.append("submit")
    if status == PUBLISHED:
        policy.require(policy.can_publish_story(actor, story), "Only curators can publish stories.")
        story.status, story.first_published_at = PUBLISHED, utcnow()
        actions.append("publish")
    return story, actions


def finish(actor, built: list[tuple[Story, list[str]]], reason: str) -> None:
    """Write stories made by ``build_story``: one flush, then each story's one
    revision, the audit event of each review action and its index change."""
    policy.require(policy.can_create_story(actor), "Sign in to submit a story.")
    if not built:
        return
    db.session.flush()
    made = [story for story, _ in built]
    record_revisions(actor, made, reason)
    for story, actions in built:
        for action in actions:
            record_event(actor, action, story, {"status": "submitted" if action == "submit" else PUBLISHED})
    record_index_change(*(story.id for story in made))


def flag_near_duplicates(flags: list[tuple[Story, str]]) -> None:
    """Flag each written story as a near-duplicate of the story at the slug given
    with it (``kb.likeness.title_key``), for curators to merge or dismiss."""
    if not flags:
        return
    ids = dict(db.session.execute(select(Story.slug, Story.id).where(Story.slug.in_({slug for _, slug in flags}))).all())
    for story, slug in flags:
        story.duplicate_of_id = ids.get(slug)
    db.session.flush()


def import_story(actor, data: dict, status: str, *, reason: str, lookup: Lookup | None = None) -> Story:
    """One story from an import (see ``build_story``), written at once."""
    story, actions = build_story(actor, data, status, lookup)
    finish(actor, [(story, actions)], reason)
    return story
