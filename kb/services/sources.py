"""Finding the stories an import already holds: by source and source id, or by
the address of their source link, compared in a normalised form."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from kb.extensions import db
from kb.models import Link, Organisation, Story
from kb.models.story import StoryOrganisation
from kb.services.story_input import clean_text

_TRACKING_PARAMS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")
# A folder's default page is the folder: /guide/index.html is /guide/.
_DEFAULT_PAGE = re.compile(r"/(index|default)\.(html?|php|aspx?)$", re.IGNORECASE)


def normalise_url(url: str) -> str:
    """A URL reduced to what identifies the page, so that two spellings of one
    address compare equal: no scheme (http and https alike), host in lower case
    without "www." or a default port, no folder's default page (index.html),
    no trailing slash, no fragment, no tracking parameters, the rest of the
    query sorted."""
    text = clean_text(url)
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


def title_rows():
    """(slug, title, organisation slug or None) for every story not merged into
    another, for an import to tell which of its records look like a story kb
    holds (``kb.likeness.title_key``)."""
    query = (
        select(Story.slug, Story.title, Organisation.slug)
        .outerjoin(StoryOrganisation, StoryOrganisation.story_id == Story.id)
        .outerjoin(Organisation, Organisation.id == StoryOrganisation.organisation_id)
        .where(Story.merged_into_id.is_(None))
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
