"""The tag vocabulary: list with usage, create, rename, merge, aliases,
descriptions, delete, and finding near-duplicates.

The search index holds each story's tag names and aliases, so every change to
a tag's name or aliases notes an index change for each story carrying it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from kb import policy
from kb.errors import Conflict, Invalid, NotFound
from kb.extensions import db
from kb.models import Story, Tag, TagAlias
from kb.models.story import story_tags
from kb.services import taxonomy
from kb.services.audit import record_event
from kb.services.changes import record_index_change
from kb.services.fetch import by_id

MAX_NAME = 100


@dataclass
class TagUsage:
    tag: Tag
    stories: int
    published: int


# Reading -------------------------------------------------------------------

def get_tag(viewer, tag_id: int) -> Tag:
    """The tag with this id.

    :raise Forbidden: unless the viewer manages tags.
    :raise NotFound: if there is no such tag.
    """
    policy.require(policy.can_manage_tags(viewer), "Only curators can manage tags.")
    return by_id(Tag, tag_id, "There is no such tag.")


def list_tags(viewer, text: str = "", *, include_merged: bool = False) -> list[TagUsage]:
    """Every live tag (optionally merged ones too) whose name, slug or alias
    contains ``text``, with how many stories carry it, by name.

    :raise Forbidden: unless the viewer manages tags.
    """
    policy.require(policy.can_manage_tags(viewer), "Only curators can manage tags.")
    total = func.count(story_tags.c.story_id)
    published = func.count(Story.id)
    query = (
        select(Tag, total, published)
        .outerjoin(story_tags, story_tags.c.tag_id == Tag.id)
        .outerjoin(Story, (Story.id == story_tags.c.story_id) & (Story.is_published))
        .group_by(Tag.id)
        .order_by(func.lower(Tag.name), Tag.id)
    )
    if not include_merged:
        query = query.where(Tag.merged_into_id.is_(None))
    text = taxonomy.clean_name(text)
    if text:
        pattern = f"%{text.lower()}%"
        alias_match = select(TagAlias.tag_id).where(func.lower(TagAlias.name).like(pattern))
        query = query.where(
            func.lower(Tag.name).like(pattern) | Tag.slug.like(f"%{taxonomy.make_slug(text, 120)}%")
            | Tag.id.in_(alias_match)
        )
    return [TagUsage(tag, count, pub) for tag, count, pub in db.session.execute(query)]


def story_ids_with_tag(tag: Tag) -> list[int]:
    return list(db.session.scalars(select(story_tags.c.story_id).where(story_tags.c.tag_id == tag.id)))


def usage_count(tag: Tag) -> int:
    return db.session.scalar(select(func.count()).select_from(story_tags).where(story_tags.c.tag_id == tag.id)) or 0


# Names ---------------------------------------------------------------------

def _clean(name: str, field: str = "name") -> str:
    name = taxonomy.clean_name(name)
    if not name:
        raise Invalid("Enter a name.", {field: "Enter a name for the tag."})
    if len(name) > MAX_NAME:
        message = f"A tag name must be {MAX_NAME} characters or fewer."
        raise Invalid(message, {field: message})
    return name


def _check_name_free(name: str, field: str, allowed: Tag | None = None) -> None:
    """Refuse a name that already resolves to another live tag (or alias)."""
    slug = taxonomy.make_slug(name, 120)
    owner = db.session.scalar(select(Tag).where(Tag.slug == slug))
    if owner is None:
        alias = db.session.scalar(select(TagAlias).where(TagAlias.slug == slug))
        owner = alias.tag if alias else None
    if owner is not None and owner != allowed:
        survivor = taxonomy.find_tag(owner.slug) or owner
        message = f"“{name}” is already the tag “{survivor.name}” or one of its aliases or old names."
        raise Conflict(message, {field: message})


def create_tag(actor, name: str, description: str = "") -> Tag:
    """A new tag.

    :raise Forbidden: unless the actor may create tags.
    :raise Invalid: if the name is empty or too long.
    :raise Conflict: if the name is already a tag or an alias.
    """
    policy.require(policy.can_create_tag(actor), "Only curators can create tags.")
    name = _clean(name)
    _check_name_free(name, "name")
    tag = Tag(name=name, slug=taxonomy.unique_slug(Tag, name, max_length=120),
              description=(description or "").strip())
    db.session.add(tag)
    db.session.flush()
    record_event(actor, "create_tag", tag)
    return tag


def rename_tag(actor, tag: Tag, new_name: str) -> Tag:
    """Give the tag a new name and address; the old address keeps working
    (kept as an alias slug) and every story carrying it is reindexed.

    :raise Invalid: if the name is empty or too long.
    :raise Conflict: if the new name belongs to another tag.
    """
    policy.require(policy.can_manage_tags(actor), "Only curators can rename tags.")
    if tag.is_merged:
        raise Invalid("A merged tag cannot be renamed.", {"name": "Rename the tag it was merged into instead."})
    new_name = _clean(new_name)
    old_name, old_slug = tag.name, tag.slug
    if new_name == old_name:
        return tag
    _check_name_free(new_name, "name", allowed=tag)
    new_slug = taxonomy.make_slug(new_name, 120)
    if new_slug != old_slug:
        # The alias that took the new slug (a synonym being promoted) gives way.
        for alias in list(tag.aliases):
            if alias.slug == new_slug:
                tag.aliases.remove(alias)
        db.session.flush()
        tag.slug = taxonomy.unique_slug(Tag, new_name, exclude_id=tag.id, max_length=120)
        db.session.flush()
        tag.aliases.append(TagAlias(name=old_name, slug=old_slug))
    tag.name = new_name
    db.session.flush()
    record_index_change(*story_ids_with_tag(tag))
    record_event(actor, "rename_tag", tag, {"from": old_name, "to": new_name, "old_slug": old_slug})
    return tag


def set_description(actor, tag: Tag, description: str) -> Tag:
    """Change the description shown on the tag's page."""
    policy.require(policy.can_manage_tags(actor), "Only curators can describe tags.")
    description = (description or "").strip()
    if len(description) > 2000:
        message = "A description must be 2,000 characters or fewer."
        raise Invalid(message, {"description": message})
    tag.description = description
    record_event(actor, "describe_tag", tag)
    return tag


def add_alias(actor, tag: Tag, name: str) -> TagAlias:
    """A synonym that resolves to the tag, in curation and in search.

    :raise Conflict: if the name already belongs to a tag or alias.
    """
    policy.require(policy.can_manage_tags(actor), "Only curators can add aliases.")
    if tag.is_merged:
        raise Invalid("A merged tag cannot have aliases.", {"alias": "Add the alias to the tag it was merged into."})
    name = _clean(name, "alias")
    _check_name_free(name, "alias")
    alias = TagAlias(name=name, slug=taxonomy.make_slug(name, 120))
    tag.aliases.append(alias)
    db.session.flush()
    record_index_change(*story_ids_with_tag(tag))
    record_event(actor, "add_tag_alias", tag, {"alias": name})
    return alias


def remove_alias(actor, tag: Tag, alias_id: int) -> None:
    """Remove one alias of the tag (its address, if any, stops redirecting).

    :raise NotFound: if the tag has no such alias.
    """
    policy.require(policy.can_manage_tags(actor), "Only curators can remove aliases.")
    alias = next((a for a in tag.aliases if a.id == alias_id), None)
    if alias is None:
        raise NotFound("This tag has no such alias.")
    tag.aliases.remove(alias)
    db.session.flush()
    record_index_change(*story_ids_with_tag(tag))
    record_event(actor, "remove_tag_alias", tag, {"alias": alias.name})


def merge_tags(actor, source: Tag, target: Tag) -> Tag:
    """Merge ``source`` into ``target``: its stories carry ``target`` instead,
    its name and aliases become ``target``'s aliases, its address redirects.

    :raise Invalid: if the two are the same tag or either is already merged.
    """
    plan_merge(actor, source, target)
    moved = story_ids_with_tag(source)
    already = set(story_ids_with_tag(target))
    affected = sorted(set(moved) | already)
    db.session.execute(delete(story_tags).where(story_tags.c.tag_id == source.id))
    new_rows = [{"story_id": sid, "tag_id": target.id} for sid in moved if sid not in already]
    if new_rows:
        db.session.execute(insert(story_tags), new_rows)
    for alias in list(source.aliases):
        source.aliases.remove(alias)
        db.session.flush()
        target.aliases.append(TagAlias(name=alias.name, slug=alias.slug))
    db.session.flush()
    if not any(a.slug == source.slug for a in target.aliases):
        target.aliases.append(TagAlias(name=source.name, slug=source.slug))
    for earlier in db.session.scalars(select(Tag).where(Tag.merged_into_id == source.id)):
        earlier.merged_into_id = target.id
    source.merged_into_id = target.id
    db.session.flush()
    db.session.expire_all()
    record_index_change(*affected)
    record_event(actor, "merge_tag", source, {"into": target.name, "into_id": target.id, "stories": len(moved)})
    return target


@dataclass
class MergePlan:
    """What merging ``source`` into ``target`` would do, for a confirmation page."""

    source: Tag
    target: Tag
    moving: int  # stories that will carry the target instead
    already: int  # stories that carry both; they keep the target once
    aliases: list[str]  # the source's aliases, which move to the target


def plan_merge(viewer, source: Tag, target: Tag) -> MergePlan:
    """What ``merge_tags(source, target)`` would change, changing nothing.

    :raise Invalid: as ``merge_tags`` would.
    """
    policy.require(policy.can_manage_tags(viewer), "Only curators can merge tags.")
    if source.id == target.id:
        raise Invalid("A tag cannot be merged into itself.", {"target": "Choose a different tag to merge into."})
    if source.is_merged or target.is_merged:
        raise Invalid("That tag has already been merged.", {"target": "Choose a tag that has not been merged."})
    moved, already = set(story_ids_with_tag(source)), set(story_ids_with_tag(target))
    return MergePlan(source, target, len(moved - already), len(moved & already), [a.name for a in source.aliases])


def delete_tag(actor, tag: Tag) -> None:
    """Delete a tag no story carries and nothing was merged into.

    :raise Conflict: if it is in use.
    """
    policy.require(policy.can_manage_tags(actor), "Only curators can delete tags.")
    count = usage_count(tag)
    if count:
        raise Conflict(f"“{tag.name}” is used by {count} {'story' if count == 1 else 'stories'}; "
                       "merge it into another tag instead.")
    if db.session.scalar(select(func.count()).select_from(Tag).where(Tag.merged_into_id == tag.id)):
        raise Conflict(f"Other tags were merged into “{tag.name}”, and their addresses redirect to it.")
    record_event(actor, "delete_tag", tag, {"name": tag.name})
    db.session.delete(tag)
    db.session.flush()


# Near-duplicates -----------------------------------------------------------

def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and re.search(r"(sses|xes|zes|ches|shes)$", word):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def fold(name: str) -> str:
    """The key two names share when they differ only in case, accents,
    spacing, punctuation or simple plurals: "Local Gov", "local-gov" and
    "localgov" all fold to "localgov"."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().casefold()
    words = re.findall(r"[a-z0-9]+", text)
    return "".join(_singular(word) for word in words)


def near_duplicates(viewer) -> list[list[TagUsage]]:
    """Groups of live tags whose names (or aliases) fold to the same key,
    most used first in each group; the groups in name order.

    :raise Forbidden: unless the viewer manages tags.
    """
    usages = list_tags(viewer)
    groups: dict[str, list[TagUsage]] = {}
    for usage in usages:
        keys = {fold(usage.tag.name)} | {fold(alias.name) for alias in usage.tag.aliases}
        for key in keys - {""}:
            group = groups.setdefault(key, [])
            if usage not in group:
                group.append(usage)
    seen, out = set(), []
    for group in groups.values():
        ids = frozenset(u.tag.id for u in group)
        if len(ids) > 1 and ids not in seen:
            seen.add(ids)
            out.append(sorted(group, key=lambda u: (-u.stories, u.tag.name.lower())))
    return sorted(out, key=lambda g: g[0].tag.name.lower())
