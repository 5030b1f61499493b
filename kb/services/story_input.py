"""A story's fields as sent (a form, the API, an import row) made into the
services' clean values: text without control characters and within the limits
of kb/models/story.py, names, links, action areas, adoptions, dates, evidence
levels, contact and place; ``Invalid`` with a message per field otherwise.
Nothing here reads or writes a story: see ``stories`` for that."""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from kb import dates, reference
from kb.errors import Invalid
from kb.models import EVIDENCE_LEVELS, GOVERNMENT_LEVELS, KINDS, SECTIONS, STAGES
from kb.models.story import LIMITS, LINK_RELS, MAX_ADOPTIONS, MAX_LINKS
from kb.services import taxonomy

CONTACT_FIELDS = ("contact_name", "contact_role", "contact_organisation")
# Text fields checked against their limit: too long is an error at the field.
TEXT_FIELDS = {name: LIMITS[name] for name in (
    "title", "summary", "body", "place", "sector", *SECTIONS, "evidence_level_reason", *CONTACT_FIELDS)}
LIST_FIELDS = ("organisations", "people", "tags", "suggested_tags", "suggested_areas", "related", "methods")
# Fields that take one of a few values: (field, the values, the message for another).
CHOICE_FIELDS = (
    ("kind", KINDS, "“{value}” is not a kind of story kb knows: use one of {known}."),
    ("stage", STAGES, "Choose a stage from the list."),
    ("government_level", GOVERNMENT_LEVELS, "“{value}” is not a level of government kb knows: use one of {known}."),
)
# Where a story came from: set by imports and curators only, so that nobody can
# claim a record's source id and have the real record skipped on import.
SOURCE_FIELDS = ("source", "source_id")
# Enough to catch typing mistakes (accounts use it too).
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url


def clean_text(value) -> str:
    """Text without control characters (tabs and line breaks stay), trimmed."""
    return _CONTROL.sub("", str(value if value is not None else "")).strip()


def _names(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple, set)):
        value = str(value).splitlines()
    seen, names = set(), []
    for item in value:
        name = taxonomy.clean_name(clean_text(item))
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name[:LIMITS["name"]])
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
        url = clean_text(item.get("url"))
        title = clean_text(item.get("title"))[:LIMITS["link_title"]]
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
        links.append({"url": url[:LIMITS["link_url"]], "title": title or url[:LIMITS["link_title"]], "rel": rel, "tags": _names(tags)})
    if len(links) > MAX_LINKS:
        errors["links"] = f"A story can have at most {MAX_LINKS} links."
    return links


def _action_areas(value, errors: dict) -> list[dict]:
    if isinstance(value, dict):
        value = [{"slug": k, "reason": v} for k, v in value.items()]
    known = {area.slug for area in taxonomy.all_action_areas()}
    areas, seen = [], set()
    for item in _items(value, "action_areas", errors):
        slug = clean_text(item.get("slug"))
        if slug not in known:
            errors["action_areas"] = f"“{slug}” is not one of the four action areas."
            continue
        if slug not in seen:
            seen.add(slug)
            areas.append({"slug": slug, "reason": clean_text(item.get("reason"))[:LIMITS["area_reason"]]})
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
            out[field] = clean_text(data[field])
            if len(out[field]) > limit:
                errors[field] = f"{field.replace('_', ' ').capitalize()} must be {limit:,} characters or fewer."
    if "title" in data and not out.get("title"):
        errors["title"] = "Enter a title."
    for field, known, message in CHOICE_FIELDS:
        if field in data:
            out[field] = clean_text(data[field])
            if out[field] and out[field] not in known:
                errors[field] = message.format(value=out[field][:60], known=", ".join(known))
    if "published_on" in data:
        try:
            out["published_on"] = dates.parse(data["published_on"])
        except (ValueError, TypeError):
            errors["published_on"] = ("Date first published must be a real date: a year, a month or a day, "
                                      "like 2020, March 2020 or 4 March 2020.")
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
        out["adapted_from"] = clean_text(data["adapted_from"])[:LIMITS["slug"]]
    for field in SOURCE_FIELDS:
        if field in data:
            out[field] = clean_text(data[field])[:LIMITS[field]]
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
        out["contact_email"] = clean_text(data["contact_email"])
        email = out["contact_email"]
        if email and (len(email) > LIMITS["contact_email"] or not EMAIL_PATTERN.match(email)):
            errors["contact_email"] = "Enter an email address in the correct format, like name@example.org"
    if "contact_url" in data:
        out["contact_url"] = clean_text(data["contact_url"])
        if out["contact_url"] and (len(out["contact_url"]) > LIMITS["contact_url"] or not is_web_url(out["contact_url"])):
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
        text = clean_text(data["country"])
        out["country"] = reference.find_country(text)
        if text and not out["country"]:
            errors["country"] = "Choose a country from the list."
    if "authority_code" in data:
        text = clean_text(data["authority_code"])
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
        organisation = taxonomy.clean_name(clean_text(item.get("organisation")))[:LIMITS["name"]]
        year, story_slug, note = item.get("year"), clean_text(item.get("story"))[:LIMITS["slug"]], \
            clean_text(item.get("note"))[:LIMITS["adoption_note"]]
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


def review_errors(fields: dict) -> dict[str, str]:
    """What a story with these fields lacks before review, as {field: message}:
    a title, a kind, a summary, and at least one link if it is a link or a reading list."""
    errors: dict[str, str] = {}
    _check_complete(fields, errors)
    if fields.get("kind") in ("link", "reading_list") and not fields.get("links"):
        errors.setdefault("links", "Add at least one link: a link or a reading list is made of links.")
    return errors
