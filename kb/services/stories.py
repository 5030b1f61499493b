"""Stories: create, edit, and move through review. Every save keeps a
revision, every status change an audit event, every change an index change."""
from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from kb import policy
from kb.errors import Invalid, NotFound
from kb.extensions import db
from kb import reference
from kb.models import EVIDENCE_LEVELS, GOVERNMENT_LEVELS, KINDS, SECTIONS, STAGES, Adoption, Link, Organisation, Person, Story, StoryActionArea
from kb.models.base import utcnow
from kb.models.story import LINK_RELS
from kb.services import notifications, taxonomy
from kb.services.audit import record_event
from kb.services.changes import record_index_change
from kb.services.revisions import record_revision
from kb.services.suggestions import refresh_story as refresh_suggestions

SECTION_LIMIT = 20_000
CONTACT_FIELDS = {"contact_name": 200, "contact_role": 200, "contact_organisation": 200}
TEXT_FIELDS = {"title": 300, "summary": 1000, "body": 200_000, "place": 200, "sector": 200,
               **{name: SECTION_LIMIT for name in SECTIONS}, "evidence_level_reason": 2000, **CONTACT_FIELDS}
LIST_FIELDS = ("organisations", "people", "tags", "suggested_tags", "suggested_areas", "related", "methods")
CURATED_FIELDS = ("tags", "action_areas", "featured", "related", "evidence_level", "contact_hidden")
# Where a story came from: set by imports and curators only, so that nobody can
# claim a record's source id and have the real record skipped on import.
SOURCE_FIELDS = ("source", "source_id")
# Set as they come (after cleaning) on the story's own columns.
PLAIN_FIELDS = (
    "title", "kind", "summary", "body", "published_on", "place", "sector", "stage", *SECTIONS, "featured",
    "suggested_tags", "suggested_areas", "source", "source_id", "evidence_level", "proposed_evidence_level",
    "evidence_level_reason", *CONTACT_FIELDS, "contact_email", "contact_url", "contact_agreed",
    "contact_hidden", "country", "authority_code", "methods", "government_level",
)
EDITABLE_FIELDS = (
    *PLAIN_FIELDS, "organisations", "people", "links", "action_areas", "tags", "related", "adoptions",
    "adapted_from",
    "evidence",  # the old name of ``results``, still read
)
MAX_LINKS = 500
MAX_ADOPTIONS = 200
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Reading -------------------------------------------------------------------

def get_story(viewer, slug: str) -> Story:
    """The story at ``slug`` if the viewer may see it; NotFound otherwise
    (a draft is as absent as a story that never existed)."""
    story = db.session.scalar(select(Story).where(Story.slug == slug))
    if story is None or not policy.can_view_story(viewer, story):
        raise NotFound("There is no story at this address.")
    return story


def get_own_story(actor, slug: str) -> Story:
    """The story at ``slug`` if ``actor`` submitted it; NotFound otherwise, so that
    nobody learns which drafts of others exist."""
    story = db.session.scalar(select(Story).where(Story.slug == slug))
    if story is None or not policy.is_owner(actor, story):
        raise NotFound("You have no story at this address.")
    return story


def own_stories(actor) -> list[Story]:
    """Every story ``actor`` submitted, most recently changed first."""
    if not policy.is_signed_in(actor) or getattr(actor, "id", None) is None:
        return []
    query = select(Story).where(Story.submitted_by_id == actor.id).order_by(Story.updated_at.desc(), Story.id.desc())
    return list(db.session.scalars(query))


def existing_slugs(slugs) -> set[str]:
    """Which of ``slugs`` are the addresses of stories."""
    return set(db.session.scalars(select(Story.slug).where(Story.slug.in_(list(slugs)))))


def get_story_by_id(viewer, story_id: int) -> Story:
    story = db.session.get(Story, story_id)
    if story is None or not policy.can_view_story(viewer, story):
        raise NotFound("There is no such story.")
    return story


# Input ---------------------------------------------------------------------

def parse_date(value) -> date | None:
    """A date from a date, a datetime, or text as YYYY, YYYY-MM, YYYY-MM-DD or ISO 8601."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern, fmt in ((r"\d{4}", "%Y"), (r"\d{4}-\d{2}", "%Y-%m"), (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d")):
        if re.fullmatch(pattern, text):
            return datetime.strptime(text, fmt).date()
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url


def _text(value) -> str:
    return _CONTROL.sub("", str(value if value is not None else "")).strip()


def _names(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple, set)):
        value = str(value).splitlines()
    seen, names = set(), []
    for item in value:
        name = taxonomy.clean_name(_text(item))
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name[:200])
    return names


def _items(value, field: str, errors: dict) -> list[dict]:
    """A list of objects from a list of objects or strings (a string is the key field)."""
    if value in (None, ""):
        return []
    if not isinstance(value, (list, tuple)):
        errors[field] = "Give a list."
        return []
    items = []
    for item in value:
        if isinstance(item, str):
            item = {"url" if field == "links" else "slug": item}
        if not isinstance(item, dict):
            errors[field] = "Each item must be an object or a string."
            continue
        items.append(item)
    return items


def _links(value, errors: dict) -> list[dict]:
    links = []
    for n, item in enumerate(_items(value, "links", errors), start=1):
        url = _text(item.get("url"))
        title = _text(item.get("title"))[:500]
        if not url and not title:
            continue
        if not is_web_url(url):
            errors.setdefault("links", f"Link {n}: enter a full web address, like https://www.example.org/report")
            continue
        rel = item.get("rel") or "related"
        if rel not in LINK_RELS:
            rel = "related"
        tags = item.get("tags") or []
        if isinstance(tags, str):
            tags = tags.split()
        links.append({"url": url[:2000], "title": title or url[:500], "rel": rel, "tags": _names(tags)})
    if len(links) > MAX_LINKS:
        errors["links"] = f"A story can have at most {MAX_LINKS} links."
    return links


def _action_areas(value, errors: dict) -> list[dict]:
    if isinstance(value, dict):
        value = [{"slug": k, "reason": v} for k, v in value.items()]
    known = {area.slug for area in taxonomy.all_action_areas()}
    areas, seen = [], set()
    for item in _items(value, "action_areas", errors):
        slug = _text(item.get("slug"))
        if slug not in known:
            errors["action_areas"] = f"“{slug}” is not one of the four action areas."
            continue
        if slug not in seen:
            seen.add(slug)
            areas.append({"slug": slug, "reason": _text(item.get("reason"))[:300]})
    return areas


def clean_story_input(data: dict, *, complete: bool) -> dict:
    """Normalise the fields present in ``data``; raise Invalid with a message per field.

    ``complete`` asks for what a story needs before review (kind and summary);
    a draft needs only a title.
    """
    errors: dict[str, str] = {}
    out: dict = {}
    if "evidence" in data and "results" not in data:
        data = {**data, "results": data["evidence"]}
    for field, limit in TEXT_FIELDS.items():
        if field in data:
            out[field] = _text(data[field])
            if len(out[field]) > limit:
                errors[field] = f"{field.replace('_', ' ').capitalize()} must be {limit:,} characters or fewer."
    if "title" in data and not out.get("title"):
        errors["title"] = "Enter a title."
    if "kind" in data:
        out["kind"] = _text(data["kind"])
        if out["kind"] and out["kind"] not in KINDS:
            errors["kind"] = (f"“{out['kind'][:60]}” is not a kind of story kb knows: "
                              f"use one of {', '.join(KINDS)}.")
    if "stage" in data:
        out["stage"] = _text(data["stage"])
        if out["stage"] and out["stage"] not in STAGES:
            errors["stage"] = "Choose a stage from the list."
    if "government_level" in data:
        out["government_level"] = _text(data["government_level"])
        if out["government_level"] and out["government_level"] not in GOVERNMENT_LEVELS:
            errors["government_level"] = (f"“{out['government_level'][:60]}” is not a level of government kb knows: "
                                          f"use one of {', '.join(GOVERNMENT_LEVELS)}.")
    if "published_on" in data:
        try:
            out["published_on"] = parse_date(data["published_on"])
        except (ValueError, TypeError):
            errors["published_on"] = "Date first published must be a real date."
    for field in LIST_FIELDS:
        if field in data:
            out[field] = _names(data[field])
    if "links" in data:
        out["links"] = _links(data["links"], errors)
    if "action_areas" in data:
        out["action_areas"] = _action_areas(data["action_areas"], errors)
    if "suggested_areas" in out:
        known = {area.slug for area in taxonomy.all_action_areas()}
        out["suggested_areas"] = [slug for slug in out["suggested_areas"] if slug in known]
    if "featured" in data:
        out["featured"] = bool(data["featured"])
    _evidence_level(data, out, errors)
    _contact(data, out, errors)
    _place(data, out, errors)
    if "adoptions" in data:
        out["adoptions"] = _adoptions(data["adoptions"], errors)
    if "adapted_from" in data:
        out["adapted_from"] = _text(data["adapted_from"])[:320]
    for field in ("source", "source_id"):
        if field in data:
            out[field] = _text(data[field])[:300]
    if complete:
        _check_complete(out, errors)
    if errors:
        raise Invalid("There is a problem with the story.", errors)
    return out


def _level(value):
    """A level 0-5 from a number or its text, None for nothing; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError
    level = int(str(value).strip())
    if level not in EVIDENCE_LEVELS:
        raise ValueError
    return level


def _evidence_level(data: dict, out: dict, errors: dict) -> None:
    for field in ("evidence_level", "proposed_evidence_level"):
        if field in data:
            try:
                out[field] = _level(data[field])
            except (TypeError, ValueError):
                errors[field] = "Choose an evidence level from 0 to 5."
    if out.get("evidence_level", 0) is None:
        out["evidence_level"] = 0
    if out.get("proposed_evidence_level") == 0:
        # "Not yet assessed" proposes nothing.
        out["proposed_evidence_level"] = None


def _contact(data: dict, out: dict, errors: dict) -> None:
    if "contact_email" in data:
        out["contact_email"] = _text(data["contact_email"])
        if out["contact_email"] and (len(out["contact_email"]) > 320 or not EMAIL_PATTERN.match(out["contact_email"])):
            errors["contact_email"] = "Enter an email address in the correct format, like name@example.org"
    if "contact_url" in data:
        out["contact_url"] = _text(data["contact_url"])
        if out["contact_url"] and (len(out["contact_url"]) > 2000 or not is_web_url(out["contact_url"])):
            errors["contact_url"] = "Enter a full web address, like https://www.example.org/contact"
    for field in ("contact_agreed", "contact_hidden"):
        if field in data:
            out[field] = bool(data[field]) and str(data[field]).lower() not in ("0", "false", "no", "n")
    if out.get("contact_agreed") and not out.get("contact_name", data.get("contact_name", "x")):
        errors.setdefault("contact_name", "Enter the contact's name, or untick that they agreed to be named.")
    if out.get("contact_agreed") and ("contact_email" in out or "contact_url" in out) \
            and not (out.get("contact_email") or out.get("contact_url")):
        errors.setdefault("contact_email", "Enter an email address or a web address for the contact.")


def _place(data: dict, out: dict, errors: dict) -> None:
    """Country and authority from codes or names; the authority decides the country."""
    if "country" in data:
        text = _text(data["country"])
        out["country"] = reference.find_country(text)
        if text and not out["country"]:
            errors["country"] = "Choose a country from the list."
    if "authority_code" in data:
        text = _text(data["authority_code"])
        found = reference.find_authority(text)
        out["authority_code"] = found.code if found else ""
        if text and not found:
            errors["authority_code"] = "Enter the name or code of a UK local authority."
        elif found:
            if out.get("country", reference.UK) not in ("", reference.UK):
                errors["authority_code"] = "A UK local authority can only go with the United Kingdom."
            out["country"] = reference.UK


def _adoptions(value, errors: dict) -> list[dict]:
    """Adoptions from a list of objects: organisation (needed), year, story (a slug), note."""
    adoptions = []
    for n, item in enumerate(_items(value, "adoptions", errors), start=1):
        organisation = taxonomy.clean_name(_text(item.get("organisation")))[:200]
        year, story_slug, note = item.get("year"), _text(item.get("story"))[:320], _text(item.get("note"))[:500]
        if not (organisation or year or story_slug or note):
            continue
        if not organisation:
            errors.setdefault("adoptions", f"Adoption {n}: enter the organisation that took the idea up.")
            continue
        if year in (None, ""):
            year = None
        else:
            try:
                year = int(str(year).strip())
            except ValueError:
                year = 0
            if not 1900 <= year <= date.today().year + 1:
                errors.setdefault("adoptions", f"Adoption {n}: the year must be a year like 2019.")
                continue
        adoptions.append({"organisation": organisation, "year": year, "story": story_slug, "note": note})
    if len(adoptions) > MAX_ADOPTIONS:
        errors["adoptions"] = f"A story can record at most {MAX_ADOPTIONS} adoptions."
    return adoptions


def _check_complete(fields: dict, errors: dict) -> None:
    if not fields.get("kind"):
        errors.setdefault("kind", "Choose what kind of story this is.")
    if not fields.get("summary"):
        errors.setdefault("summary", "Enter a summary of the story.")
    if not fields.get("title"):
        errors.setdefault("title", "Enter a title.")


# Writing -------------------------------------------------------------------

def apply_fields(actor, story: Story, fields: dict, *, imported: bool = False, names=taxonomy) -> None:
    """Set ``fields`` on ``story``; tags, organisations and people found or
    made through ``names`` (``taxonomy``, or an import's ``importing.Lookup``).
    An imported story keeps the address it was given."""
    if any(field in fields for field in CURATED_FIELDS):
        policy.require(policy.can_curate_story(actor, story), "Only curators can set tags, action areas and features.")
    if not imported and any(fields.get(field) != getattr(story, field) for field in SOURCE_FIELDS if field in fields):
        policy.require(policy.can_set_story_source(actor, story),
                       "Only curators can set where a story came from (source and source id).")
    for field in PLAIN_FIELDS:
        if field in fields:
            setattr(story, field, fields[field])
    if not (story.country or story.authority_code) and story.place:
        # The free text says where, as far as a known country or authority name goes.
        story.country, story.authority_code = reference.place_from_text(story.place)
    if "title" in fields and not imported and story.status != "published" and story.slug != taxonomy.make_slug(fields["title"]):
        # A published story's address is stable; a draft's follows its title.
        story.slug = taxonomy.unique_slug(Story, fields["title"], exclude_id=story.id)
    if "organisations" in fields:
        story.organisations = names.find_or_create_named(Organisation, fields["organisations"])
    if "people" in fields:
        story.people = names.find_or_create_named(Person, fields["people"])
    if "links" in fields:
        story.links = [Link(**link) for link in fields["links"]]
    if "tags" in fields:
        story.tags = names.find_or_create_tags(actor, fields["tags"])
    if "action_areas" in fields:
        by_slug = {area.slug: area for area in taxonomy.all_action_areas()}
        story.area_links = [
            StoryActionArea(action_area=by_slug[item["slug"]], reason=item["reason"])
            for item in fields["action_areas"]
        ]
    if "related" in fields:
        related = db.session.scalars(select(Story).where(Story.slug.in_(fields["related"]))).all()
        story.related = [s for s in related if s.id != story.id]
    if "adapted_from" in fields:
        story.adapted_from = _story_by_slug(fields["adapted_from"], story, "adapted_from")
    if "adoptions" in fields:
        story.adoptions = [
            Adoption(organisation=taxonomy.find_or_create_organisation(item["organisation"]), year=item["year"],
                     adopter_story=_story_by_slug(item["story"], story, "adoptions"), note=item["note"])
            for item in fields["adoptions"]
        ]


def _story_by_slug(slug: str, story: Story, field: str) -> Story | None:
    """The other story at ``slug`` (None for no slug); Invalid if there is none, or it is this one."""
    if not slug:
        return None
    other = db.session.scalar(select(Story).where(Story.slug == slug))
    if other is None or other.id == story.id:
        message = f"There is no other story at “{slug}”."
        raise Invalid("There is a problem with the story.", {field: message})
    return other


def create_story(actor, data: dict, *, reason: str = "Created") -> Story:
    """A new draft story submitted by ``actor``."""
    policy.require(policy.can_create_story(actor), "Sign in to submit a story.")
    fields = clean_story_input({"title": "", **data}, complete=False)
    story = Story(
        status="draft",
        kind="",
        title=fields["title"],
        slug=taxonomy.unique_slug(Story, fields["title"]),
        submitted_by_id=getattr(actor, "id", None),
    )
    db.session.add(story)
    # An id now, so that a title shared with another story keeps the slug made for it.
    db.session.flush()
    apply_fields(actor, story, fields)
    db.session.flush()
    record_revision(actor, story, reason)
    record_index_change(story.id)
    refresh_suggestions(story)
    return story


def update_story(actor, story: Story, data: dict, *, reason: str = "Edited") -> Story:
    """Change the fields present in ``data``."""
    policy.require(policy.can_edit_story(actor, story), "You cannot edit this story.")
    fields = clean_story_input({k: v for k, v in data.items() if k in EDITABLE_FIELDS}, complete=False)
    apply_fields(actor, story, fields)
    db.session.flush()
    record_revision(actor, story, reason)
    record_index_change(story.id)
    refresh_suggestions(story)
    return story


def _change_status(actor, story: Story, status: str, action: str, note: str = "") -> Story:
    story.status = status
    if note or action in ("publish", "submit"):
        story.review_note = note
    db.session.flush()
    record_revision(actor, story, note or action.replace("_", " ").capitalize())
    record_event(actor, action, story, {"status": status, "note": note} if note else {"status": status})
    record_index_change(story.id)
    return story


def review_errors(fields: dict) -> dict[str, str]:
    """What a story with these fields lacks before review, as {field: message}:
    a title, a kind, a summary, and at least one link if it is a link or a reading list."""
    errors: dict[str, str] = {}
    _check_complete(fields, errors)
    if fields.get("kind") in ("link", "reading_list") and not fields.get("links"):
        errors.setdefault("links", "Add at least one link: a link or a reading list is made of links.")
    return errors


def check_complete(story: Story) -> None:
    """Raise Invalid unless the story has what review needs (see ``review_errors``)."""
    errors = review_errors({"title": story.title, "kind": story.kind, "summary": story.summary,
                            "links": list(story.links)})
    if errors:
        raise Invalid("The story is not ready for review yet.", errors)


def submit_story(actor, story: Story) -> Story:
    policy.require(policy.can_submit_story(actor, story), "This story cannot be submitted now.")
    check_complete(story)
    story.submitted_at = utcnow()
    return _change_status(actor, story, "submitted", "submit")


def withdraw_story(actor, story: Story) -> Story:
    policy.require(policy.can_withdraw_story(actor, story), "This story cannot be withdrawn now.")
    return _change_status(actor, story, "withdrawn", "withdraw")


def publish_story(actor, story: Story, note: str = "") -> Story:
    policy.require(policy.can_publish_story(actor, story), "Only curators can publish stories.")
    check_complete(story)
    if story.first_published_at is None:
        story.first_published_at = utcnow()
    _change_status(actor, story, "published", "publish", _text(note))
    notifications.story_decided(actor, story, "published", story.review_note)
    return story


def _require_note(note: str, field: str, message: str) -> str:
    note = _text(note)
    if not note:
        raise Invalid(message, {field: message})
    return note


def request_changes(actor, story: Story, note: str) -> Story:
    policy.require(policy.can_request_changes(actor, story), "Changes cannot be requested for this story now.")
    note = _require_note(note, "note", "Enter a note telling the contributor what to change.")
    _change_status(actor, story, "changes_requested", "request_changes", note)
    notifications.story_decided(actor, story, "changes_requested", note)
    return story


def reject_story(actor, story: Story, reason: str) -> Story:
    policy.require(policy.can_reject_story(actor, story), "This story cannot be rejected now.")
    reason = _require_note(reason, "reason", "Enter the reason for rejecting the story.")
    _change_status(actor, story, "rejected", "reject", reason)
    notifications.story_decided(actor, story, "rejected", reason)
    return story


def unpublish_story(actor, story: Story, reason: str) -> Story:
    policy.require(policy.can_unpublish_story(actor, story), "Only curators can unpublish stories.")
    reason = _require_note(reason, "reason", "Enter the reason for unpublishing the story.")
    return _change_status(actor, story, "withdrawn", "unpublish", reason)


def set_featured(actor, story: Story, featured: bool) -> Story:
    policy.require(policy.can_curate_story(actor, story), "Only curators can feature stories.")
    story.featured = bool(featured)
    db.session.flush()
    record_revision(actor, story, "Featured" if featured else "No longer featured")
    record_event(actor, "feature" if featured else "unfeature", story)
    record_index_change(story.id)
    return story


# Finding imported stories ------------------------------------------------------

_TRACKING_PARAMS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")
# A folder's default page is the folder: /guide/index.html is /guide/.
_DEFAULT_PAGE = re.compile(r"/(index|default)\.(html?|php|aspx?)$", re.IGNORECASE)


def normalise_url(url: str) -> str:
    """A URL reduced to what identifies the page, so that two spellings of one
    address compare equal: no scheme (http and https alike), host in lower case
    without "www." or a default port, no folder's default page (index.html),
    no trailing slash, no fragment, no tracking parameters, the rest of the
    query sorted."""
    text = _text(url)
    try:
        parts = urlsplit(text)
        host, port = (parts.hostname or "").lower().removeprefix("www."), parts.port
    except ValueError:  # a malformed IPv6 host or port
        return text.lower()
    if parts.scheme.lower() not in ("http", "https") or not host:
        return text.lower()
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    pairs = [p for p in parts.query.split("&") if p and not p.lower().startswith(_TRACKING_PARAMS)]
    query = "&".join(sorted(pairs))
    path = _DEFAULT_PAGE.sub("", parts.path).rstrip("/")
    return netloc + path + (f"?{query}" if query else "")


def source_keys():
    """(source, source_id, slug, source link URL or None) for every story, for
    an import to tell which of its records kb already has."""
    query = (
        select(Story.source, Story.source_id, Story.slug, Link.url)
        .outerjoin(Link, (Link.story_id == Story.id) & (Link.rel == "source"))
    )
    return db.session.execute(query).all()


def find_by_source_url(url: str) -> Story | None:
    """A story whose source link is ``url`` once both are normalised, or None."""
    wanted = normalise_url(url)
    host = wanted.split("/", 1)[0].split("?", 1)[0]
    query = select(Link).where(Link.rel == "source", Link.url.contains(host)).order_by(Link.story_id)
    for link in db.session.scalars(query):
        if normalise_url(link.url) == wanted:
            return db.session.get(Story, link.story_id)
    return None
