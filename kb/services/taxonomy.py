"""Finding and creating the named things stories refer to: tags, organisations,
people, action areas."""
from __future__ import annotations

import re

from slugify import slugify
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kb import policy, reference
from kb.errors import Invalid, NotFound
from kb.extensions import db
from kb.models import ActionArea, Organisation, Person, Tag, TagAlias
from kb.models.story import StoryOrganisation
from kb.services.changes import record_index_change

NAMES_LIMIT = 2000


def make_slug(text: str, max_length: int = 80) -> str:
    """A readable URL part: "Don't panic" -> "dont-panic"."""
    text = (text or "").replace("'", "").replace("\u2019", "")
    return slugify(text, max_length=max_length, word_boundary=True) or "untitled"


def clean_name(name: str) -> str:
    return " ".join(str(name or "").split())


def unique_slug(model, text: str, *, exclude_id: int | None = None, max_length: int = 80) -> str:
    """A slug for ``text`` that no other row of ``model`` has."""
    base = make_slug(text, max_length)
    slug, n = base, 1
    while True:
        query = select(model.id).where(model.slug == slug)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        if db.session.scalar(query) is None:
            return slug
        n += 1
        slug = f"{base}-{n}"


def all_action_areas() -> list[ActionArea]:
    return list(db.session.scalars(select(ActionArea).order_by(ActionArea.position)))


def get_action_area(slug: str) -> ActionArea:
    area = db.session.scalar(select(ActionArea).where(ActionArea.slug == slug))
    if area is None:
        raise NotFound("There is no such action area.")
    return area


def upsert_action_area(actor, slug: str, position: int, name: str, wording: str) -> ActionArea:
    policy.require(policy.can_manage_action_areas(actor))
    area = db.session.scalar(select(ActionArea).where(ActionArea.slug == slug))
    if area is None:
        area = ActionArea(slug=slug)
        db.session.add(area)
    area.position, area.name, area.wording = position, name, wording
    return area


def find_tag(name_or_slug: str) -> Tag | None:
    """The live tag a name, slug or alias resolves to (following merges), or None."""
    return Tag.by_slug(make_slug(name_or_slug, 120))


def tag_at(slug: str) -> Tag:
    """The live tag a tag's or alias's slug resolves to, following merges
    (its slug differs from ``slug`` when the address should redirect).

    :raise NotFound: if no tag or alias has this slug.
    """
    tag = Tag.by_slug(slug)
    if tag is None:
        raise NotFound("There is no such tag.")
    return tag


def find_or_create_tag(actor, name: str) -> Tag:
    """The tag ``name`` resolves to; a new one only if the actor may create tags."""
    name = clean_name(name)[:100]
    tag = find_tag(name)
    if tag is None:
        policy.require(policy.can_create_tag(actor), f"Only curators can create the new tag “{name}”.")
        tag = _insert_or_find(
            lambda: Tag(name=name, slug=unique_slug(Tag, name, max_length=120), description=""),
            lambda: find_tag(name))
    return tag


def find_or_create_tags(actor, names: list[str]) -> list[Tag]:
    """The tags these names resolve to (as ``find_or_create_tag``, in order and
    without repeats), looked up together: one query for the lot, not one per name."""
    names = [clean_name(name)[:100] for name in names]
    slugs = {name: make_slug(name, 120) for name in names}
    found = {tag.slug: tag for tag in db.session.scalars(select(Tag).where(Tag.slug.in_(set(slugs.values()))))}
    missing = set(slugs.values()) - set(found)
    if missing:
        for alias in db.session.scalars(select(TagAlias).where(TagAlias.slug.in_(missing))):
            found[alias.slug] = alias.tag
    tags: list[Tag] = []
    for name in names:
        tag = found.get(slugs[name])
        tag = tag.survivor if tag is not None else find_or_create_tag(actor, name)
        found[slugs[name]] = tag
        if tag not in tags:
            tags.append(tag)
    return tags


def find_or_create_named(model, names: list[str]) -> list:
    """Organisations or people by name, found together and created when new."""
    names = [clean_name(name) for name in names]
    slugs = {name: make_slug(name, 200) for name in names}
    found = {item.slug: item for item in db.session.scalars(select(model).where(model.slug.in_(set(slugs.values()))))}
    items = []
    for name in names:
        item = found.get(slugs[name])
        if item is None:
            item = found[slugs[name]] = _find_or_create_named(model, name)
        if item not in items:
            items.append(item)
    if model is Organisation:
        for item in items:
            fill_home_authority(item)
    return items


def _find_or_create_named(model, name: str):
    name = clean_name(name)
    slug = make_slug(name, 200)

    def find():
        return db.session.scalar(select(model).where(model.slug == slug))

    return find() or _insert_or_find(lambda: model(name=name, slug=slug), find)


def _insert_or_find(make, find, attempts: int = 3):
    """Insert ``make()`` in a savepoint; if another transaction inserted the same
    unique slug first (it waits for that one to commit), use theirs: find-or-create
    that two concurrent requests cannot turn into a 500.

    :raise IntegrityError: if the row still cannot be inserted nor found.
    """
    for attempt in range(attempts):
        try:
            with db.session.begin_nested():
                item = make()
                db.session.add(item)
            return item
        except IntegrityError:
            found = find()
            if found is not None:
                return found
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


_COUNCIL_WORDS = re.compile(r"\b(council|borough|city of|county)\b", re.IGNORECASE)


def find_or_create_organisation(name: str) -> Organisation:
    """The organisation of this name; a council's home authority is filled in from its name."""
    return fill_home_authority(_find_or_create_named(Organisation, name))


def fill_home_authority(organisation: Organisation) -> Organisation:
    """A council named after a UK local authority gets it as its home authority."""
    if not organisation.home_authority_code and _COUNCIL_WORDS.search(organisation.name):
        found = reference.find_authority(organisation.name)
        organisation.home_authority_code = found.code if found else ""
    return organisation


def set_home_authority(actor, organisation: Organisation, value: str) -> Organisation:
    """Set the local authority an organisation belongs to (a name or ONS code; empty for none).

    :raise Invalid: if ``value`` names no UK local authority.
    """
    policy.require(policy.can_edit_organisation(actor, organisation), "Only curators can change organisations.")
    text = str(value or "").strip()
    found = reference.find_authority(text)
    if text and not found:
        raise Invalid("There is a problem with the organisation.",
                      {"home_authority_code": "Enter the name or code of a UK local authority."})
    organisation.home_authority_code = found.code if found else ""
    db.session.flush()
    ids = db.session.scalars(select(StoryOrganisation.story_id).where(
        StoryOrganisation.organisation_id == organisation.id))
    for story_id in ids:
        record_index_change(story_id)
    return organisation


def find_or_create_person(name: str) -> Person:
    return _find_or_create_named(Person, name)


def get_by_slug(model, slug: str):
    item = db.session.scalar(select(model).where(model.slug == slug))
    if item is None:
        raise NotFound(f"There is no such {model.__name__.lower()}.")
    return item


def known_names(model) -> list[str]:
    """Names of organisations or people (``model``) to suggest as people type,
    in order, at most ``NAMES_LIMIT``."""
    return list(db.session.scalars(select(model.name).order_by(model.name).limit(NAMES_LIMIT)))
