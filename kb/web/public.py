"""Pages for readers: no account needed, published stories only."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, send_file, send_from_directory, url_for

from kb import policy, reference
from kb.models import EVIDENCE_LEVELS, SECTIONS, Organisation, Person
from kb.models.story import LIMITS
from kb.errors import NotFound
from kb.services import attachments, filing, listing, near_duplicates, spread, stories, taxonomy
from kb.web.hooks import actor
from kb.web.params import search_from

bp = Blueprint("public", __name__)


def page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def per_page() -> int:
    return current_app.config["PAGE_SIZE"]


@bp.app_context_processor
def case_record_terms() -> dict:
    """What story pages and forms need to name the case record's parts and places."""
    return {"section_names": list(SECTIONS), "limits": LIMITS,
            "evidence_levels": EVIDENCE_LEVELS, "authority_list": reference.authorities().values(),
            "authority_of": reference.authority, "country_name": reference.country_name}


@bp.get("/")
def home():
    """The front door: search, the four action areas with counts, featured and latest stories."""
    front = listing.front_page()
    return render_template(
        "home.html",
        areas=taxonomy.all_action_areas(),
        counts=front.counts,
        featured=front.featured,
        latest=front.latest,
        unfiled=filing.unfiled_count(actor()) if policy.can_view_suggestions(actor()) else None,
    )


@bp.get("/favicon.ico")
def favicon():
    """The icon browsers ask for on their own (feeds, JSON, downloads, old browsers)."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)


@bp.get("/about")
def about():
    """What kb is and where its taxonomy comes from."""
    return render_template("about.html", areas=taxonomy.all_action_areas())


@bp.get("/stories/<slug>")
def story(slug: str):
    """One story with every field; ``search`` (the search the reader came from)
    makes the breadcrumb go back to that search.

    A story merged into another leads there.

    :raise 404: if there is no such story, or the reader may not see it (a draft).
    """
    try:
        item = stories.get_story(actor(), slug)
    except NotFound:
        item = None
    if item is None or item.merged_into_id is not None:
        kept = near_duplicates.merged_into(actor(), slug)
        if kept is None:
            raise NotFound("There is no story at this address.")
        return redirect(url_for("public.story", slug=kept.slug), 301)
    return render_template("story.html", story=item, search_page=search_from(request.args.get("search")),
                           show_contact=policy.can_see_contact(actor(), item), spread=spread.spread_of(actor(), item))


@bp.get("/evidence")
def evidence_levels():
    """What each evidence level means (Nesta's Standards of Evidence)."""
    return render_template("evidence.html")


@bp.get("/spreading-ideas")
def spreading_ideas():
    """The ideas taken up most by other organisations."""
    return render_template("spreading.html", ideas=spread.most_taken_up())


@bp.get("/areas/<slug>")
def area(slug: str):
    """Published stories in one action area.

    :raise 404: if there is no such area.
    """
    item = taxonomy.get_action_area(slug)
    page = listing.stories_in_area(item, page_number(), per_page())
    suggested = filing.suggested_for_area(actor(), item) if policy.can_view_suggestions(actor()) else []
    return render_template("area.html", area=item, page=page, suggested=suggested)


DIRECTORIES = {
    "organisations": ("Organisations", "public.organisation"),
    "tags": ("Tags", "public.tag"),
    "people": ("People", "public.person"),
}


@bp.get("/organisations", defaults={"kind": "organisations"}, endpoint="organisations")
@bp.get("/tags", defaults={"kind": "tags"}, endpoint="tags")
@bp.get("/people", defaults={"kind": "people"}, endpoint="people")
def directory(kind: str):
    """Organisations, tags or people with published stories, A to Z with counts,
    filtered by ``q`` (part of a name) or ``letter``, in pages."""
    text = request.args.get("q", "")[:200]
    letter = request.args.get("letter", "")
    page = listing.directory(kind, text, letter, page_number())
    title, endpoint = DIRECTORIES[kind]
    return render_template("directory.html", kind=kind, title=title, endpoint=endpoint, page=page, q=text,
                           letter=letter if letter in listing.LETTERS else "", letters=listing.LETTERS)


@bp.get("/tags/<slug>")
def tag(slug: str):
    """Published stories with one tag; a merged or renamed tag redirects to its survivor.

    :raise 404: if no tag or alias has this slug.
    """
    survivor = taxonomy.tag_at(slug)
    if survivor.slug != slug:
        return redirect(url_for("public.tag", slug=survivor.slug), 301)
    page = listing.stories_with_tag(survivor, page_number(), per_page())
    return render_template("tag.html", tag=survivor, page=page)


@bp.get("/organisations/<slug>")
def organisation(slug: str):
    """Published stories from one organisation.

    :raise 404: if there is no such organisation.
    """
    item = taxonomy.get_by_slug(Organisation, slug)
    page = listing.stories_of_organisation(item, page_number(), per_page())
    return render_template("organisation.html", organisation=item, page=page,
                           taken_up=spread.taken_up_by(item), adapted_here=spread.adapted_stories(item, taken=True),
                           taken_from=spread.taken_from(item),
                           adapted_elsewhere=spread.adapted_stories(item, taken=False),
                           home_authority=reference.authority(item.home_authority_code))


@bp.get("/people/<slug>")
def person(slug: str):
    """Published stories by or about one person.

    :raise 404: if there is no such person.
    """
    item = taxonomy.get_by_slug(Person, slug)
    page = listing.stories_of_person(item, page_number(), per_page())
    return render_template("person.html", person=item, page=page)


@bp.get("/attachments/<int:attachment_id>/<path:filename>")
def attachment(attachment_id: int, filename: str):
    """Download a story's document, never rendered inline by the browser.

    :raise 404: if there is no such attachment or the reader may not see its story.
    """
    item = attachments.get_attachment(actor(), attachment_id, app=current_app)
    public = item.story.is_published
    response = send_file(
        attachments.stored_path(current_app, item.sha256),
        mimetype=item.content_type,
        as_attachment=True,
        download_name=item.filename,
        max_age=3600 if public else None,
    )
    if not public:
        # Only its owner and curators may see it: no shared cache may keep a copy.
        response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
